/**
 * The network bench's child process: `node --import tsx child.ts '<json job>'`. A `serve-http`
 * job answers every request with a short body until killed (it prints "ready" once listening);
 * a load job runs and prints one JSON line with its summary.
 */
import http from "node:http";
import { runDnsLoad, runHttpLoad, summarizeLoad, type ChildJob } from "./load.ts";

async function serve(port: number): Promise<void> {
  const body = Buffer.from("ok\n");
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    response.end(body);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(port, "0.0.0.0", resolve));
  process.stdout.write("ready\n");
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "{}") as ChildJob;
  if (job.mode === "serve-http") return serve(job.port);
  const result = job.mode === "http-load" ? await runHttpLoad(job) : await runDnsLoad(job);
  process.stdout.write(`${JSON.stringify(summarizeLoad(result))}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
