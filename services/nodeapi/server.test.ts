import { credentials as grpcCredentials, status as GrpcStatus, type Client, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClientProfile, createCa, servingProfile, type ClusterCa } from "../../libs/pki/index.ts";
import { createLogger } from "../../libs/log/index.ts";
import { startNodeApi, type NodeApiServer } from "./server.ts";
import { loadNodeApi } from "./wire.ts";

// No store answers here: every call below must be refused before storage is touched.
const unreachableStore = ["http://127.0.0.1:1"];

describe("node API server refusals (no store needed)", () => {
  let ca: ClusterCa;
  let server: NodeApiServer;

  beforeAll(async () => {
    ca = await createCa({ nowMs: Date.now() });
    const serving = await ca.issue(servingProfile("nodeapi", ["127.0.0.1"]), Date.now());
    server = await startNodeApi(
      { storeEndpoints: unreachableStore, ca, servingCertificateChainPem: serving.chainPem, servingPrivateKeyPem: serving.privateKeyPem, listenAddress: "127.0.0.1", port: 0, advertiseAddress: "127.0.0.1:0", replicaName: "test" },
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

  async function unary(target: Client, method: string, request: object): Promise<ServiceError> {
    const call = (target as unknown as Record<string, (r: object, cb: (e: ServiceError | null) => void) => void>)[method];
    if (call === undefined) throw new Error(`no method ${method}`);
    return new Promise((resolve, reject) => call.call(target, request, (error) => (error === null ? reject(new Error("the call succeeded")) : resolve(error))));
  }

  it("refuses a status report without a client certificate", async () => {
    const error = await unary(client(), "ReportPodStatus", { namespace: "a", name: "b", uid: "", status_json: Buffer.from("{}") });
    expect(error.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(error.details).toContain("node client certificate");
  });

  it("refuses a certificate from the cluster CA that is not a node's (admin)", async () => {
    const admin = await ca.issue(adminClientProfile(), Date.now());
    const error = await unary(client(admin), "RenewLease", { lease_duration_seconds: 40 });
    expect(error.code).toBe(GrpcStatus.UNAUTHENTICATED);
  });

  it("ends a Watch without a node certificate with UNAUTHENTICATED", async () => {
    const watch = (client() as unknown as { Watch: (r: object) => ClientReadableStream<unknown> }).Watch({});
    const error = await new Promise<ServiceError>((resolve) => {
      watch.on("error", resolve);
      watch.on("data", () => undefined);
    });
    expect(error.code).toBe(GrpcStatus.UNAUTHENTICATED);
  });

  it("refuses a malformed join token and says so", async () => {
    const error = await unary(client(), "Join", { token: "not a token", node_name: "n", certificate_request_pem: "", labels: {}, taints_json: Buffer.alloc(0) });
    expect(error.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(error.details).toMatch(/^join token refused: malformed/);
  });
});
