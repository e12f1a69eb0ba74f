import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource, isStatusError, type ConfigMap, type WatchEvent } from "../api/index.ts";
import { adminClientProfile, createCa, servingProfile, type ClusterCa, type IssuedCertificate } from "../pki/index.ts";
import { freePortForTest } from "./test-support.ts";
import { ApiUnavailableError, HttpApiClient, resourcePath } from "./http-client.ts";

const configMaps = findResource("", "v1", "configmaps")!;
const deployments = findResource("apps", "v1", "deployments")!;

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

describe("HttpApiClient", () => {
  let ca: ClusterCa;
  let admin: IssuedCertificate;
  let server: Server;
  let port: number;
  let handler: Handler = (_, __, response) => response.end("{}");
  /** A second server: hangs (never answers) unless told to answer 503. */
  let stuck: Server;
  let stuckPort: number;
  let stuckAnswers503 = false;
  const stuckSeen: string[] = [];
  const seen: { method: string; url: string; contentType: string | undefined; subject: string; body: string }[] = [];

  beforeAll(async () => {
    const nowMs = Date.now();
    ca = await createCa({ nowMs });
    const serving = await ca.issue(servingProfile("test-apiserver", ["127.0.0.1"]), nowMs);
    admin = await ca.issue(adminClientProfile(), nowMs);
    server = createServer({ cert: serving.chainPem, key: serving.privateKeyPem, ca: ca.certificatePem, requestCert: true, rejectUnauthorized: true }, (request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => {
        const subject = String((request.socket as TLSSocket).getPeerCertificate().subject?.CN ?? "");
        seen.push({ method: request.method ?? "", url: request.url ?? "", contentType: request.headers["content-type"], subject, body });
        handler(request, body, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    stuck = createServer({ cert: serving.chainPem, key: serving.privateKeyPem }, (request, response) => {
      stuckSeen.push(`${request.method ?? ""} ${request.url ?? ""}`);
      if (stuckAnswers503) {
        response.writeHead(503, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code: 503, reason: "ServiceUnavailable", message: "store unavailable" }));
      }
    });
    await new Promise<void>((resolve) => stuck.listen(0, "127.0.0.1", resolve));
    stuckPort = (stuck.address() as AddressInfo).port;
  });

  afterAll(async () => {
    stuck.closeAllConnections();
    await new Promise((resolve) => stuck.close(resolve));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function client(servers: string[] = [`https://127.0.0.1:${port}`], timeouts: { requestTimeoutMs?: number; attemptTimeoutMs?: number } = {}): HttpApiClient {
    return new HttpApiClient({ ...timeouts, servers, caCertificatePem: ca.certificatePem, credentials: { kind: "client-certificate", certificatePem: admin.certificatePem, privateKeyPem: admin.privateKeyPem } });
  }

  it("builds upstream's paths for core and grouped, namespaced and cluster-scoped resources", () => {
    expect(resourcePath(configMaps, "default", "a")).toBe("/api/v1/namespaces/default/configmaps/a");
    expect(resourcePath(deployments, "shop", "web", "scale")).toBe("/apis/apps/v1/namespaces/shop/deployments/web/scale");
    expect(resourcePath(findResource("", "v1", "nodes")!, undefined)).toBe("/api/v1/nodes");
  });

  it("sends JSON with its client certificate and the patch content type", async () => {
    handler = (_, body, response) => response.end(body === "" ? "{}" : body);
    const api = client();
    seen.length = 0;
    await api.patch(configMaps, "default", "a", "strategic", { data: { k: "v" } }, { fieldManager: "test" });
    api.close();
    expect(seen[0]).toMatchObject({
      method: "PATCH",
      url: "/api/v1/namespaces/default/configmaps/a?fieldManager=test",
      contentType: "application/strategic-merge-patch+json",
      subject: "admin",
      body: '{"data":{"k":"v"}}',
    });
  });

  it("turns a Status answer into a StatusError with its reason", async () => {
    handler = (_, __, response) => {
      response.writeHead(409, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code: 409, reason: "Conflict", message: "the object has been modified" }));
    };
    const api = client();
    const error = await api.update<ConfigMap>(configMaps, { metadata: { name: "a", namespace: "default", resourceVersion: "1" } }).catch((caught: unknown) => caught);
    api.close();
    expect(isStatusError(error, "Conflict")).toBe(true);
    expect((error as Error).message).toBe("the object has been modified");
  });

  it("parses watch events split across chunks and lines", async () => {
    handler = (_, __, response) => {
      response.writeHead(200, { "Content-Type": "application/json" });
      const lines = `${JSON.stringify({ type: "ADDED", object: { metadata: { name: "a", resourceVersion: "5" } } })}\n${JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "9" } } })}\n`;
      response.write(lines.slice(0, 17));
      setTimeout(() => response.end(lines.slice(17)), 5);
    };
    const api = client();
    const events: WatchEvent[] = [];
    for await (const event of api.watch(configMaps, "default", { resourceVersion: "4", allowWatchBookmarks: true }, new AbortController().signal)) events.push(event);
    api.close();
    expect(events.map((event) => `${event.type} ${(event.object as ConfigMap).metadata.resourceVersion}`)).toEqual(["ADDED 5", "BOOKMARK 9"]);
    expect(seen.at(-1)?.url).toBe("/api/v1/namespaces/default/configmaps?resourceVersion=4&watch=true&allowWatchBookmarks=true");
  });

  it("closes an idle keep-alive socket itself before the server's Keep-Alive timeout would", async () => {
    handler = (_, __, response) => response.end(JSON.stringify({ metadata: { name: "a" } }));
    const keepAliveTimeoutMs = server.keepAliveTimeout;
    // The server announces `Keep-Alive: timeout=3` and would drop the idle socket after 3 s.
    server.keepAliveTimeout = 3_000;
    const endings: Promise<"client closed" | "server closed">[] = [];
    const onConnection = (socket: TLSSocket): void => {
      let peerEnded = false;
      socket.on("end", () => (peerEnded = true));
      endings.push(new Promise((resolve) => socket.on("close", () => resolve(peerEnded ? "client closed" : "server closed"))));
    };
    server.on("secureConnection", onConnection);
    const api = client();
    try {
      await api.get<ConfigMap>(configMaps, "default", "a");
      expect(endings).toHaveLength(1);
      expect(await endings[0]).toBe("client closed");
    } finally {
      api.close();
      server.off("secureConnection", onConnection);
      server.keepAliveTimeout = keepAliveTimeoutMs;
    }
  });

  it("moves on to the next server when one refuses connections", async () => {
    handler = (_, __, response) => response.end(JSON.stringify({ metadata: { name: "a" } }));
    const deadPort = await freePortForTest();
    const api = client([`https://127.0.0.1:${deadPort}`, `https://127.0.0.1:${port}`]);
    const object = await api.get<ConfigMap>(configMaps, "default", "a");
    expect(object.metadata.name).toBe("a");
    expect(api.currentServer).toBe(`https://127.0.0.1:${port}/`);
    api.close();
  });

  it("gives up after bounded rounds when no server answers", async () => {
    const api = client([`https://127.0.0.1:${await freePortForTest()}`]);
    await expect(api.get(configMaps, "default", "a")).rejects.toThrow(/no API server answered/);
    api.close();
  });

  it("moves a read on to the next server when one hangs past the attempt timeout", async () => {
    stuckAnswers503 = false;
    handler = (_, __, response) => response.end(JSON.stringify({ metadata: { name: "a" } }));
    const api = client([`https://127.0.0.1:${stuckPort}`, `https://127.0.0.1:${port}`], { requestTimeoutMs: 5_000, attemptTimeoutMs: 300 });
    const startedMs = Date.now();
    const object = await api.get<ConfigMap>(configMaps, "default", "a");
    const elapsedMs = Date.now() - startedMs;
    api.close();
    expect(object.metadata.name).toBe("a");
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
    expect(elapsedMs).toBeLessThan(2_000);
    expect(api.currentServer).toBe(`https://127.0.0.1:${port}/`);
  });

  it("fails a read at its overall deadline when every server hangs, naming each attempt", async () => {
    stuckAnswers503 = false;
    const api = client([`https://127.0.0.1:${stuckPort}`], { requestTimeoutMs: 800, attemptTimeoutMs: 300 });
    const startedMs = Date.now();
    const error = await api.get(configMaps, "default", "a").catch((caught: unknown) => caught);
    const elapsedMs = Date.now() - startedMs;
    api.close();
    expect(error).toBeInstanceOf(ApiUnavailableError);
    const unavailable = error as ApiUnavailableError;
    expect(unavailable.code).toBe("ETIMEDOUT");
    expect(unavailable.message).toMatch(/^GET \/api\/v1\/namespaces\/default\/configmaps\/a: no API server answered within \d+ ms/);
    expect(unavailable.attempts.length).toBeGreaterThanOrEqual(2);
    expect(unavailable.attempts[0]?.reason).toBe("no answer within 300 ms");
    expect(elapsedMs).toBeGreaterThanOrEqual(750);
    expect(elapsedMs).toBeLessThan(2_500);
  });

  it("never resends a write that hung: it fails at the deadline saying it may have been applied", async () => {
    stuckAnswers503 = false;
    stuckSeen.length = 0;
    seen.length = 0;
    const api = client([`https://127.0.0.1:${stuckPort}`, `https://127.0.0.1:${port}`], { requestTimeoutMs: 600, attemptTimeoutMs: 200 });
    const error = await api.create<ConfigMap>(configMaps, { metadata: { name: "w", namespace: "default" } }).catch((caught: unknown) => caught);
    api.close();
    expect(error).toBeInstanceOf(ApiUnavailableError);
    expect((error as Error).message).toMatch(/may have been applied/);
    expect(stuckSeen).toEqual(["POST /api/v1/namespaces/default/configmaps"]);
    expect(seen).toEqual([]);
  });

  it("asks the next server when a replica answers a read with 503", async () => {
    stuckAnswers503 = true;
    handler = (_, __, response) => response.end(JSON.stringify({ metadata: { name: "b" } }));
    const api = client([`https://127.0.0.1:${stuckPort}`, `https://127.0.0.1:${port}`]);
    const object = await api.get<ConfigMap>(configMaps, "default", "b");
    api.close();
    expect(object.metadata.name).toBe("b");
  });

  it("returns a replica's 503 to a write unchanged", async () => {
    stuckAnswers503 = true;
    seen.length = 0;
    const api = client([`https://127.0.0.1:${stuckPort}`, `https://127.0.0.1:${port}`]);
    const error = await api.create<ConfigMap>(configMaps, { metadata: { name: "w", namespace: "default" } }).catch((caught: unknown) => caught);
    api.close();
    expect(isStatusError(error, "ServiceUnavailable")).toBe(true);
    expect(seen).toEqual([]);
  });
});
