import { X509Certificate } from "node:crypto";
import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createCa, nodeClientProfile, servingProfile } from "./ca.ts";
import type { ClusterCa, IssuedCertificate } from "./ca.ts";
import { certificateSha256Hex } from "./certificate.ts";
import { startTlsServer, tlsGreeting } from "./test-support.ts";
import type { TestTlsServer } from "./test-support.ts";
import { CaHashMismatchError, formatJoinToken, parseJoinToken } from "./token.ts";
import { ServerVerificationError, bootstrapServerCa, readPeerChainUnverified, verifyPeerChainAgainstCaHash } from "./trust.ts";

const nowMs = Date.now();
const dayMs = 24 * 60 * 60 * 1000;
let ca: ClusterCa;
let attackerCa: ClusterCa;
let serving: IssuedCertificate;
const servers: TestTlsServer[] = [];

beforeAll(async () => {
  ca = await createCa({ nowMs });
  attackerCa = await createCa({ nowMs });
  serving = await ca.issue(servingProfile("flotilla-server", ["localhost", "127.0.0.1"]), nowMs);
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serve(cert: string, key: string): Promise<number> {
  const server = await startTlsServer({ cert, key });
  servers.push(server);
  return server.port;
}

function chainDer(pem: string): Buffer[] {
  return pem
    .split(/(?<=-----END CERTIFICATE-----\n)/)
    .filter((block) => block.includes("BEGIN CERTIFICATE"))
    .map((block) => new X509Certificate(block).raw);
}

describe("bootstrapServerCa against a real TLS server", () => {
  it("returns the cluster CA when it matches the token's hash, and the CA then verifies the server", async () => {
    const port = await serve(serving.chainPem, serving.privateKeyPem);
    const token = parseJoinToken(formatJoinToken({ caHashHex: ca.hashHex, id: "abc123", secret: "0123456789abcdef" }));
    const caPem = await bootstrapServerCa({ target: { host: "127.0.0.1", port }, caHashHex: token.caHashHex ?? "", nowMs });
    expect(new X509Certificate(caPem).raw.equals(new X509Certificate(ca.certificatePem).raw)).toBe(true);
    // With the CA in hand, the joiner's next connection is a verified one.
    await expect(tlsGreeting({ port, ca: caPem, servername: "localhost" })).resolves.toBe("hello anonymous\n");
  });

  it("refuses a server whose CA is not the one in the token", async () => {
    const port = await serve(serving.chainPem, serving.privateKeyPem);
    await expect(bootstrapServerCa({ target: { host: "127.0.0.1", port }, caHashHex: attackerCa.hashHex, nowMs })).rejects.toThrow(
      CaHashMismatchError,
    );
  });

  it("refuses an impersonator that sends the real (public) CA certificate after its own", async () => {
    const forged = await attackerCa.issue(servingProfile("flotilla-server", ["127.0.0.1"]), nowMs);
    const port = await serve(forged.certificatePem + ca.certificatePem, forged.privateKeyPem);
    // node:tls links each certificate to the one that issued it and drops the rest, so the real
    // CA never shows up in the chain read; verifyPeerChainAgainstCaHash refuses it as well (below).
    await expect(bootstrapServerCa({ target: { host: "127.0.0.1", port }, caHashHex: ca.hashHex, nowMs })).rejects.toThrow(
      CaHashMismatchError,
    );
  });

  it("cannot find the CA when the server sends its own certificate alone", async () => {
    const port = await serve(serving.certificatePem, serving.privateKeyPem);
    const attempt = bootstrapServerCa({ target: { host: "127.0.0.1", port }, caHashHex: ca.hashHex, nowMs });
    await expect(attempt).rejects.toThrow(CaHashMismatchError);
    await expect(attempt).rejects.toMatchObject({ actualHashHexes: [certificateSha256Hex(serving.certificatePem)] });
  });

  it("refuses a server whose certificate does not name the address dialled", async () => {
    const port = await serve(serving.chainPem, serving.privateKeyPem);
    const target = { host: "127.0.0.1", port, serverName: "flotilla.example" };
    await expect(bootstrapServerCa({ target, caHashHex: ca.hashHex, nowMs })).rejects.toThrow(/does not name flotilla.example/);
  });

  it("gives up on a server that never completes the handshake", async () => {
    const silent = await startSilentServer();
    try {
      const target = { host: "127.0.0.1", port: silent.port, timeoutMs: 200 };
      await expect(readPeerChainUnverified(target)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/longer than 200 ms/) } });
    } finally {
      await silent.close();
    }
  });
});

describe("verifyPeerChainAgainstCaHash", () => {
  it("refuses a server certificate that has expired", () => {
    const chain = chainDer(serving.chainPem);
    const later = serving.notAfterMs + dayMs;
    expect(() => verifyPeerChainAgainstCaHash(chain, ca.hashHex, "127.0.0.1", later)).toThrow(ServerVerificationError);
    expect(() => verifyPeerChainAgainstCaHash(chain, ca.hashHex, "127.0.0.1", later)).toThrow(/not at/);
  });

  it("refuses a client-only certificate presented by a server", async () => {
    const client = await ca.issue(nodeClientProfile("rpi-1"), nowMs);
    expect(() => verifyPeerChainAgainstCaHash(chainDer(client.chainPem), ca.hashHex, "127.0.0.1", nowMs)).toThrow(
      /does not name 127.0.0.1|not for server authentication/,
    );
    const noNameCheck = await ca.issue({ usage: "client", commonName: "c", ipAddresses: ["127.0.0.1"] }, nowMs);
    expect(() => verifyPeerChainAgainstCaHash(chainDer(noNameCheck.chainPem), ca.hashHex, "127.0.0.1", nowMs)).toThrow(
      /not for server authentication/,
    );
  });

  it("accepts the chain at the time it was issued and names the CA it found", () => {
    const caPem = verifyPeerChainAgainstCaHash(chainDer(serving.chainPem), ca.hashHex, "localhost", nowMs);
    expect(new X509Certificate(caPem).fingerprint256).toBe(new X509Certificate(ca.certificatePem).fingerprint256);
  });

  it("refuses a chain whose server certificate the CA did not sign, though the CA is in it", async () => {
    const forged = await attackerCa.issue(servingProfile("flotilla-server", ["127.0.0.1"]), nowMs);
    const chain = chainDer(forged.certificatePem + ca.certificatePem);
    expect(() => verifyPeerChainAgainstCaHash(chain, ca.hashHex, "127.0.0.1", nowMs)).toThrow(/CN=flotilla-server is not signed by CN=flotilla-ca/);
  });

  it("refuses an empty chain", () => {
    expect(() => verifyPeerChainAgainstCaHash([], ca.hashHex, "localhost", nowMs)).toThrow(/no certificate/);
  });
});

/** A TCP server that accepts connections and never says anything. */
async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
