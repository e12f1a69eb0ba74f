/**
 * Cluster operations run on a server machine against its data directory:
 * - `flotilla kubeconfig [--data-dir D] [--server URL] [--out F]`: an admin kubeconfig with a
 *   fresh client certificate (CN=admin, O=system:masters) from the cluster CA, printed or written
 *   0600.
 * - `flotilla token create [--data-dir D] [--ttl-hours N] [--kind server|agent]`: a bootstrap
 *   token stored as upstream's Secret (kube-system/bootstrap-token-<id>) through the API server in
 *   D/admin.kubeconfig, printed as `K10<CA hash>::<id>.<secret>` so the joiner can check the server.
 */
import { readFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { FlagError, flagsHelp, parseFlags, type FlagSpecs } from "../../libs/flags/index.ts";
import { adminClientProfile, buildKubeconfig, createToken, formatJoinToken, loadCa, parseKubeconfig, secretFileMode, writeFileAtomic } from "../../libs/pki/index.ts";
import { bootstrapTokenSecret } from "./authn-bootstrap.ts";
import { adminKubeconfigFileName } from "./certs.ts";

/** How long an API request of these commands may take. */
export const commandRequestTimeoutMs = 30_000;
const hourMs = 3600_000;

const kubeconfigFlags = {
  "data-dir": { type: "string", default: "/var/lib/flotilla", help: "the server's data directory (holds the cluster CA)" },
  server: { type: "string", default: "", help: "API server URL to put in the kubeconfig (default: the one in D/admin.kubeconfig)" },
  out: { type: "string", default: "", help: "write the kubeconfig here (mode 0600) instead of printing it" },
} as const satisfies FlagSpecs;

const tokenFlags = {
  "data-dir": { type: "string", default: "/var/lib/flotilla", help: "the server's data directory (CA and admin.kubeconfig)" },
  "ttl-hours": { type: "integer", default: 24, min: 1, max: 24 * 365, help: "hours until the token expires" },
  kind: { type: "enum", values: ["server", "agent"], default: "agent", help: "who may join with it: another server replica or an agent" },
  description: { type: "string", default: "", help: "a note stored with the token" },
} as const satisfies FlagSpecs;

async function adminKubeconfigOf(dataDir: string): Promise<ReturnType<typeof parseKubeconfig>> {
  return parseKubeconfig(await readFile(join(dataDir, adminKubeconfigFileName), "utf8"));
}

export async function kubeconfigMain(args: readonly string[]): Promise<number> {
  const parsed = parseFlags(kubeconfigFlags, args);
  if (parsed.help) {
    process.stdout.write(flagsHelp("flotilla kubeconfig [flags]\n\nPrint or write an admin kubeconfig with a new client certificate from the cluster CA.", kubeconfigFlags));
    return 0;
  }
  const dataDir = parsed.values["data-dir"];
  const ca = await loadCa(dataDir);
  const serverUrl = parsed.values.server !== "" ? parsed.values.server : (await adminKubeconfigOf(dataDir)).serverUrl;
  const admin = await ca.issue(adminClientProfile(), Date.now());
  const text = buildKubeconfig({
    clusterName: "flotilla",
    serverUrl,
    caCertificatePem: ca.certificatePem,
    userName: "admin",
    credentials: { kind: "client-certificate", certificatePem: admin.certificatePem, privateKeyPem: admin.privateKeyPem },
  });
  if (parsed.values.out === "") process.stdout.write(text);
  else await writeFileAtomic(parsed.values.out, text, { mode: secretFileMode, overwrite: true });
  return 0;
}

async function postJson(kubeconfig: ReturnType<typeof parseKubeconfig>, path: string, body: unknown): Promise<{ status: number; text: string }> {
  if (kubeconfig.credentials.kind !== "client-certificate") throw new Error("admin.kubeconfig must hold a client certificate");
  const { certificatePem, privateKeyPem } = kubeconfig.credentials;
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      `${kubeconfig.serverUrl}${path}`,
      { method: "POST", ca: kubeconfig.caCertificatePem, cert: certificatePem, key: privateKeyPem, headers: { "Content-Type": "application/json" }, timeout: commandRequestTimeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer from ${kubeconfig.serverUrl} within ${commandRequestTimeoutMs} ms`)));
    request.on("error", reject);
    request.end(JSON.stringify(body));
  });
}

export async function tokenMain(args: readonly string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb !== "create") {
    process.stderr.write("usage: flotilla token create [--data-dir D] [--ttl-hours N] [--kind server|agent]\n");
    return verb === "--help" || verb === "-h" ? 0 : 2;
  }
  const parsed = parseFlags(tokenFlags, rest);
  if (parsed.help) {
    process.stdout.write(flagsHelp("flotilla token create [flags]\n\nMake a join token (stored as a bootstrap token Secret) and print it.", tokenFlags));
    return 0;
  }
  const dataDir = parsed.values["data-dir"];
  const ca = await loadCa(dataDir);
  const nowMs = Date.now();
  const { credential, record } = createToken({ usages: ["join"], nowMs, ttlMs: parsed.values["ttl-hours"] * hourMs, description: parsed.values.description });
  const extraGroups = [`system:bootstrappers:flotilla:${parsed.values.kind}s`];
  const secret = bootstrapTokenSecret(credential.id, credential.secret, record.expiresAtMs, parsed.values.description, extraGroups);
  const answer = await postJson(await adminKubeconfigOf(dataDir), "/api/v1/namespaces/kube-system/secrets", secret);
  if (answer.status !== 201) throw new FlagError("data-dir", `the API server refused the token Secret (${answer.status}): ${answer.text}`);
  process.stdout.write(`${formatJoinToken({ caHashHex: ca.hashHex, ...credential })}\n`);
  return 0;
}
