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
import { run, wellKnownNodeLabels } from "../../../services/agent/main.ts";
import { joinOrLoad } from "../../../services/agent/nodeclient/index.ts";

/** Tries of one hollow node's join before the process gives up on it. */
const joinAttemptsMax = 20;
const joinRetryDelayMs = 2_000;

async function joinWithRetries(options: Parameters<typeof joinOrLoad>[0], signal: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await joinOrLoad(options);
      return;
    } catch (error) {
      if (attempt >= joinAttemptsMax || signal.aborted) throw new Error(`join ${options.nodeName}`, { cause: error });
      await new Promise((done) => setTimeout(done, joinRetryDelayMs));
    }
  }
}

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
  for (let index = 0; index < count && !stop.signal.aborted; index++) {
    const nodeName = `${values.prefix ?? ""}${index}`;
    const nodeDir = join(dataDir, nodeName);
    mkdirSync(nodeDir, { recursive: true });
    const parsed = parseAgentFlags(["--server", values.server ?? "", "--token", values.token ?? "", "--node-name", nodeName, "--node-ip", `10.200.${Math.floor(index / 250)}.${(index % 250) + 1}`, "--data-dir", nodeDir, "--runtime", "fake"]);
    if (!("config" in parsed)) throw new Error("hollow agent flags");
    // One join at a time per process (hundreds at once time out on a busy server); run() then
    // finds the saved credentials.
    await joinWithRetries({ server: parsed.config.server, token: parsed.config.token, nodeName, dataDir: nodeDir, labels: wellKnownNodeLabels(nodeName) }, stop.signal);
    running.push(
      run(parsed.config, stop.signal).catch((error: unknown) => {
        process.stderr.write(`hollow ${nodeName}: ${String(error)}: ${String((error as { cause?: unknown }).cause)}\n`);
      }),
    );
  }
  process.stdout.write(`started ${count}\n`);
  await Promise.all(running);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const cause = (error as { cause?: unknown }).cause;
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}: ${cause instanceof Error ? `${cause.message} ${String((cause as { cause?: unknown }).cause ?? "")}` : String(cause)}\n`);
    process.exit(1);
  },
);
