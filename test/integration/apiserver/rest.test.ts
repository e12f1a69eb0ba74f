/**
 * The REST API at the HTTP level, in-process over a 1-member store (Flotilla's and etcd 3.4):
 * list paging, optimistic concurrency, upstream Status errors, watch from a resourceVersion and
 * 410 from one the watch cache no longer holds, deletecollection by selector, and the
 * max-in-flight (429) and request timeout (504) limits.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { ClientRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseKubeconfig } from "../../../libs/pki/index.ts";
import { createLogger } from "../../../libs/log/index.ts";
import { startApiServer, type ApiServer } from "../../../services/apiserver/server.ts";
import { StoreCluster, storeImplementations } from "../../harness/store-cluster.ts";
import { waitFor } from "../../harness/wait.ts";

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** More events than the watch cache's window (100) keeps, so a watch from before them gets 410. */
const writesPastWindow = 110;
const requestTimeoutMs = 10_000;

describe.each(storeImplementations())("the REST API over a 1-member %s store", (implementation) => {
  let cluster: StoreCluster;
  let server: ApiServer;
  let limited: ApiServer;
  let workDir: string;
  let tls: RequestOptions;

  function open(base: ApiServer, method: string, path: string, headers: Record<string, string> = {}): ClientRequest {
    return httpsRequest(`${base.url}${path}`, { ...tls, method, headers, timeout: requestTimeoutMs });
  }

  async function call(method: string, path: string, body?: unknown, base: ApiServer = server, contentType = "application/json"): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const outgoing = open(base, method, path, body === undefined ? {} : { "Content-Type": contentType });
      outgoing.on("response", (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : { text } }));
      });
      outgoing.on("error", reject);
      outgoing.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  const configMap = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels }, data: { k: name } });
  const names = (reply: Reply) => (reply.body["items"] as Array<{ metadata: { name: string } }>).map((item) => item.metadata.name);
  const metadata = (reply: Reply) => reply.body["metadata"] as Record<string, string>;

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 1 });
    workDir = mkdtempSync(join(tmpdir(), "flotilla-rest-"));
    const config = { storeEndpoints: [cluster.members[0]?.clientUrl ?? ""], listenAddress: "127.0.0.1", port: 0, dataDir: join(workDir, "data"), certificateNames: [], maxRequestsInflight: 400, requestTimeoutSeconds: 60 };
    const logger = createLogger("apiserver", { level: "warn", pretty: false });
    server = await startApiServer(config, logger);
    limited = await startApiServer({ ...config, maxRequestsInflight: 1, requestTimeoutSeconds: 2 }, logger);
    const kubeconfig = parseKubeconfig(readFileSync(server.kubeconfigPath, "utf8"));
    if (kubeconfig.credentials.kind !== "client-certificate") throw new Error("the admin kubeconfig has no client certificate");
    tls = { ca: kubeconfig.caCertificatePem, cert: kubeconfig.credentials.certificatePem, key: kubeconfig.credentials.privateKeyPem };
    expect((await call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "rest" } })).status).toBe(201);
  });

  afterAll(async () => {
    await limited?.stop();
    await server?.stop();
    await cluster?.destroy();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  it("pages a list with limit and continue, in key order", async () => {
    for (const name of ["p1", "p2", "p3", "p4", "p5"]) expect((await call("POST", "/api/v1/namespaces/rest/configmaps", configMap(name, { set: "paged" }))).status).toBe(201);
    const seen: string[] = [];
    let token = "";
    for (let page = 0; page < 5; page++) {
      const reply = await call("GET", `/api/v1/namespaces/rest/configmaps?labelSelector=set%3Dpaged&limit=2${token === "" ? "" : `&continue=${encodeURIComponent(token)}`}`);
      expect(reply.status).toBe(200);
      expect(reply.body["kind"]).toBe("ConfigMapList");
      seen.push(...names(reply));
      token = metadata(reply)["continue"] ?? "";
      if (token === "") break;
    }
    expect(seen).toEqual(["p1", "p2", "p3", "p4", "p5"]);
  });

  it("answers a PUT based on a stale resourceVersion with 409 Conflict and keeps the stored object", async () => {
    const created = await call("POST", "/api/v1/namespaces/rest/configmaps", configMap("occ"));
    const staleVersion = metadata(created)["resourceVersion"];
    const first = await call("PUT", "/api/v1/namespaces/rest/configmaps/occ", { ...created.body, data: { k: "first" } });
    expect(first.status).toBe(200);
    const second = await call("PUT", "/api/v1/namespaces/rest/configmaps/occ", { ...created.body, metadata: { ...metadata(created), resourceVersion: staleVersion }, data: { k: "second" } });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ kind: "Status", reason: "Conflict", code: 409 });
    expect((await call("GET", "/api/v1/namespaces/rest/configmaps/occ")).body["data"]).toEqual({ k: "first" });
  });

  it("answers with upstream Status errors: missing namespace, invalid name, unknown resource, duplicate", async () => {
    const missing = await call("POST", "/api/v1/namespaces/nope/configmaps", configMap("x"));
    expect(missing.body).toMatchObject({ reason: "NotFound", code: 404, message: 'namespaces "nope" not found' });
    const invalid = await call("POST", "/api/v1/namespaces/rest/configmaps", configMap("Bad_Name"));
    expect(invalid.status).toBe(422);
    expect((invalid.body["details"] as { causes: Array<{ field: string }> }).causes[0]?.field).toBe("metadata.name");
    expect((await call("GET", "/api/v1/namespaces/rest/widgets")).status).toBe(404);
    expect((await call("POST", "/api/v1/namespaces/rest/configmaps", configMap("p1"))).body).toMatchObject({ reason: "AlreadyExists", code: 409 });
  });

  it("streams changes after a resourceVersion, and 410 for one older than the watch cache keeps", async () => {
    const listed = await call("GET", "/api/v1/namespaces/rest/configmaps");
    const from = metadata(listed)["resourceVersion"] ?? "";
    const events: string[] = [];
    const watch = open(server, "GET", `/api/v1/namespaces/rest/configmaps?watch=true&resourceVersion=${from}&timeoutSeconds=10`);
    watch.on("response", (response) => response.on("data", (chunk: Buffer) => events.push(chunk.toString("utf8"))));
    watch.end();
    try {
      await call("POST", "/api/v1/namespaces/rest/configmaps", configMap("watched"));
      const line = await waitFor(() => events.join("").split("\n").find((text) => text.includes('"name":"watched"')), { timeoutMs: requestTimeoutMs, description: "the ADDED event of the new configmap" });
      expect(JSON.parse(line)).toMatchObject({ type: "ADDED", object: { kind: "ConfigMap", metadata: { name: "watched" } } });
    } finally {
      watch.destroy();
    }
    for (let i = 0; i < writesPastWindow; i++) await call("POST", "/api/v1/namespaces/rest/configmaps", { ...configMap(""), metadata: { generateName: "churn-", labels: { set: "churn" } } });
    const expired = await call("GET", `/api/v1/namespaces/rest/configmaps?watch=true&resourceVersion=${from}`);
    expect(expired.status).toBe(200);
    expect(expired.body).toMatchObject({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
  });

  it("deletes a collection by label selector only", async () => {
    expect((await call("DELETE", "/api/v1/namespaces/rest/configmaps?labelSelector=set%3Dchurn")).body).toMatchObject({ kind: "Status", status: "Success" });
    expect(names(await call("GET", "/api/v1/namespaces/rest/configmaps?labelSelector=set%3Dchurn"))).toEqual([]);
    expect(names(await call("GET", "/api/v1/namespaces/rest/configmaps?labelSelector=set%3Dpaged"))).toHaveLength(5);
  });

  it("answers 429 past the in-flight limit and 504 to a request that outlives the timeout", async () => {
    // A POST whose body never finishes holds the only in-flight slot until it times out.
    const stalled = open(limited, "POST", "/api/v1/namespaces/rest/configmaps", { "Content-Type": "application/json", "Content-Length": "1000" });
    const stalledStatus = new Promise<number>((resolve, reject) => {
      stalled.on("response", (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      stalled.on("error", reject);
    });
    stalled.write("{");
    const throttled = await waitFor(async () => {
      const reply = await call("GET", "/api/v1/namespaces/rest/configmaps", undefined, limited);
      return reply.status === 429 ? reply : undefined;
    }, { timeoutMs: requestTimeoutMs, intervalMs: 50, description: "a 429 while the stalled request is in flight" });
    expect(throttled.body).toMatchObject({ reason: "TooManyRequests", code: 429 });
    expect(await stalledStatus).toBe(504);
    stalled.destroy();
    expect((await call("GET", "/api/v1/namespaces/rest/configmaps", undefined, limited)).status).toBe(200);
  });
});
