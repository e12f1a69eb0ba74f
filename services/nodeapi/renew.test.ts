import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { credentials as grpcCredentials, status as GrpcStatus, type Client, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCa, createCertificateRequest, generateKeyPairPem, nodeClientProfile, servingProfile, type ClusterCa, type IssuedCertificate } from "../../libs/pki/index.ts";
import { createLogger } from "../../libs/log/index.ts";
import { startNodeApi, type NodeApiServer } from "./server.ts";
import { loadNodeApi, type CertificateRenewalResponse } from "./wire.ts";
import { waitFor } from "../../test/harness/wait.ts";

// RenewCertificate touches no storage: a store nobody answers on is enough.
const unreachableStore = ["http://127.0.0.1:1"];
const validityMs = 10 * 60_000;

describe("RenewCertificate", () => {
  let ca: ClusterCa;
  let server: NodeApiServer;
  let node: IssuedCertificate;
  let serving: IssuedCertificate;

  beforeAll(async () => {
    ca = await createCa({ nowMs: Date.now() });
    serving = await ca.issue(servingProfile("nodeapi", ["127.0.0.1"]), Date.now());
    node = await ca.issue(nodeClientProfile("node-a"), Date.now());
    server = await startNodeApi(
      { storeEndpoints: unreachableStore, ca, servingCertificateChainPem: serving.chainPem, servingPrivateKeyPem: serving.privateKeyPem, listenAddress: "127.0.0.1", port: 0, advertiseAddress: "127.0.0.1:0", replicaName: "test", nodeCertificateValidityMs: validityMs },
      createLogger("nodeapi-test", { level: "silent" }),
    );
  });
  afterAll(async () => server.stop());

  function client(certificate?: { certificatePem: string; privateKeyPem: string }): Client {
    const NodeApi = loadNodeApi();
    const channel = certificate === undefined
      ? grpcCredentials.createSsl(Buffer.from(ca.certificatePem))
      : grpcCredentials.createSsl(Buffer.from(ca.certificatePem), Buffer.from(certificate.privateKeyPem), Buffer.from(certificate.certificatePem));
    return new NodeApi(`127.0.0.1:${server.port}`, channel);
  }

  function renew(target: Client, requestPem: string): Promise<CertificateRenewalResponse> {
    const call = (target as unknown as { RenewCertificate: (r: object, cb: (e: ServiceError | null, v: CertificateRenewalResponse) => void) => void }).RenewCertificate;
    return new Promise((resolve, reject) => call.call(target, { certificate_request_pem: requestPem }, (error, response) => (error === null ? resolve(response) : reject(error))));
  }

  it("issues a node a new certificate for its own name and key, with the configured lifetime", async () => {
    // The request's subject names another node: the name comes from the caller's certificate.
    const response = await renew(client(node), await createCertificateRequest(node.privateKeyPem, "system:node:node-b"));
    const renewed = new X509Certificate(response.certificate_pem);
    expect(renewed.subject.split("\n")).toContain("CN=system:node:node-a");
    expect(renewed.serialNumber).not.toBe(new X509Certificate(node.certificatePem).serialNumber);
    expect(renewed.publicKey.export({ type: "spki", format: "der" }).equals(new X509Certificate(node.certificatePem).publicKey.export({ type: "spki", format: "der" }))).toBe(true);
    expect(Date.parse(renewed.validTo) - Date.now()).toBeLessThanOrEqual(validityMs);
    expect(renewed.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
    expect(response.ca_certificate_pem).toBe(ca.certificatePem);
  });

  it("refuses a request for another key", async () => {
    const other = await generateKeyPairPem("ecdsa-p256");
    const error = (await renew(client(node), await createCertificateRequest(other.privateKeyPem, "system:node:node-a")).catch((caught: unknown) => caught)) as ServiceError;
    expect(error.code).toBe(GrpcStatus.PERMISSION_DENIED);
  });

  it("refuses a caller without a node certificate", async () => {
    const error = (await renew(client(), await createCertificateRequest(node.privateKeyPem, "system:node:node-a")).catch((caught: unknown) => caught)) as ServiceError;
    expect(error.code).toBe(GrpcStatus.UNAUTHENTICATED);
  });

  function servedSerial(): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port: server.port, ca: ca.certificatePem, ALPNProtocols: ["h2"] }, () => {
        const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
        socket.destroy();
        resolve(serial);
      });
      socket.on("error", reject);
    });
  }

  it("setServingCertificate() serves a renewed certificate to new connections without a restart", async () => {
    expect(await servedSerial()).toBe(new X509Certificate(serving.certificatePem).serialNumber.toLowerCase());
    const renewed = await ca.issue(servingProfile("nodeapi", ["127.0.0.1"]), Date.now());
    server.setServingCertificate(renewed.chainPem, renewed.privateKeyPem);
    const renewedSerial = new X509Certificate(renewed.certificatePem).serialNumber.toLowerCase();
    await waitFor(async () => ((await servedSerial()) === renewedSerial ? true : undefined), { timeoutMs: 5_000, description: "the node API serving the renewed certificate" });
    // Node calls still work over the new certificate.
    const response = await renew(client(node), await createCertificateRequest(node.privateKeyPem, "system:node:node-a"));
    expect(response.certificate_pem).toContain("BEGIN CERTIFICATE");
  });
});
