/**
 * The scheduler's view of the cluster (upstream's scheduler cache and NodeInfo), updated in place
 * as informer events arrive and as pods are assumed, so that a decision never rebuilds it:
 * per-node allocatable, requested, host ports and pods; indexes of assigned pods by namespace and
 * label, by controller owner, and of pods carrying affinity terms.
 *
 * Assume/forget: the scheduler assumes a pod onto a node before its bind is written, so the next
 * decision already sees the resources taken; a failed bind forgets it; the informer's add of the
 * bound pod confirms it. Pure: time is passed in as milliseconds.
 */
import { assert, defined } from "../../../libs/assert/index.ts";
import type { Selector } from "../../../libs/api/labels.ts";
import type { Node, Taint } from "../../../libs/api/types/core.ts";
import type { Pod } from "../../../libs/api/types/pod.ts";
import { effectiveTaints, type Labels } from "./node-match.ts";
import { hasScoringAffinity, newPodInfo, podKey, type PodInfo } from "./pod-info.ts";
import { addResources, emptyResources, nodeAllocatable, type Resources } from "./resources.ts";

export interface NodeInfo {
  readonly name: string;
  node: Node;
  labels: Labels;
  taints: Taint[];
  unschedulable: boolean;
  allocatable: Resources;
  allocatablePods: number;
  readonly requested: Resources;
  nonZeroMilliCpu: number;
  nonZeroMemoryBytes: number;
  readonly pods: Map<string, PodInfo>;
  /** "TCP/8080" to the host IPs using it, with a count per IP. */
  readonly usedPorts: Map<string, Map<string, number>>;
}

interface AssumedState {
  /** When the bind finished, for expiry; undefined while the bind is in flight. */
  bindFinishedMs: number | undefined;
}

function newNodeInfo(node: Node): NodeInfo {
  const info: NodeInfo = {
    name: defined(node.metadata.name, "node has a name"),
    node,
    labels: {},
    taints: [],
    unschedulable: false,
    allocatable: emptyResources(),
    allocatablePods: 0,
    requested: emptyResources(),
    nonZeroMilliCpu: 0,
    nonZeroMemoryBytes: 0,
    pods: new Map(),
    usedPorts: new Map(),
  };
  setNodeObject(info, node);
  return info;
}

function setNodeObject(info: NodeInfo, node: Node): void {
  const allocatable = nodeAllocatable(node);
  info.node = node;
  info.labels = node.metadata.labels ?? {};
  info.taints = effectiveTaints(node);
  info.unschedulable = node.spec?.unschedulable === true;
  info.allocatable = allocatable.resources;
  info.allocatablePods = allocatable.pods;
}

function portKey(protocol: string, port: number): string {
  return `${protocol}/${port}`;
}

function accountPod(info: NodeInfo, pod: PodInfo, sign: 1 | -1): void {
  addResources(info.requested, pod.requests.requests, sign);
  info.nonZeroMilliCpu += sign * pod.requests.nonZeroMilliCpu;
  info.nonZeroMemoryBytes += sign * pod.requests.nonZeroMemoryBytes;
  for (const hostPort of pod.hostPorts) {
    const key = portKey(hostPort.protocol, hostPort.port);
    const byIp = info.usedPorts.get(key) ?? new Map<string, number>();
    const count = (byIp.get(hostPort.ip) ?? 0) + sign;
    assert(count >= 0, "host port counts stay non-negative");
    if (count === 0) byIp.delete(hostPort.ip);
    else byIp.set(hostPort.ip, count);
    if (byIp.size === 0) info.usedPorts.delete(key);
    else info.usedPorts.set(key, byIp);
  }
}

/** Upstream's HostPortInfo.CheckConflict: 0.0.0.0 conflicts with every IP on the same port. */
export function hostPortConflicts(info: NodeInfo, ip: string, protocol: string, port: number): boolean {
  const byIp = info.usedPorts.get(portKey(protocol, port));
  if (byIp === undefined) return false;
  return ip === "0.0.0.0" || byIp.has("0.0.0.0") || byIp.has(ip);
}

export class ClusterSnapshot {
  readonly #nodes = new Map<string, NodeInfo>();
  /** Node order for filtering; upstream interleaves zones, we keep insertion order. */
  readonly #nodeList: NodeInfo[] = [];
  readonly #podNode = new Map<string, string>();
  readonly #assumed = new Map<string, AssumedState>();
  readonly #byNamespace = new Map<string, Set<PodInfo>>();
  /** namespace → "key=value" → pods carrying that label. */
  readonly #byLabel = new Map<string, Map<string, Set<PodInfo>>>();
  /** owner uid → node name → count of that owner's pods on the node. */
  readonly #byOwner = new Map<string, Map<string, number>>();
  readonly #withRequiredAntiAffinity = new Set<PodInfo>();
  readonly #withAffinity = new Set<PodInfo>();
  readonly #namespaceLabels = new Map<string, Labels>();
  /** Nodes known only from pods bound to them: in no decision until their Node object arrives. */
  readonly #placeholders = new Set<string>();
  /** Bumped on every change; lets callers cache per-generation results. */
  generation = 0;

  get nodeCount(): number {
    return this.#nodeList.length;
  }

  nodes(): readonly NodeInfo[] {
    return this.#nodeList;
  }

  node(name: string): NodeInfo | undefined {
    return this.#nodes.get(name);
  }

  setNamespaceLabels(namespace: string, labels: Labels): void {
    this.#namespaceLabels.set(namespace, labels);
    this.generation++;
  }

  namespaceLabels(namespace: string): Labels | undefined {
    return this.#namespaceLabels.get(namespace);
  }

  addNode(node: Node): void {
    const name = defined(node.metadata.name, "node has a name");
    const existing = this.#nodes.get(name);
    if (existing !== undefined) {
      // A placeholder made for pods bound before their node arrived becomes a real node.
      if (this.#placeholders.delete(name)) this.#nodeList.push(existing);
      return this.updateNode(node);
    }
    const info = newNodeInfo(node);
    this.#nodes.set(name, info);
    this.#nodeList.push(info);
    this.generation++;
  }

  updateNode(node: Node): void {
    const info = this.#nodes.get(defined(node.metadata.name, "node has a name"));
    if (info === undefined || this.#placeholders.has(info.name)) return this.addNode(node);
    setNodeObject(info, node);
    this.generation++;
  }

  /** Removes the node and every pod the snapshot had on it (their deletes may follow or not). */
  removeNode(name: string): void {
    const info = this.#nodes.get(name);
    if (info === undefined) return;
    for (const key of [...info.pods.keys()]) this.#removePodKey(key);
    this.#nodes.delete(name);
    if (!this.#placeholders.delete(name)) this.#nodeList.splice(this.#nodeList.indexOf(info), 1);
    this.generation++;
  }

  /** An informer add or update of a pod. Unassigned pods are not part of the snapshot. */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName;
    const assigned = nodeName !== undefined && nodeName !== "";
    // An update of the still-unbound pod (its bind in flight) must not drop the reservation.
    if (!assigned && this.#assumed.has(key) && !isTerminal(pod)) return;
    this.#assumed.delete(key);
    if (this.#podNode.has(key)) this.#removePodKey(key);
    if (!assigned || isTerminal(pod)) return;
    this.#insertPod(newPodInfo(pod), nodeName);
  }

  updatePod(pod: Pod): void {
    this.addPod(pod);
  }

  removePod(pod: Pod): void {
    this.#assumed.delete(podKey(pod));
    this.#removePodKey(podKey(pod));
  }

  /** Reserves the pod's resources on `nodeName` before its bind completes (upstream AssumePod). */
  assumePod(pod: Pod, nodeName: string): void {
    const key = podKey(pod);
    assert(!this.#podNode.has(key), "a pod is assumed only while it is in no node's pod list", () => key);
    assert(this.#nodes.has(nodeName), "a pod is assumed onto a known node", () => nodeName);
    const assigned: Pod = { ...pod, spec: { containers: [], ...pod.spec, nodeName } };
    this.#insertPod(newPodInfo(assigned), nodeName);
    this.#assumed.set(key, { bindFinishedMs: undefined });
  }

  /** Undoes assumePod after a failed bind (upstream ForgetPod). A confirmed pod is left alone. */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    if (!this.#assumed.has(key)) return;
    this.#assumed.delete(key);
    this.#removePodKey(key);
  }

  /** The bind was written; the assumed pod expires `ttlMs` later unless the informer confirms it. */
  finishBinding(pod: Pod, nowMs: number): void {
    const state = this.#assumed.get(podKey(pod));
    if (state !== undefined) state.bindFinishedMs = nowMs;
  }

  /** Drops assumed pods whose bind finished more than ttlMs ago without an informer add. */
  cleanupExpiredAssumedPods(nowMs: number, ttlMs: number): string[] {
    const expired: string[] = [];
    for (const [key, state] of this.#assumed) {
      if (state.bindFinishedMs !== undefined && nowMs - state.bindFinishedMs >= ttlMs) expired.push(key);
    }
    for (const key of expired) {
      this.#assumed.delete(key);
      this.#removePodKey(key);
    }
    return expired;
  }

  isAssumed(pod: Pod): boolean {
    return this.#assumed.has(podKey(pod));
  }

  /** The node a pod is on in the snapshot (assumed or confirmed). */
  nodeOfPod(pod: Pod): string | undefined {
    return this.#podNode.get(podKey(pod));
  }

  #insertPod(info: PodInfo, nodeName: string): void {
    // A pod bound to a node the snapshot has not seen yet gets a placeholder node with no capacity.
    let node = this.#nodes.get(nodeName);
    if (node === undefined) {
      node = newNodeInfo({ metadata: { name: nodeName } });
      this.#nodes.set(nodeName, node);
      this.#placeholders.add(nodeName);
    }
    node.pods.set(info.key, info);
    accountPod(node, info, 1);
    this.#podNode.set(info.key, nodeName);
    this.#index(info, nodeName, 1);
    this.generation++;
  }

  #removePodKey(key: string): void {
    const nodeName = this.#podNode.get(key);
    if (nodeName === undefined) return;
    const node = defined(this.#nodes.get(nodeName), "an indexed pod's node is in the snapshot");
    const info = defined(node.pods.get(key), "an indexed pod is in its node's pod list");
    node.pods.delete(key);
    accountPod(node, info, -1);
    this.#podNode.delete(key);
    this.#index(info, nodeName, -1);
    this.generation++;
  }

  #index(info: PodInfo, nodeName: string, sign: 1 | -1): void {
    setMembership(this.#byNamespace, info.namespace, info, sign);
    let labels = this.#byLabel.get(info.namespace);
    if (labels === undefined) this.#byLabel.set(info.namespace, (labels = new Map()));
    for (const labelKey in info.labels) setMembership(labels, `${labelKey}=${info.labels[labelKey]}`, info, sign);
    if (info.ownerUid !== undefined) {
      const counts = this.#byOwner.get(info.ownerUid) ?? new Map<string, number>();
      const next = (counts.get(nodeName) ?? 0) + sign;
      if (next === 0) counts.delete(nodeName);
      else counts.set(nodeName, next);
      if (counts.size === 0) this.#byOwner.delete(info.ownerUid);
      else this.#byOwner.set(info.ownerUid, counts);
    }
    if (info.requiredAntiAffinity.length > 0) toggle(this.#withRequiredAntiAffinity, info, sign);
    if (hasScoringAffinity(info)) toggle(this.#withAffinity, info, sign);
  }

  /**
   * Assigned pods in `namespaces` (all when undefined) that may match `selector`: the smallest
   * posting list of one of its exact-match requirements, else every pod of the namespace. Callers
   * still check the selector on each pod.
   */
  *candidatePods(namespaces: Iterable<string> | undefined, selector: Selector): Generator<PodInfo> {
    if (selector.matchesNothing()) return;
    for (const namespace of namespaces ?? this.#byNamespace.keys()) {
      yield* this.#candidatesInNamespace(namespace, selector);
    }
  }

  #candidatesInNamespace(namespace: string, selector: Selector): Iterable<PodInfo> {
    const all = this.#byNamespace.get(namespace);
    if (all === undefined) return [];
    const labels = this.#byLabel.get(namespace);
    let best: ReadonlySet<PodInfo> = all;
    for (const requirement of selector.requirements) {
      const value = selector.requiresExactMatch(requirement.key);
      if (value === undefined || labels === undefined) continue;
      const posting = labels.get(`${requirement.key}=${value}`);
      if (posting === undefined) return [];
      if (posting.size < best.size) best = posting;
    }
    return best;
  }

  /** Every namespace that has assigned pods. */
  namespaces(): Iterable<string> {
    return this.#byNamespace.keys();
  }

  /** Count of an owner's pods per node name. */
  ownerPodsByNode(ownerUid: string): ReadonlyMap<string, number> | undefined {
    return this.#byOwner.get(ownerUid);
  }

  podsWithRequiredAntiAffinity(): ReadonlySet<PodInfo> {
    return this.#withRequiredAntiAffinity;
  }

  /** Pods whose required affinity or preferred terms score incoming pods. */
  podsWithAffinity(): ReadonlySet<PodInfo> {
    return this.#withAffinity;
  }
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

function setMembership<K>(index: Map<K, Set<PodInfo>>, key: K, info: PodInfo, sign: 1 | -1): void {
  let members = index.get(key);
  if (members === undefined) {
    if (sign < 0) return;
    index.set(key, (members = new Set()));
  }
  toggle(members, info, sign);
  if (members.size === 0) index.delete(key);
}

function toggle(set: Set<PodInfo>, info: PodInfo, sign: 1 | -1): void {
  if (sign > 0) set.add(info);
  else set.delete(info);
}
