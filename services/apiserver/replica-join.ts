/**
 * Joining a control-plane replica to a running cluster (`flotilla server --join URL --token T`):
 *
 * 1. The joiner fetches the server's certificate chain without trusting it and accepts it only if
 *    it holds the CA whose hash the token carries (libs/pki trust bootstrap).
 * 2. Over a connection verified against that CA it POSTs `/flotilla/v1/join` with the token's
 *    `<id>.<secret>` as bearer token, its name and store peer URL.
 * 3. The server checks the token is a bootstrap token for servers (group
 *    system:bootstrappers:flotilla:servers), adds the store member (Cluster.MemberAdd) and answers
 *    with the cluster CA, its key, the service account key and the store's members.
 * 4. The joiner writes those into its data directory and starts its store member with
 *    `--initial-cluster-state=existing` and the member list, then its API server.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { newBadRequest, newForbidden, newUnauthorized } from "../../libs/api/status-errors.ts";
import { bootstrapServerCa, caCertificateFileName, caKeyFileName, parseJoinToken, publicFileMode, secretFileMode, writeFileAtomic } from "../../libs/pki/index.ts";
import { bearerTokenOf, type TokenAuthenticator } from "./authn.ts";
import { serviceAccountKeyFileName } from "./certs.ts";
import { readBody, writeJson } from "./http.ts";

export const joinPath = "/flotilla/v1/join";
export const serverJoinGroup = "system:bootstrappers:flotilla:servers";
/** How long one join request may take (it adds a store member). */
export const joinRequestTimeoutMs = 30_000;
const joinBodyBytesMax = 64 * 1024;

export interface JoinDeps {
  readonly tokens: TokenAuthenticator;
  readonly caCertificatePem: string;
  readonly caKeyPem: string;
  readonly serviceAccountKeyPem: string;
  readonly storeEndpoints: readonly string[];
}

export interface JoinAnswer {
  readonly caCertificatePem: string;
  readonly caKeyPem: string;
  readonly serviceAccountKeyPem: string;
  /** `name=peerURL` for every store member, the new one included. */
  readonly initialCluster: string;
}

interface JoinRequestBody {
  readonly name: string;
  readonly peerUrl: string;
}

function parseJoinBody(bytes: Buffer): JoinRequestBody {
  const body = JSON.parse(bytes.toString("utf8")) as Partial<JoinRequestBody>;
  if (typeof body.name !== "string" || !/^[a-z0-9-]{1,63}$/.test(body.name)) throw newBadRequest("join: name must be 1-63 characters of [a-z0-9-]");
  if (typeof body.peerUrl !== "string" || !/^https?:\/\//.test(body.peerUrl)) throw newBadRequest("join: peerUrl must be an http(s) URL");
  return { name: body.name, peerUrl: body.peerUrl };
}

async function addStoreMember(endpoints: readonly string[], joiner: JoinRequestBody): Promise<string> {
  const client = new Etcd3({ hosts: [...endpoints] });
  try {
    const added = await client.cluster.memberAdd({ peerURLs: [joiner.peerUrl] });
    return added.members.map((member) => `${member.name === "" ? joiner.name : member.name}=${member.peerURLs[0] ?? ""}`).join(",");
  } finally {
    client.close();
  }
}

/** The server side of a join (a non-resource POST that only a server join token may make). */
export async function handleJoin(request: IncomingMessage, response: ServerResponse, deps: JoinDeps): Promise<void> {
  const token = bearerTokenOf(request.headers.authorization);
  const user = token === undefined ? undefined : await deps.tokens.authenticateToken(token);
  if (user === undefined) throw newUnauthorized("Unauthorized");
  if (!user.groups.includes(serverJoinGroup)) throw newForbidden({ group: "", resource: "" }, "", `User "${user.name}" may not join servers (the token was not made with --kind server)`);
  const joiner = parseJoinBody(await readBody(request, joinBodyBytesMax));
  const initialCluster = await addStoreMember(deps.storeEndpoints, joiner);
  const answer: JoinAnswer = { caCertificatePem: deps.caCertificatePem, caKeyPem: deps.caKeyPem, serviceAccountKeyPem: deps.serviceAccountKeyPem, initialCluster };
  writeJson(response, 200, answer);
}

async function postJoin(url: URL, caPem: string, bearer: string, body: JoinRequestBody): Promise<JoinAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      new URL(joinPath, url),
      { method: "POST", ca: caPem, headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" }, timeout: joinRequestTimeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (response.statusCode !== 200) reject(new Error(`the server refused the join (${response.statusCode ?? 0}): ${text}`));
          else resolve(JSON.parse(text) as JoinAnswer);
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no join answer within ${joinRequestTimeoutMs} ms`)));
    request.on("error", reject);
    request.end(JSON.stringify(body));
  });
}

/** The joiner's side: verify the server, join, and write the cluster's keys into `dataDir`. */
export async function joinCluster(options: { serverUrl: string; token: string; dataDir: string; name: string; peerUrl: string; nowMs: number }): Promise<JoinAnswer> {
  const token = parseJoinToken(options.token);
  if (token.caHashHex === null) throw new Error("--token must be the K10<CA hash>::<id>.<secret> form, so the server can be verified");
  const url = new URL(options.serverUrl);
  const caPem = await bootstrapServerCa({ target: { host: url.hostname, port: Number(url.port || "6443") }, caHashHex: token.caHashHex, nowMs: options.nowMs });
  const answer = await postJoin(url, caPem, `${token.id}.${token.secret}`, { name: options.name, peerUrl: options.peerUrl });
  if (answer.caCertificatePem.trim() !== caPem.trim()) throw new Error("the join answer names another CA than the one the token verified");
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(options.dataDir, caCertificateFileName), answer.caCertificatePem, { mode: publicFileMode, overwrite: false });
  await writeFileAtomic(join(options.dataDir, caKeyFileName), answer.caKeyPem, { mode: secretFileMode, overwrite: false });
  await writeFileAtomic(join(options.dataDir, serviceAccountKeyFileName), answer.serviceAccountKeyPem, { mode: secretFileMode, overwrite: false });
  return answer;
}
