/**
 * Prometheus metrics with prom-client (the de facto Node.js exposition library), and the small
 * HTTP endpoint every Flotilla daemon serves: /metrics in the text format, /health as JSON.
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export { Counter, Gauge, Histogram, Registry };

export function createRegistry(prefix = "flotilla_"): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return registry;
}

export interface HealthReport {
  readonly healthy: boolean;
  readonly reason?: string;
}

/** Serves /metrics and /health on host:port; resolves once listening. */
export async function serveMetrics(registry: Registry, host: string, port: number, health: () => Promise<HealthReport>): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => {
          response.writeHead(200, { "content-type": registry.contentType });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(500, { "content-type": "text/plain" });
          response.end(String(error));
        },
      );
      return;
    }
    if (path === "/health") {
      health().then(
        (report) => {
          response.writeHead(report.healthy ? 200 : 503, { "content-type": "application/json" });
          response.end(JSON.stringify({ health: String(report.healthy), reason: report.reason ?? "" }));
        },
        (error: unknown) => {
          response.writeHead(503, { "content-type": "application/json" });
          response.end(JSON.stringify({ health: "false", reason: String(error) }));
        },
      );
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" });
    response.end("not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
