/**
 * The fault side of each scenario: a nemesis that repeats one kind of fault until the scenario's
 * time is up, holding each fault a few seconds and waiting for the store to be whole again
 * before the next. Every loop is bounded by the deadline and by faultsMaxPerScenario.
 */
import type { HttpApiClient } from "../../../libs/client/index.ts";
import type { AdminClient } from "../admin.ts";
import { sleepMs, type ScenarioClock } from "../clock.ts";
import { controllerHolder, heal, partition, storeLeader, waitStoreHealthy } from "./faults.ts";
import { fillDisk, freeDisk, waitAgentExecs, waitDiskPressure } from "./node-faults.ts";
import { podSnapshot, restartsBetween } from "./node-checks.ts";
import { agents, killContainerd, restartAgent, restartContainerd, restartServer, servers, signalHost, stopContainerd, stopHost, type Testbed, type TestbedHost } from "./testbed.ts";

export const faultsMaxPerScenario = 50;
/** A killed server stays down this long before it is restarted. */
export const killHoldMs = 2_000;
/** The store's election timeout is 1000 ms; a pause of three of them forces an election. */
export const pauseHoldMs = 3_000;
export const partitionHoldMs = 6_000;
/** Rest between faults, once the store is whole again. */
const restBetweenFaultsMs = 1_000;

export interface FaultContext {
  readonly testbed: Testbed;
  readonly admin: AdminClient;
  readonly client: HttpApiClient;
  readonly clock: ScenarioClock;
  readonly deadlineMs: number;
  readonly log: (text: string) => void;
  /** What a scenario's own checks found (pods restarted, a condition never cleared). */
  readonly violations: string[];
  /** Per fault, from its healing until the scenario's own recovery check passed (ms). */
  readonly faultRecoveriesMs: number[];
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Injects one fault and heals it; false when no victim was found (the nemesis retries). */
  readonly once: (context: FaultContext) => Promise<boolean>;
  /** The Service must answer every call, not only keep its gaps short (a planned operation, not a fault). */
  readonly serviceAnswersEveryCall?: boolean;
}

export interface NemesisResult {
  readonly faults: number;
  /** Per fault, from its injection until every store member is back and agrees on a leader; the longest. */
  readonly longestStoreRecoveryMs: number;
}

async function killAndRestart(context: FaultContext, victim: TestbedHost, why: string): Promise<void> {
  signalHost(victim, "SIGKILL");
  context.log(`SIGKILL ${victim.name} (${why})`);
  await sleepMs(killHoldMs);
  await restartServer(context.testbed, victim);
  context.log(`restarted ${victim.name}`);
}

const killStoreLeader: Scenario = {
  id: "1/kill-store-leader",
  title: "kill -9 the store leader, restart it, repeatedly",
  once: async (context) => {
    const leader = await storeLeader(context.admin, context.testbed);
    if (leader === undefined) return false;
    await killAndRestart(context, leader, "store leader");
    return true;
  },
};

const killControllerReplica: Scenario = {
  id: "2/kill-controller-replica",
  title: "kill -9 the replica holding the kube-controller-manager Lease, restart it",
  once: async (context) => {
    const holder = await controllerHolder(context.client, context.testbed).catch(() => undefined);
    if (holder === undefined) return false;
    await killAndRestart(context, holder, "kube-controller-manager Lease holder");
    return true;
  },
};

const pauseStoreLeader: Scenario = {
  id: "8/pause-store-leader",
  title: `SIGSTOP the store leader for ${pauseHoldMs} ms (3 election timeouts), then SIGCONT`,
  once: async (context) => {
    const leader = await storeLeader(context.admin, context.testbed);
    if (leader === undefined) return false;
    signalHost(leader, "SIGSTOP");
    context.log(`SIGSTOP ${leader.name} (store leader)`);
    try {
      await sleepMs(pauseHoldMs);
    } finally {
      signalHost(leader, "SIGCONT");
      context.log(`SIGCONT ${leader.name}`);
    }
    return true;
  },
};

let partitionRound = 0;
const partitionControlPlane: Scenario = {
  id: "5/partition-2-1",
  title: `partition the control plane 2 against 1 for ${partitionHoldMs} ms (the store leader or another replica alone)`,
  once: async (context) => {
    const all = servers(context.testbed);
    const leader = await storeLeader(context.admin, context.testbed);
    partitionRound++;
    const alone = partitionRound % 2 === 1 && leader !== undefined ? leader : all[partitionRound % all.length];
    if (alone === undefined) return false;
    partition([alone], all.filter((host) => host !== alone));
    context.log(`partition ${alone.name} | ${all.filter((host) => host !== alone).map((host) => host.name).join(",")}${alone === leader ? " (store leader alone)" : ""}`);
    try {
      await sleepMs(partitionHoldMs);
    } finally {
      heal(context.testbed);
      context.log("healed");
    }
    return true;
  },
};

/** An agent host stays down (or cut off) this long: less than its Lease's 40 s, so no eviction. */
export const agentHoldMs = 5_000;
let agentRound = 0;

function nextAgent(testbed: Testbed): TestbedHost | undefined {
  const hosts = agents(testbed);
  agentRound++;
  return hosts[agentRound % hosts.length];
}

const killAgentHost: Scenario = {
  id: "3/kill-agent-host",
  title: `kill -9 an agent host's agent and containerd for ${agentHoldMs} ms, then start both again`,
  once: async (context) => {
    const victim = nextAgent(context.testbed);
    if (victim === undefined) return false;
    signalHost(victim, "SIGKILL");
    killContainerd(victim);
    context.log(`SIGKILL agent and containerd on ${victim.name}`);
    await sleepMs(agentHoldMs);
    await restartContainerd(victim);
    await restartAgent(context.testbed, victim);
    context.log(`restarted containerd and agent on ${victim.name}`);
    return true;
  },
};

const partitionAgent: Scenario = {
  id: "4/partition-agent",
  title: `partition an agent host from every server for ${agentHoldMs} ms, then heal`,
  once: async (context) => {
    const victim = nextAgent(context.testbed);
    if (victim === undefined) return false;
    partition([victim], servers(context.testbed));
    context.log(`partition ${victim.name} | servers`);
    try {
      await sleepMs(agentHoldMs);
    } finally {
      heal(context.testbed);
      context.log("healed");
    }
    return true;
  },
};

/** Runs `fault` on an agent host and checks that none of the pods bound there restarted. */
async function withoutRestarts(context: FaultContext, victim: TestbedHost, fault: () => Promise<void>): Promise<void> {
  const before = await podSnapshot(context.client, victim.namespace);
  await fault();
  const after = await podSnapshot(context.client, victim.namespace);
  const restarts = restartsBetween(before, after);
  context.log(`${before.size} pods on ${victim.name} checked: ${restarts.length === 0 ? "none restarted" : restarts.join("; ")}`);
  context.violations.push(...restarts);
}

const restartContainerdOnce: Scenario = {
  id: "6/restart-containerd",
  title: "restart containerd on an agent host (SIGTERM, start again): pods keep running, the agent reconnects, nothing restarts",
  once: async (context) => {
    const victim = nextAgent(context.testbed);
    if (victim === undefined) return false;
    await withoutRestarts(context, victim, async () => {
      await stopContainerd(victim);
      context.log(`containerd on ${victim.name} stopped`);
      await restartContainerd(victim);
      const startedMs = context.clock.nowMs();
      context.log(`containerd on ${victim.name} started again`);
      await waitAgentExecs(context, victim);
      context.faultRecoveriesMs.push(context.clock.nowMs() - startedMs);
      context.log(`the agent on ${victim.name} runs exec through containerd again after ${((context.clock.nowMs() - startedMs) / 1000).toFixed(1)} s`);
    });
    return true;
  },
};

const fillAgentDisk: Scenario = {
  id: "7/fill-disk",
  title: "fill an agent host's data disk (a bounded tmpfs) past the 10% eviction threshold: DiskPressure, then free it: cleared",
  once: async (context) => {
    const victim = nextAgent(context.testbed);
    if (victim === undefined) return false;
    await withoutRestarts(context, victim, async () => {
      const filledBytes = fillDisk(victim);
      context.log(`filled ${victim.name}'s data disk with ${(filledBytes / 1024 ** 2).toFixed(0)} MiB`);
      try {
        const seenMs = await waitDiskPressure(context, victim, true);
        context.log(`${victim.name} reports DiskPressure after ${(seenMs / 1000).toFixed(1)} s`);
      } finally {
        freeDisk(victim);
      }
      const freedMs = context.clock.nowMs();
      context.log(`freed ${victim.name}'s data disk`);
      const clearedMs = await waitDiskPressure(context, victim, false);
      context.faultRecoveriesMs.push(clearedMs);
      context.log(`DiskPressure on ${victim.name} cleared ${(clearedMs / 1000).toFixed(1)} s after freeing (${((context.clock.nowMs() - freedMs) / 1000).toFixed(1)} s)`);
    });
    return true;
  },
};

/**
 * The rolling upgrade procedure (README, operations) with the same build: each server stopped
 * cleanly and started again, waiting for a whole store in between; then each agent the same way,
 * waiting until exec through it works again. Nothing may restart and the Service answers every call.
 */
const rollingRestart: Scenario = {
  id: "9/rolling-restart",
  title: "rolling restart (upgrade procedure, same build): the 3 servers one at a time, then the agents one at a time",
  serviceAnswersEveryCall: true,
  once: async (context) => {
    const before = await Promise.all(agents(context.testbed).map(async (host) => ({ host, pods: await podSnapshot(context.client, host.namespace) })));
    for (const server of servers(context.testbed)) {
      await stopHost(server);
      context.log(`stopped ${server.name} (SIGTERM)`);
      await restartServer(context.testbed, server);
      await waitStoreHealthy(context.admin, context.testbed);
      context.log(`${server.name} is back and the store is whole`);
    }
    for (const agent of agents(context.testbed)) {
      await stopHost(agent);
      context.log(`stopped the agent on ${agent.name} (SIGTERM)`);
      const startedMs = context.clock.nowMs();
      await restartAgent(context.testbed, agent);
      await waitAgentExecs(context, agent);
      context.faultRecoveriesMs.push(context.clock.nowMs() - startedMs);
      context.log(`the agent on ${agent.name} is back (exec through it works)`);
    }
    for (const { host, pods } of before) {
      const restarts = restartsBetween(pods, await podSnapshot(context.client, host.namespace));
      context.log(`${pods.size} pods on ${host.name} checked: ${restarts.length === 0 ? "none restarted" : restarts.join("; ")}`);
      context.violations.push(...restarts);
    }
    return true;
  },
};

export const allScenarios: readonly Scenario[] = [
  killStoreLeader, killControllerReplica, pauseStoreLeader, partitionControlPlane, killAgentHost, partitionAgent, fillAgentDisk, rollingRestart,
  // Last: a containerd restart leaves pods marked NotReady for good (README, findings), which
  // would otherwise count against every later scenario.
  restartContainerdOnce,
];

/** Repeats the scenario's fault until the deadline. */
export async function runNemesis(scenario: Scenario, context: FaultContext): Promise<NemesisResult> {
  let faults = 0;
  let longestStoreRecoveryMs = 0;
  for (let attempt = 0; attempt < faultsMaxPerScenario && context.clock.nowMs() < context.deadlineMs; attempt++) {
    const injectedMs = context.clock.nowMs();
    const injected = await scenario.once(context);
    if (!injected) await sleepMs(restBetweenFaultsMs);
    await waitStoreHealthy(context.admin, context.testbed);
    if (injected) {
      faults++;
      longestStoreRecoveryMs = Math.max(longestStoreRecoveryMs, context.clock.nowMs() - injectedMs);
    }
    await sleepMs(restBetweenFaultsMs);
  }
  return { faults, longestStoreRecoveryMs };
}
