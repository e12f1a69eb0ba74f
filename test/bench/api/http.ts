/**
 * A lean HTTPS client for the API bench: Node's https with one keep-alive agent per simulated
 * client (one socket each, so a client is one connection doing one request at a time, as a
 * controller's client would), the admin client certificate from the server's admin.kubeconfig,
 * and a streaming watch that hands each event line to a callback. libs/client's HttpApiClient
 * was not used: it decodes every response into typed objects and fails over between servers,
 * which would put the load generator's own costs and retries into the figures.
 */
import { readFileSync } from "node:fs";
import { Agent, request, type RequestOptions } from "node:https";
import { parse as parseYaml } from "yaml";

export interface Credentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** Longer than the server's 60 s request timeout, so that its 504 is what ends a slow request. */
const requestTimeoutMs = 90_000;

function pemFrom(entry: Record<string, unknown>, dataKey: string, fileKey: string): string {
  const data = entry[dataKey];
  if (typeof data === "string") return Buffer.from(data, "base64").toString("utf8");
  const file = entry[fileKey];
  if (typeof file === "string") return readFileSync(file, "utf8");
  throw new Error(`kubeconfig has neither ${dataKey} nor ${fileKey}`);
}

/** The CA and the admin user's certificate and key from an admin.kubeconfig. */
export function credentialsFromKubeconfig(path: string): Credentials {
  const config = parseYaml(readFileSync(path, "utf8")) as {
    clusters?: { cluster?: Record<string, unknown> }[];
    users?: { user?: Record<string, unknown> }[];
  };
  const cluster = config.clusters?.[0]?.cluster;
  const user = config.users?.[0]?.user;
  if (cluster === undefined || user === undefined) throw new Error(`${path}: no cluster or user`);
  return {
    caPem: pemFrom(cluster, "certificate-authority-data", "certificate-authority"),
    certPem: pemFrom(user, "client-certificate-data", "client-certificate"),
    keyPem: pemFrom(user, "client-key-data", "client-key"),
  };
}

/** One simulated client: a base URL and a keep-alive agent holding a single TLS connection. */
export class BenchClient {
  readonly baseUrl: string;
  readonly #agent: Agent;

  constructor(baseUrl: string, credentials: Credentials) {
    this.baseUrl = baseUrl;
    this.#agent = new Agent({ keepAlive: true, maxSockets: 1, ca: credentials.caPem, cert: credentials.certPem, key: credentials.keyPem });
  }

  #options(method: string, path: string, extraHeaders: Record<string, string>): RequestOptions {
    const url = new URL(path, this.baseUrl);
    return {
      method,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      agent: this.#agent,
      headers: { accept: "application/json", ...extraHeaders },
    };
  }

  /** One request; resolves with the status and the whole body, rejects on a transport error. */
  send(method: string, path: string, body?: string): Promise<HttpAnswer> {
    const headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) };
    return new Promise((resolve, reject) => {
      const req = request(this.#options(method, path, headers), (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.setTimeout(requestTimeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on("error", reject);
      req.end(body);
    });
  }

  /**
   * Opens a watch on its own connection (a watch holds its socket for good) and calls onLine for
   * every complete event line. Resolves once the server has answered 200; stop() ends it.
   */
  watch(path: string, onLine: (line: string) => void): Promise<{ stop: () => void }> {
    const agent = new Agent({ keepAlive: false, ...this.#agent.options });
    return new Promise((resolve, reject) => {
      const req = request({ ...this.#options("GET", path, {}), agent }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`watch ${path}: HTTP ${res.statusCode ?? 0}`));
          res.resume();
          return;
        }
        let pending = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          pending += chunk;
          let newline = pending.indexOf("\n");
          while (newline >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line.length > 0) onLine(line);
            newline = pending.indexOf("\n");
          }
        });
        res.on("error", () => undefined);
        resolve({ stop: () => { req.destroy(); agent.destroy(); } });
      });
      req.on("error", reject);
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
