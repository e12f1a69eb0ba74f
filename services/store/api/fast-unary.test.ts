import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Metadata,
  Server,
  ServerCredentials,
  credentials,
  makeGenericClientConstructor,
  status,
  type Client,
  type ServiceDefinition,
  type ServiceError,
  type sendUnaryData,
  type ServerUnaryCall,
} from "@grpc/grpc-js";
import { fastMethods, installFastUnary } from "./fast-unary.ts";
import type { GrpcRouteCounters } from "../raft/index.ts";

const identity = (bytes: Buffer): Buffer => bytes;
const method = (path: string) => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});
const definition: ServiceDefinition = {
  Reverse: method("/test.Bytes/Reverse"),
  Refuse: method("/test.Bytes/Refuse"),
  Upper: method("/test.Bytes/Upper"),
};
const receiveMessageBytesMax = 64;
const refusalDetails = "etcdserver: request refused: 100% on purpose";

type Call = (request: Buffer, options: { deadline: Date }, callback: (error: ServiceError | null, response?: Buffer) => void) => void;
type BytesClient = Client & { Reverse: Call; Refuse: Call; Upper: Call };

function call(client: BytesClient, name: "Reverse" | "Refuse" | "Upper", request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client[name](request, { deadline: new Date(Date.now() + 5000) }, (error, response) => (error === null && response !== undefined ? resolve(response) : reject(error)));
  });
}

describe("installFastUnary", () => {
  const server = new Server({ "grpc.max_receive_message_length": receiveMessageBytesMax });
  let counters: GrpcRouteCounters;
  let client: BytesClient;
  let gzipClient: BytesClient;

  beforeAll(async () => {
    const implementation = {
      Reverse: (unaryCall: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, Buffer.from(unaryCall.request).reverse()),
      Refuse: (_unaryCall: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) =>
        callback({ code: status.FAILED_PRECONDITION, details: refusalDetails, metadata: new Metadata() }, null),
      Upper: (unaryCall: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, Buffer.from(unaryCall.request.toString().toUpperCase())),
    };
    server.addService(definition, implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))),
    );
    counters = installFastUnary(server, fastMethods(definition, implementation, ["Reverse", "Refuse"]), { receiveMessageBytesMax });
    const Constructor = makeGenericClientConstructor(definition, "Bytes");
    client = new Constructor(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as BytesClient;
    gzipClient = new Constructor(`127.0.0.1:${port}`, credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 }) as unknown as BytesClient;
  });

  afterAll(() => {
    client.close();
    gzipClient.close();
    server.forceShutdown();
  });

  it("answers a listed method on the fast path with the handler's response", async () => {
    const before = counters.routed;
    expect((await call(client, "Reverse", Buffer.from("abc"))).toString()).toBe("cba");
    expect((await call(client, "Reverse", Buffer.alloc(0))).length).toBe(0);
    expect(counters.routed).toBe(before + 2);
  });

  it("sends a handler's error to the client with its code and details", async () => {
    const error = (await call(client, "Refuse", Buffer.from("x")).catch((caught: unknown) => caught)) as ServiceError;
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toBe(refusalDetails);
  });

  it("leaves methods that are not listed to grpc-js", async () => {
    const before = counters.passedOn;
    expect((await call(client, "Upper", Buffer.from("abc"))).toString()).toBe("ABC");
    expect(counters.passedOn).toBe(before + 1);
  });

  it("refuses a request over the size limit with RESOURCE_EXHAUSTED", async () => {
    const error = (await call(client, "Reverse", Buffer.alloc(receiveMessageBytesMax + 1)).catch((caught: unknown) => caught)) as ServiceError;
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error.details).toContain(`vs ${receiveMessageBytesMax}`);
    // The connection still serves.
    expect((await call(client, "Reverse", Buffer.from("ok"))).toString()).toBe("ko");
  });

  it("hands a compressed request to grpc-js, which decompresses it", async () => {
    const before = counters.passedOn;
    expect((await call(gzipClient, "Reverse", Buffer.from("abcdef"))).toString()).toBe("fedcba");
    expect(counters.passedOn).toBe(before + 1);
  });

  it("serves many concurrent calls on one connection", async () => {
    const requests = Array.from({ length: 200 }, (_, i) => Buffer.from(`request-${i}`));
    const responses = await Promise.all(requests.map((request) => call(client, "Reverse", request)));
    expect(responses.map((response) => Buffer.from(response).reverse().toString())).toEqual(requests.map((request) => request.toString()));
  });
});
