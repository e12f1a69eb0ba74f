/**
 * Hollow nodes for bench-pods: many `flotilla agent --runtime fake` in one process (the real
 * agent's run(), each with its own node name, data directory and node-API connection; containers
 * "run" in memory). Runs until SIGTERM.
 *   node --import tsx test/bench/pods/hollow.ts --server https://IP:6443 --token T --prefix h0- --count 50 --data-dir D
 */
import { setMaxListeners } from "node:events";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseAgentFlags } from "../../../services/agent/config.ts";
import { run } from "../../../services/agent/main.ts";

/** Joins at once against one API server: more only queue behind its CSR signing. */
const joinConcurrency = 8;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { server: { type: "string" }, token: { type: "string" }, prefix: { type: "string", default: "hollow-" }, count: { type: "string", default: "10" }, "data-dir": { type: "string" } },
  });
  const count = Number(values.count);
  const dataDir = values["data-dir"] ?? "";
  const stop = new AbortController();
  // Every agent's loops listen on the one signal.
  setMaxListeners(0, stop.signal);
  process.once("SIGTERM", () => stop.abort());
  process.once("SIGINT", () => stop.abort());
  const running: Promise<void>[] = [];
  for (let index = 0; index < count; index++) {
    const nodeName = `${values.prefix ?? ""}${index}`;
    const nodeDir = join(dataDir, nodeName);
    mkdirSync(nodeDir, { recursive: true });
    const parsed = parseAgentFlags(["--server", values.server ?? "", "--token", values.token ?? "", "--node-name", nodeName, "--node-ip", `10.200.${Math.floor(index / 250)}.${(index % 250) + 1}`, "--data-dir", nodeDir, "--runtime", "fake"]);
    if (!("config" in parsed)) throw new Error("hollow agent flags");
    running.push(
      run(parsed.config, stop.signal).catch((error: unknown) => {
        process.stderr.write(`hollow ${nodeName}: ${String(error)}\n`);
      }),
    );
    // Joins go out a few at a time; the rest wait so the server signs them in order.
    if (running.length % joinConcurrency === 0) await new Promise((done) => setTimeout(done, 1_000));
  }
  process.stdout.write(`started ${count}\n`);
  await Promise.all(running);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
