/**
 * The fault side of each scenario: a nemesis that repeats one kind of fault until the scenario's
 * time is up, holding each fault a few seconds and waiting for the store to be whole again
 * before the next. Every loop is bounded by the deadline and by faultsMaxPerScenario.
 */
import type { HttpApiClient } from "../../../libs/client/index.ts";
import type { AdminClient } from "../admin.ts";
import { sleepMs, type ScenarioClock } from "../clock.ts";
import { controllerHolder, heal, partition, storeLeader, waitStoreHealthy } from "./faults.ts";
import { agents, killContainerd, restartAgent, restartContainerd, restartServer, servers, signalHost, type Testbed, type TestbedHost } from "./testbed.ts";

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
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Injects one fault and heals it; false when no victim was found (the nemesis retries). */
  readonly once: (context: FaultContext) => Promise<boolean>;
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

export const allScenarios: readonly Scenario[] = [killStoreLeader, killControllerReplica, pauseStoreLeader, partitionControlPlane, killAgentHost, partitionAgent];

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
