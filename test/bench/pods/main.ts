/**
 * bench-pods: pod startup latency and the agent's footprint (issue 6).
 * - real: on the testbed (1 server, 2 agent hosts, real containerd), N pods (100) created at
 *   once, then N more at a steady --real-create-rate (5 pods/s; 0 skips it); latency from each
 *   create call to Running seen on a watch, p50/p99, next to the Kubernetes SLO (p99 <= 5 s,
 *   images already present); then the resident memory of an idle agent and of one running 30 pods.
 * - hollow: one `flotilla server` (scheduler and controllers on) and hollow nodes
 *   (`--runtime fake` agents, many per process); P pods created with 32 in flight; startup
 *   latency p50/p99, the control plane's CPU (cores) and peak memory, and API latency (create,
 *   plus a get every second) while it runs.
 *   node --import tsx test/bench/pods/main.ts [--phase all|real|hollow] [--real-pods 100]
 *     [--real-create-rate 5] [--nodes 500] [--pods 20000] [--agents-per-process 50] [--kubeconfig K --testbed-name N]
 */
import { parseArgs } from "node:util";
import { runHollow } from "./hollow-phase.ts";
import { runReal } from "./real-phase.ts";

/** A flag's value as a number >= 0, or an error naming the flag. */
function count(values: Readonly<Record<string, string | boolean | undefined>>, flag: string): number {
  const text = values[flag];
  const value = Number(text);
  if (typeof text !== "string" || text.trim() === "" || !Number.isFinite(value) || value < 0) throw new Error(`--${flag} must be a number >= 0, got "${String(text)}"`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      phase: { type: "string", default: "all" },
      "real-pods": { type: "string", default: "100" },
      // Pods created per second in the real phase's second pass; 0 skips that pass.
      "real-create-rate": { type: "string", default: "5" },
      "memory-pods": { type: "string", default: "30" },
      nodes: { type: "string", default: "500" },
      pods: { type: "string", default: "20000" },
      "agents-per-process": { type: "string", default: "50" },
      kubeconfig: { type: "string", default: "" },
      "testbed-name": { type: "string", default: "" },
      "budget-seconds": { type: "string", default: "1800" },
      // Pods created per second in hollow mode; 0: as fast as the creates in flight allow.
      "create-rate": { type: "string", default: "0" },
    },
  });
  const phase = values.phase;
  if (phase !== "all" && phase !== "real" && phase !== "hollow") throw new Error("--phase must be all, real or hollow");
  if (phase !== "hollow") {
    await runReal({
      pods: count(values, "real-pods"),
      memoryPods: count(values, "memory-pods"),
      createPerSecond: count(values, "real-create-rate"),
      kubeconfig: values.kubeconfig,
      testbedName: values["testbed-name"],
    });
  }
  if (phase !== "real") {
    await runHollow({
      nodes: count(values, "nodes"),
      pods: count(values, "pods"),
      agentsPerProcess: count(values, "agents-per-process"),
      budgetMs: count(values, "budget-seconds") * 1000,
      createPerSecond: count(values, "create-rate"),
    });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench-pods: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
