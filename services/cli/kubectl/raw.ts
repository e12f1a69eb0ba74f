/**
 * Requests libs/client's ApiClient does not make: another Accept (server-side Tables), streamed
 * bodies (pods/log) and WebSocket upgrades (pods/exec), with the kubeconfig's server, CA and
 * credentials. One server: the kubeconfig's first.
 */
import type { IncomingMessage } from "node:http";
import { request, type RequestOptions } from "node:https";
import { StatusError } from "../../../libs/api/index.ts";
import type { Status } from "../../../libs/api/index.ts";
import type { HttpClientOptions } from "../../../libs/client/index.ts";

/** Bound on an answer read whole (a Table, an error Status). */
export const rawAnswerBytesMax = 64 * 1024 * 1024;

export class RawHttp {
  readonly #options: HttpClientOptions;

  constructor(options: HttpClientOptions) {
    this.#options = options;
  }

  get serverUrl(): URL {
    return new URL(this.#options.servers[0] ?? "");
  }

  /** TLS and credential options for https.request and for the `ws` client. */
  tlsOptions(): { ca: string; cert?: string; key?: string; headers: Record<string, string> } {
    const credentials = this.#options.credentials;
    return {
      ca: this.#options.caCertificatePem,
      ...(credentials.kind === "client-certificate" ? { cert: credentials.certificatePem, key: credentials.privateKeyPem } : {}),
      headers: { "User-Agent": "flotilla-cli", ...(credentials.kind === "token" ? { Authorization: `Bearer ${credentials.token}` } : {}) },
    };
  }

  /** A GET whose answer the caller reads (a stream); a 4xx/5xx answer rejects with its Status. */
  async get(path: string, accept: string, signal: AbortSignal): Promise<IncomingMessage> {
    const server = this.serverUrl;
    const tls = this.tlsOptions();
    const options: RequestOptions = { method: "GET", host: server.hostname, port: server.port, path, ...tls, headers: { ...tls.headers, Accept: accept }, signal };
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = request(options, resolve);
      outgoing.on("error", reject);
      outgoing.end();
    });
    if ((response.statusCode ?? 0) >= 400) throw statusErrorOf(response.statusCode ?? 0, await readAll(response));
    return response;
  }
}

export async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response) {
    bytes += (chunk as Buffer).length;
    if (bytes > rawAnswerBytesMax) throw new Error(`an answer longer than ${rawAnswerBytesMax} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function statusErrorOf(code: number, body: string): StatusError {
  try {
    const parsed = JSON.parse(body) as Status;
    if (parsed.kind === "Status") return new StatusError(parsed);
  } catch {
    // Not a Status: synthesize one below.
  }
  return new StatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code, message: body.slice(0, 1024), reason: "" } as Status);
}
