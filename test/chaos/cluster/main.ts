/**
 * `make chaos`: faults on a whole cluster under load. Brings up a testbed of 3 servers and 2
 * agents (scripts/testbed), deploys the demo (a 2-replica busybox httpd Deployment behind
 * NodePort 30080), then runs each scenario (scenarios.ts) for --seconds while one client writes
 * ConfigMaps and one calls the Service, and checks the invariants after each (run.ts). The
 * testbed is removed at the end, on failure and on Ctrl-C too (unless --keep).
 *
 * Exit code: 0 when every scenario held every invariant, 1 on any violation, 2 when the run
 * could not start.
 */
import { join } from "node:path";
import { FlagError, flagsHelp, parseFlags, type FlagSpecs } from "../../../libs/flags/index.ts";
import { waitFor } from "../../harness/wait.ts";
import { AdminClient } from "../admin.ts";
import { findResource } from "../../../libs/api/index.ts";
import { heal, waitStoreHealthy } from "./faults.ts";
import { statefulSetName, statefulSetNamespace } from "./node-checks.ts";
import { apiClient } from "./load.ts";
import { deploymentReady, formatOutcome, formatTable, runScenario, type ScenarioOutcome } from "./run.ts";
import { allScenarios } from "./scenarios.ts";
import { readTestbed, repoRoot, run, say, servers, signalHost, testbedDown, testbedUp, type Testbed } from "./testbed.ts";

const flagSpecs = {
  seconds: { type: "integer", default: 30, min: 5, max: 600, help: "how long each scenario injects faults" },
  only: { type: "string", default: "", help: "comma-separated scenario numbers (1,2,8,5,3,4,6,7); default all" },
  name: { type: "string", default: "fchaos", help: "testbed name (at most 6 characters)" },
  keep: { type: "boolean", default: false, help: "leave the testbed up at the end" },
  reuse: { type: "boolean", default: false, help: "run on the testbed --name that is already up (implies --keep)" },
} as const satisfies FlagSpecs;

/** First start of the demo: images are local, so 2 ready pods come within this. */
const demoReadyTimeoutMs = 180_000;
const adminRequestTimeoutMs = 1_000;
/** Replicas in statefulset.yaml. */
const statefulSetReplicas = 2;

async function deployDemo(testbed: Testbed, client: ReturnType<typeof apiClient>): Promise<void> {
  await run(["kubectl", "--kubeconfig", testbed.kubeconfig, "apply", "-f", join(repoRoot, "cluster-config/demo/hello.yaml")]);
  await run(["kubectl", "--kubeconfig", testbed.kubeconfig, "apply", "-f", join(repoRoot, "test/chaos/cluster/statefulset.yaml")]);
  await waitFor(async () => ((await deploymentReady(client)) ? true : undefined), { timeoutMs: demoReadyTimeoutMs, intervalMs: 1_000, description: "the demo Deployment's 2 replicas ready" });
  const statefulSets = findResource("apps", "v1", "statefulsets");
  if (statefulSets === undefined) throw new Error("statefulsets is not a known resource");
  await waitFor(async () => {
    const set = (await client.get(statefulSets, statefulSetNamespace, statefulSetName)) as { status?: { readyReplicas?: number } };
    return set.status?.readyReplicas === statefulSetReplicas ? true : undefined;
  }, { timeoutMs: demoReadyTimeoutMs, intervalMs: 1_000, description: `StatefulSet ${statefulSetName}'s ${statefulSetReplicas} replicas ready` });
}

/** Leaves no fault behind: partitions healed, paused servers continued. */
function clearFaults(testbed: Testbed): void {
  heal(testbed);
  for (const host of servers(testbed)) signalHost(host, "SIGCONT");
}

async function runAll(testbed: Testbed, seconds: number, only: readonly string[]): Promise<ScenarioOutcome[]> {
  const admin = new AdminClient(adminRequestTimeoutMs);
  const client = apiClient(testbed.kubeconfig, servers(testbed).map((host) => `https://${host.ip}:6443`));
  const outcomes: ScenarioOutcome[] = [];
  try {
    await waitStoreHealthy(admin, testbed);
    await deployDemo(testbed, client);
    const chosen = allScenarios.filter((scenario) => only.length === 0 || only.includes(scenario.id.split("/")[0] ?? ""));
    for (const [index, scenario] of chosen.entries()) {
      say(`\n== scenario ${scenario.id}: ${scenario.title} (${seconds} s)`);
      const outcome = await runScenario(scenario, index, testbed, admin, client, seconds);
      clearFaults(testbed);
      say(formatOutcome(outcome));
      outcomes.push(outcome);
    }
  } finally {
    admin.close();
    client.close();
  }
  return outcomes;
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseFlags(flagSpecs, argv);
  if (parsed.help) {
    process.stdout.write(flagsHelp("node --import tsx test/chaos/cluster/main.ts [flags]\n\nCluster chaos on a 3-server 2-agent testbed.", flagSpecs));
    return 0;
  }
  const { seconds, only, name, reuse } = parsed.values;
  const keep = parsed.values.keep || reuse;
  if (process.getuid?.() !== 0) throw new FlagError("name", "the testbed needs root (network namespaces, nftables)");
  say(`testbed ${name}: 3 servers, 2 agents (scripts/testbed up; about 2-3 minutes)`);
  let testbed: Testbed | undefined;
  const cleanUp = (): void => {
    if (testbed !== undefined) clearFaults(testbed);
    if (!keep) testbedDown(name);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(130);
    });
  }
  try {
    testbed = reuse ? readTestbed(name) : await testbedUp(name);
    const outcomes = await runAll(testbed, seconds, only === "" ? [] : only.split(","));
    say(`\n${formatTable(outcomes)}`);
    const violations = outcomes.reduce((sum, outcome) => sum + outcome.violations.length, 0);
    say(`\n${outcomes.length} scenarios, ${violations} invariant violations`);
    return violations === 0 && outcomes.length > 0 ? 0 : 1;
  } finally {
    cleanUp();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof FlagError ? 2 : 1);
  },
);
