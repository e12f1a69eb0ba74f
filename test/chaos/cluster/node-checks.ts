/**
 * What the node scenarios check beyond the API: the pods on a node before and after a fault
 * (same pod UIDs, same container IDs, no restart counted), and what actually runs on every agent
 * host, read from runc's state (which answers while containerd is down): never two running pods
 * of one StatefulSet identity at once, across all hosts.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { findResource } from "../../../libs/api/index.ts";
import type { HttpApiClient } from "../../../libs/client/index.ts";
import { sleepMs } from "../clock.ts";
import type { TestbedHost } from "./testbed.ts";

export const statefulSetName = "chaos-sts";
export const statefulSetNamespace = "default";
/** How often the identity watcher reads every host's runc state. */
export const identityPollMs = 500;
/** Bound on identity polls per scenario, whatever its length. */
export const identityPollsMax = 5_000;
const runcListTimeoutMs = 5_000;
const runcOutputBytesMax = 8 * 1024 * 1024;

export interface ContainerState {
  readonly containerId: string;
  readonly restartCount: number;
}

/** Pod name → its UID and containers, for the pods bound to one node. */
export type PodSnapshot = ReadonlyMap<string, { readonly uid: string; readonly containers: ReadonlyMap<string, ContainerState> }>;

interface PodShape {
  metadata: { name: string; namespace?: string; uid?: string };
  status?: { containerStatuses?: { name: string; containerID?: string; restartCount?: number }[] };
}

export async function podSnapshot(client: HttpApiClient, nodeName: string): Promise<PodSnapshot> {
  const pods = findResource("", "v1", "pods");
  if (pods === undefined) throw new Error("pods is not a known resource");
  const list = await client.list<PodShape & { apiVersion?: string; kind?: string }>(pods, undefined, { fieldSelector: `spec.nodeName=${nodeName}` });
  const snapshot = new Map<string, { uid: string; containers: Map<string, ContainerState> }>();
  for (const pod of list.items) {
    const containers = new Map<string, ContainerState>();
    for (const status of pod.status?.containerStatuses ?? []) containers.set(status.name, { containerId: status.containerID ?? "", restartCount: status.restartCount ?? 0 });
    snapshot.set(`${pod.metadata.namespace ?? ""}/${pod.metadata.name}`, { uid: pod.metadata.uid ?? "", containers });
  }
  return snapshot;
}

/** What changed for the pods that ran before a fault: each difference is a violation. */
export function restartsBetween(before: PodSnapshot, after: PodSnapshot): string[] {
  const violations: string[] = [];
  for (const [name, pod] of before) {
    const later = after.get(name);
    if (later === undefined || later.uid !== pod.uid) {
      violations.push(`pod ${name} was replaced or removed`);
      continue;
    }
    for (const [container, state] of pod.containers) {
      const now = later.containers.get(container);
      if (now === undefined) violations.push(`pod ${name} lost its container ${container} in status`);
      else if (now.restartCount > state.restartCount) violations.push(`pod ${name} container ${container} restarted (${state.restartCount} -> ${now.restartCount})`);
      else if (state.containerId !== "" && now.containerId !== state.containerId) violations.push(`pod ${name} container ${container} has a new container ID`);
    }
  }
  return violations;
}

/** One running pod sandbox as runc reports it, from containerd's CRI annotations. */
export interface RunningSandbox {
  readonly host: string;
  readonly namespace: string;
  readonly podName: string;
  readonly podUid: string;
}

interface RuncState {
  status?: string;
  annotations?: Record<string, string> | null;
}

/** Parses `runc list --format json` (null when nothing runs) into the running pod sandboxes. */
export function runningSandboxes(host: string, runcListJson: string): RunningSandbox[] {
  const states = (JSON.parse(runcListJson === "" ? "null" : runcListJson) ?? []) as RuncState[];
  const sandboxes: RunningSandbox[] = [];
  for (const state of states) {
    const annotations = state.annotations ?? {};
    if (state.status !== "running" || annotations["io.kubernetes.cri.container-type"] !== "sandbox") continue;
    sandboxes.push({
      host,
      namespace: annotations["io.kubernetes.cri.sandbox-namespace"] ?? "",
      podName: annotations["io.kubernetes.cri.sandbox-name"] ?? "",
      podUid: annotations["io.kubernetes.cri.sandbox-uid"] ?? "",
    });
  }
  return sandboxes;
}

/** `<set>-<ordinal>` pods of the StatefulSet that run as more than one pod (UID) at once. */
export function duplicateIdentities(sandboxes: readonly RunningSandbox[], namespace: string, setName: string): string[] {
  const pattern = new RegExp(`^${setName}-\\d+$`);
  const byIdentity = new Map<string, Set<string>>();
  for (const sandbox of sandboxes) {
    if (sandbox.namespace !== namespace || !pattern.test(sandbox.podName)) continue;
    const where = byIdentity.get(sandbox.podName) ?? new Set<string>();
    where.add(`${sandbox.podUid}@${sandbox.host}`);
    byIdentity.set(sandbox.podName, where);
  }
  return [...byIdentity].filter(([, where]) => where.size > 1).map(([name, where]) => `${namespace}/${name} runs ${where.size} times at once: ${[...where].join(", ")}`);
}

async function runcList(runcRoot: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("runc", ["--root", runcRoot, "list", "--format", "json"], { encoding: "utf8", timeout: runcListTimeoutMs, maxBuffer: runcOutputBytesMax }, (error, stdout) => {
      if (error !== null) reject(error);
      else resolve(stdout.trim());
    });
  });
}

export interface IdentityStats {
  polls: number;
  /** Largest number of distinct identities seen running in one poll (0 means the check saw nothing). */
  identitiesSeenMax: number;
  readonly violations: string[];
}

/** Reads every agent's runc state until `signal` aborts, recording duplicate identities. */
export async function watchIdentities(agentHosts: readonly TestbedHost[], signal: AbortSignal): Promise<IdentityStats> {
  const stats: IdentityStats = { polls: 0, identitiesSeenMax: 0, violations: [] };
  const seen = new Set<string>();
  for (let poll = 0; poll < identityPollsMax && !signal.aborted; poll++) {
    const listings = await Promise.all(agentHosts.map(async (host) => {
      const root = host.containerd?.runcRoot;
      if (root === undefined) return [];
      // The runc shim keeps each containerd namespace's containers under <Root>/<namespace>.
      return runningSandboxes(host.name, await runcList(join(root, "k8s.io")).catch(() => "null"));
    }));
    const sandboxes = listings.flat();
    stats.polls++;
    const identities = new Set(sandboxes.filter((sandbox) => sandbox.podName.startsWith(`${statefulSetName}-`)).map((sandbox) => sandbox.podName));
    stats.identitiesSeenMax = Math.max(stats.identitiesSeenMax, identities.size);
    for (const violation of duplicateIdentities(sandboxes, statefulSetNamespace, statefulSetName)) {
      if (!seen.has(violation)) stats.violations.push(violation);
      seen.add(violation);
    }
    await sleepMs(identityPollMs);
  }
  return stats;
}
