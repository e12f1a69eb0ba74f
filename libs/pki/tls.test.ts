import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { adminClientProfile, createCa, nodeClientProfile, servingProfile } from "./ca.ts";
import type { ClusterCa, IssuedCertificate } from "./ca.ts";
import { startTlsServer, tlsGreeting } from "./test-support.ts";
import type { TestTlsServer } from "./test-support.ts";

const nowMs = Date.now();
let ca: ClusterCa;
let otherCa: ClusterCa;
let serving: IssuedCertificate;
const servers: TestTlsServer[] = [];

beforeAll(async () => {
  ca = await createCa({ nowMs });
  otherCa = await createCa({ nowMs });
  serving = await ca.issue(servingProfile("flotilla-server", ["localhost", "flotilla.internal", "127.0.0.1"]), nowMs);
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serve(options: Parameters<typeof startTlsServer>[0]): Promise<number> {
  const server = await startTlsServer({ cert: serving.chainPem, key: serving.privateKeyPem, ...options });
  servers.push(server);
  return server.port;
}

describe("serving certificates under node:tls", () => {
  it("a client trusting the cluster CA accepts the server by its IP address", async () => {
    const port = await serve({});
    await expect(tlsGreeting({ port, ca: ca.certificatePem })).resolves.toBe("hello anonymous\n");
  });

  it("a client trusting the cluster CA accepts the server by a DNS name in its certificate", async () => {
    const port = await serve({});
    await expect(tlsGreeting({ port, ca: ca.certificatePem, servername: "flotilla.internal" })).resolves.toBe("hello anonymous\n");
  });

  it("a client trusting another CA refuses the server", async () => {
    const port = await serve({});
    // The server sends its CA along (for the trust bootstrap); a client that does not trust it
    // finds a self-signed root it has never seen.
    await expect(tlsGreeting({ port, ca: otherCa.certificatePem })).rejects.toMatchObject({ code: "SELF_SIGNED_CERT_IN_CHAIN" });
  });

  it("a client refuses the server under a name its certificate does not carry", async () => {
    const port = await serve({});
    await expect(tlsGreeting({ port, ca: ca.certificatePem, servername: "elsewhere.internal" })).rejects.toMatchObject({
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
    });
  });

  it("an RSA CA's certificates work the same way", async () => {
    const rsaCa = await createCa({ nowMs, keyAlgorithm: "rsa-2048" });
    const rsaServing = await rsaCa.issue(servingProfile("rsa-server", ["127.0.0.1"]), nowMs);
    const port = await serve({ cert: rsaServing.chainPem, key: rsaServing.privateKeyPem });
    await expect(tlsGreeting({ port, ca: rsaCa.certificatePem })).resolves.toBe("hello anonymous\n");
    await expect(tlsGreeting({ port, ca: ca.certificatePem })).rejects.toMatchObject({ code: "SELF_SIGNED_CERT_IN_CHAIN" });
  });
});

describe("client certificates under node:tls", () => {
  function mutualOptions(): Parameters<typeof startTlsServer>[0] {
    return { ca: ca.certificatePem, requestCert: true, rejectUnauthorized: true };
  }

  it("the server sees a node's identity as CN=system:node:<name>, O=system:nodes", async () => {
    const port = await serve(mutualOptions());
    const node = await ca.issue(nodeClientProfile("pi-1"), nowMs);
    const greeting = await tlsGreeting({ port, ca: ca.certificatePem, cert: node.certificatePem, key: node.privateKeyPem });
    expect(greeting).toBe("hello CN=system:node:pi-1 O=system:nodes\n");
  });

  it("the server sees the admin as CN=admin, O=system:masters", async () => {
    const port = await serve(mutualOptions());
    const admin = await ca.issue(adminClientProfile(), nowMs);
    const greeting = await tlsGreeting({ port, ca: ca.certificatePem, cert: admin.certificatePem, key: admin.privateKeyPem });
    expect(greeting).toBe("hello CN=admin O=system:masters\n");
  });

  // Under TLS 1.3 the client finishes its handshake before the server has checked its
  // certificate, so a refused client may see only a closed connection. A second server that
  // asks for certificates but lets every client in says what OpenSSL found wrong.
  async function expectRefused(client: Parameters<typeof tlsGreeting>[0], reason: string): Promise<void> {
    const strict = await serve(mutualOptions());
    const refused = await tlsGreeting({ port: strict, ca: ca.certificatePem, ...client }).catch((error: Error) => error.message);
    expect(refused).not.toMatch(/^hello/);
    const lenient = await serve({ ...mutualOptions(), rejectUnauthorized: false });
    await expect(tlsGreeting({ port: lenient, ca: ca.certificatePem, ...client })).resolves.toBe(`hello anonymous (${reason})\n`);
  }

  it("the server refuses a client without a certificate", async () => {
    await expectRefused({}, "UNABLE_TO_GET_ISSUER_CERT");
  });

  it("the server refuses a client certificate from another CA", async () => {
    const stranger = await otherCa.issue(nodeClientProfile("pi-1"), nowMs);
    await expectRefused({ cert: stranger.certificatePem, key: stranger.privateKeyPem }, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("the server refuses a serving-only certificate offered as a client certificate", async () => {
    await expectRefused({ cert: serving.certificatePem, key: serving.privateKeyPem }, "INVALID_PURPOSE");
  });

  it("a server-and-client certificate serves and authenticates", async () => {
    const peer = await ca.issue({ ...servingProfile("store-peer", ["127.0.0.1"]), usage: "server-and-client" }, nowMs);
    const port = await serve({ ...mutualOptions(), cert: peer.chainPem, key: peer.privateKeyPem });
    const greeting = await tlsGreeting({ port, ca: ca.certificatePem, cert: peer.certificatePem, key: peer.privateKeyPem });
    expect(greeting).toBe("hello CN=store-peer O=\n");
  });
});
