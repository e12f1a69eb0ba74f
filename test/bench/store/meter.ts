/**
 * What a stretch of the benchmark cost: wall time, this client process's CPU, and the members'
 * CPU summed. Phases meter only their measured loop, so warm-up and set-up writes do not count.
 */
import { performance } from "node:perf_hooks";

export interface PhaseCost {
  readonly wallMs: number;
  readonly clientCpuMs: number;
  /** Undefined when a member was down or restarted in between (the leader-kill phase). */
  readonly membersCpuMs: number | undefined;
}

export interface Meter {
  /** Starts a measurement; returns the function that ends it and gives the cost. */
  begin(): () => PhaseCost;
}

/** Members' CPU so far keyed by "name/pid", or undefined when it cannot be read. */
export type MembersCpuReader = () => ReadonlyMap<string, number> | undefined;

/** CPU the members used between two readings, or undefined when a member restarted in between. */
export function membersCpuDeltaMs(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): number | undefined {
  let totalMs = 0;
  for (const [key, afterMs] of after) {
    const beforeMs = before.get(key);
    if (beforeMs === undefined) return undefined;
    totalMs += afterMs - beforeMs;
  }
  return before.size === after.size ? totalMs : undefined;
}

export function cpuMeter(readMembersCpu: MembersCpuReader): Meter {
  return {
    begin: () => {
      const startedAtMs = performance.now();
      const clientBefore = process.cpuUsage();
      const membersBefore = readMembersCpu();
      return () => {
        const client = process.cpuUsage(clientBefore);
        const membersAfter = readMembersCpu();
        return {
          wallMs: performance.now() - startedAtMs,
          clientCpuMs: (client.user + client.system) / 1000,
          membersCpuMs: membersBefore === undefined || membersAfter === undefined ? undefined : membersCpuDeltaMs(membersBefore, membersAfter),
        };
      };
    },
  };
}
