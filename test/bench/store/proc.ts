/**
 * What the member processes cost, read from /proc: resident memory (workload 6) and CPU time.
 * The pid is the Daemon's: etcd is spawned directly, and scripts/flotilla execs node in its own
 * process, so both pids are the server itself. The process name is recorded to prove it.
 */
import { readFileSync } from "node:fs";
import type { StoreCluster } from "../../harness/store-cluster.ts";

export interface MemberMemory {
  readonly member: string;
  readonly pid: number;
  /** /proc/PID/comm: "etcd" or "node"; a shell would mean the wrong process was measured. */
  readonly processName: string;
  readonly residentMiB: number;
  /** RssAnon (heap, malloc, stacks) and RssFile (mapped files: the executable, shared libraries). */
  readonly anonymousMiB: number;
  readonly fileMiB: number;
}

const kibPerMib = 1024;
/** Linux reports utime and stime in USER_HZ ticks, 100 per second on every architecture. */
const userHz = 100;
/** A shell here means a wrapper did not exec the server, and its RSS says nothing. */
const wrapperProcessNames = new Set(["sh", "dash", "bash"]);

/** VmRSS in KiB from the text of /proc/PID/status. */
export function parseVmRssKiB(statusText: string): number {
  return parseStatusKiB(statusText, "VmRSS");
}

/** One "Name:   123 kB" line of /proc/PID/status, in KiB. */
export function parseStatusKiB(statusText: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, "m").exec(statusText);
  if (match === null) throw new Error(`no ${name} line in /proc/PID/status (a kernel thread or an exited process?)`);
  return Number(match[1]);
}

/**
 * utime + stime in ms from the text of /proc/PID/stat. The command name (field 2) may hold
 * spaces and parentheses, so fields are counted from the last ")".
 */
export function parseCpuMs(statText: string): number {
  const fields = statText.slice(statText.lastIndexOf(")") + 2).trim().split(/\s+/);
  // After the name: state is field 3, so utime (field 14) and stime (field 15) are at 11 and 12.
  const utimeTicks = Number(fields[11]);
  const stimeTicks = Number(fields[12]);
  if (!Number.isInteger(utimeTicks) || !Number.isInteger(stimeTicks)) throw new Error("malformed /proc/PID/stat");
  return ((utimeTicks + stimeTicks) * 1000) / userHz;
}

function runningPids(cluster: StoreCluster): Map<string, number> {
  const pids = new Map<string, number>();
  for (const member of cluster.members) {
    const pid = member.daemon?.pid;
    if (pid === undefined || member.daemon?.running !== true) throw new Error(`member ${member.name} is not running`);
    pids.set(member.name, pid);
  }
  return pids;
}

export function memberMemory(cluster: StoreCluster): MemberMemory[] {
  return [...runningPids(cluster)].map(([member, pid]) => {
    const processName = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    if (wrapperProcessNames.has(processName)) throw new Error(`member ${member}: pid ${pid} is a ${processName} wrapper, not the server`);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const residentMiB = parseVmRssKiB(status) / kibPerMib;
    return { member, pid, processName, residentMiB, anonymousMiB: parseStatusKiB(status, "RssAnon") / kibPerMib, fileMiB: parseStatusKiB(status, "RssFile") / kibPerMib };
  });
}

/** CPU time used so far by each running member, keyed by "name/pid" so a restart is visible. */
export function membersCpuMs(cluster: StoreCluster): Map<string, number> {
  const cpu = new Map<string, number>();
  for (const [member, pid] of runningPids(cluster)) cpu.set(`${member}/${pid}`, parseCpuMs(readFileSync(`/proc/${pid}/stat`, "utf8")));
  return cpu;
}
