/**
 * The nemesis: injects one kind of fault into a running cluster, holds it, recovers, lets the
 * cluster settle, and repeats until the scenario's time is up. Every choice (victim, variant,
 * hold time) comes from a seeded PRNG, so a seed replays the same fault plan (the timing of the
 * store's own reactions still varies). Each action is logged with its scenario time.
 */
import type { Prng } from "../../libs/prng/index.ts";
import { errorText } from "./admin.ts";
import type { ClientPool } from "./client-pool.ts";
import { sleepMs, type ScenarioClock } from "./clock.ts";
import type { LabCluster, LabMember } from "./lab-cluster.ts";

export const scenarioKinds = ["kill-leader", "kill-random", "pause", "partition", "membership"] as const;
export type ScenarioKind = (typeof scenarioKinds)[number];

export interface FaultEvent {
  readonly atMs: number;
  readonly text: string;
}

/** A fault that took the leader away; write unavailability is measured from `atMs`. */
export interface LeaderLoss {
  readonly atMs: number;
  readonly kind: "kill" | "pause" | "isolate" | "remove";
  readonly member: string;
}

export interface NemesisContext {
  readonly cluster: LabCluster;
  readonly pool: ClientPool;
  readonly clock: ScenarioClock;
  readonly prng: Prng;
  readonly electionTimeoutMs: number;
  /** --plant stale-reads: partitions only isolate one member, and staleMember names it meanwhile. */
  readonly plantStaleReads: boolean;
  readonly events: FaultEvent[];
  readonly leaderLosses: LeaderLoss[];
  staleMember: LabMember | undefined;
}

/** Bound on faults per scenario; time ends a scenario long before. */
export const faultsPerScenarioMax = 200;
const calmMsRange = [1000, 2500] as const;
const killHoldMsRange = [1500, 4000] as const;
const partitionHoldMsRange = [2500, 5000] as const;
const removedHoldMsRange = [1000, 2500] as const;
/** A pause must outlast the election timeout so that the others elect without the paused member. */
const pauseHoldElectionTimeouts = [2, 4] as const;
const settleTimeoutMs = 20_000;
const memberChangeTimeoutMs = 20_000;
const leaderSearchTimeoutMs = 10_000;

function between(prng: Prng, range: readonly [number, number]): number {
  return range[0] + prng.nextInt(range[1] - range[0] + 1);
}

function pick<T>(prng: Prng, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[prng.nextInt(items.length)];
}

function note(ctx: NemesisContext, text: string): void {
  ctx.events.push({ atMs: ctx.clock.nowMs(), text });
}

async function leaderOrUndefined(ctx: NemesisContext): Promise<LabMember | undefined> {
  try {
    return await ctx.cluster.waitLeader(leaderSearchTimeoutMs);
  } catch {
    note(ctx, `no leader within ${leaderSearchTimeoutMs} ms; fault skipped`);
    return undefined;
  }
}

/** Faults until `stopAtMs` (scenario time); each fault is fully recovered before the next. */
export async function runNemesis(kind: ScenarioKind, ctx: NemesisContext, stopAtMs: number): Promise<void> {
  await sleepMs(between(ctx.prng, calmMsRange));
  for (let count = 0; count < faultsPerScenarioMax && ctx.clock.nowMs() < stopAtMs; count++) {
    await injectOne(kind, ctx);
    await settle(ctx);
    if (ctx.clock.nowMs() < stopAtMs) await sleepMs(between(ctx.prng, calmMsRange));
  }
}

async function injectOne(kind: ScenarioKind, ctx: NemesisContext): Promise<void> {
  switch (kind) {
    case "kill-leader":
      return killAndRestart(ctx, await leaderOrUndefined(ctx));
    case "kill-random":
      return killAndRestart(ctx, pick(ctx.prng, ctx.cluster.liveMembers()));
    case "pause":
      return pauseAndResume(ctx);
    case "partition":
      return partitionAndHeal(ctx);
    case "membership":
      return removeAndAddBack(ctx);
  }
}

async function isLeader(ctx: NemesisContext, member: LabMember): Promise<boolean> {
  return (await ctx.cluster.findLeader()) === member;
}

async function killAndRestart(ctx: NemesisContext, victim: LabMember | undefined): Promise<void> {
  if (victim === undefined) return;
  const wasLeader = await isLeader(ctx, victim);
  const atMs = ctx.clock.nowMs();
  await ctx.cluster.kill(victim);
  note(ctx, `SIGKILL ${victim.name}${wasLeader ? " (leader)" : ""}`);
  if (wasLeader) ctx.leaderLosses.push({ atMs, kind: "kill", member: victim.name });
  await sleepMs(between(ctx.prng, killHoldMsRange));
  ctx.cluster.startMember(victim);
  ctx.pool.renew(victim);
  note(ctx, `restart ${victim.name}`);
}

async function pauseAndResume(ctx: NemesisContext): Promise<void> {
  const wantLeader = ctx.prng.nextInt(2) === 0;
  const victim = wantLeader ? await leaderOrUndefined(ctx) : pick(ctx.prng, ctx.cluster.liveMembers());
  if (victim === undefined) return;
  const wasLeader = wantLeader || (await isLeader(ctx, victim));
  const holdMs = ctx.electionTimeoutMs * between(ctx.prng, pauseHoldElectionTimeouts);
  ctx.cluster.pause(victim);
  note(ctx, `SIGSTOP ${victim.name}${wasLeader ? " (leader)" : ""} for ${holdMs} ms`);
  if (wasLeader) ctx.leaderLosses.push({ atMs: ctx.clock.nowMs(), kind: "pause", member: victim.name });
  await sleepMs(holdMs);
  ctx.cluster.resume(victim);
  note(ctx, `SIGCONT ${victim.name}`);
}

const partitionVariants = ["majority-minority", "leader-isolated", "one-way-from-leader", "one-way-to-leader"] as const;

async function partitionAndHeal(ctx: NemesisContext): Promise<void> {
  const leader = await leaderOrUndefined(ctx);
  if (leader === undefined) return;
  const members = ctx.cluster.members.filter((member) => !member.removed);
  const variant = ctx.plantStaleReads ? (ctx.prng.nextInt(2) === 0 ? "leader-isolated" : "majority-minority") : pick(ctx.prng, partitionVariants);
  const lab = ctx.cluster.lab;
  const followers = members.filter((member) => member !== leader);
  let minority: LabMember[] = [];
  switch (variant) {
    case "majority-minority": {
      // The plant needs one member alone; otherwise any minority size up to (n-1)/2.
      const minoritySize = ctx.plantStaleReads ? 1 : 1 + ctx.prng.nextInt(Math.floor((members.length - 1) / 2));
      minority = shuffled(ctx.prng, members).slice(0, minoritySize);
      lab.partition([minority.map((member) => member.host), members.filter((member) => !minority.includes(member)).map((member) => member.host)]);
      break;
    }
    case "leader-isolated":
      minority = [leader];
      lab.isolate(leader.host);
      break;
    case "one-way-from-leader":
      lab.heal();
      for (const follower of followers) lab.dropOneWay(leader.host, follower.host);
      break;
    case "one-way-to-leader":
      lab.heal();
      for (const follower of followers) lab.dropOneWay(follower.host, leader.host);
      break;
    case undefined:
      return;
  }
  const description = minority.length > 0 ? `${variant}: {${minority.map((m) => m.name).join(",")}} cut from the rest` : `${variant} (leader ${leader.name})`;
  note(ctx, `partition ${description}`);
  if (variant !== "majority-minority" || minority.includes(leader)) ctx.leaderLosses.push({ atMs: ctx.clock.nowMs(), kind: "isolate", member: leader.name });
  if (ctx.plantStaleReads && minority.length === 1) ctx.staleMember = minority[0];
  await sleepMs(between(ctx.prng, partitionHoldMsRange));
  ctx.staleMember = undefined;
  lab.heal();
  note(ctx, "heal network");
}

function shuffled<T>(prng: Prng, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = prng.nextInt(i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

async function removeAndAddBack(ctx: NemesisContext): Promise<void> {
  const wantLeader = ctx.prng.nextInt(2) === 0;
  const leader = await leaderOrUndefined(ctx);
  if (leader === undefined) return;
  const victim = wantLeader ? leader : pick(ctx.prng, ctx.cluster.liveMembers().filter((member) => member !== leader));
  if (victim === undefined) return;
  try {
    await ctx.cluster.refreshMemberIds();
    const atMs = ctx.clock.nowMs();
    await ctx.cluster.removeMember(victim, memberChangeTimeoutMs);
    note(ctx, `MemberRemove ${victim.name}${victim === leader ? " (leader)" : ""}, process stopped, data dir dropped`);
    if (victim === leader) ctx.leaderLosses.push({ atMs, kind: "remove", member: victim.name });
    await sleepMs(between(ctx.prng, removedHoldMsRange));
    await ctx.cluster.addMemberBack(victim, memberChangeTimeoutMs);
    ctx.pool.renew(victim);
    note(ctx, `MemberAdd ${victim.name} as a new member (id ${victim.memberId ?? "?"}), started with --initial-cluster-state=existing`);
  } catch (error) {
    note(ctx, `membership change of ${victim.name} failed: ${errorText(error)}${error instanceof Error && error.cause !== undefined ? ` (${errorText(error.cause)})` : ""}`);
  }
}

async function settle(ctx: NemesisContext): Promise<void> {
  try {
    await ctx.cluster.waitHealthy(settleTimeoutMs);
  } catch (error) {
    note(ctx, `cluster not healthy ${settleTimeoutMs} ms after recovery: ${errorText(error)}`);
  }
}

/** End of a scenario: heal the network, resume, restart and re-add every member, wait for health. */
export async function recoverAll(ctx: NemesisContext, timeoutMs: number): Promise<void> {
  const cluster = ctx.cluster;
  ctx.staleMember = undefined;
  cluster.lab.heal();
  for (const member of cluster.members) {
    if (member.paused) cluster.resume(member);
    if (!member.removed && !cluster.isRunning(member)) {
      cluster.startMember(member);
      ctx.pool.renew(member);
      note(ctx, `final recovery: restart ${member.name}, which had exited on its own`);
    }
  }
  for (const member of cluster.members.filter((candidate) => candidate.removed)) {
    await cluster.addMemberBack(member, memberChangeTimeoutMs);
    ctx.pool.renew(member);
    note(ctx, `final recovery: MemberAdd ${member.name}`);
  }
  await cluster.waitHealthy(timeoutMs);
}
