import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource, isStatusError, type ConfigMap, type WatchEvent } from "../api/index.ts";
import { adminClientProfile, createCa, servingProfile, type ClusterCa, type IssuedCertificate } from "../pki/index.ts";
import { freePortForTest } from "./test-support.ts";
import { HttpApiClient, resourcePath } from "./http-client.ts";

const configMaps = findResource("", "v1", "configmaps")!;
const deployments = findResource("apps", "v1", "deployments")!;

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

describe("HttpApiClient", () => {
  let ca: ClusterCa;
  let admin: IssuedCertificate;
  let server: Server;
  let port: number;
  let handler: Handler = (_, __, response) => response.end("{}");
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
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function client(servers: string[] = [`https://127.0.0.1:${port}`]): HttpApiClient {
    return new HttpApiClient({ servers, caCertificatePem: ca.certificatePem, credentials: { kind: "client-certificate", certificatePem: admin.certificatePem, privateKeyPem: admin.privateKeyPem } });
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
});
