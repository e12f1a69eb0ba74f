/**
 * `flotilla cordon|uncordon NODE...` and `flotilla drain NODE`, with kubectl's flags and output.
 * Drain cordons the node, sorts its pods as kubectl's filters do (mirror pods skipped, DaemonSet
 * pods ignored with --ignore-daemonsets, pods without a controller deleted only with --force,
 * emptyDir pods only with --delete-emptydir-data, finished pods always), then evicts each through
 * pods/eviction so PodDisruptionBudgets hold: a 429 is retried every `evictionRetryMs` (kubectl's
 * 5 s) until --timeout, or at most `evictionRoundsMax` times when there is none. A pod counts as
 * gone once it is absent or replaced by one with another uid.
 */
import { isStatusError } from "../../../libs/api/index.ts";
import type { KubeObject, Node, Pod } from "../../../libs/api/index.ts";
import { formatError, objectName, runVerb, type CliContext } from "./context.ts";
import { flagBool, flagInt, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { resolveOne } from "./resources.ts";
import { parseDurationMs } from "./rollout.ts";

export const cordonFlags: FlagSpec = { booleans: ["dry-run"], values: ["selector"], shorts: { l: "selector" } };

export const drainFlags: FlagSpec = {
  booleans: ["ignore-daemonsets", "delete-emptydir-data", "delete-local-data", "force", "disable-eviction", "dry-run"],
  values: ["grace-period", "timeout", "pod-selector", "selector", "skip-wait-for-delete-timeout"],
  shorts: { l: "selector" },
};

/** kubectl's pause between evictions a PodDisruptionBudget refused. */
export const evictionRetryMs = 5_000;
/** With --timeout=0 (kubectl: wait forever) a drain still gives up after this many refusals per pod. */
export const evictionRoundsMax = 720;
/** How often a drain checks whether an evicted pod is gone. */
export const deletionPollMs = 1_000;

const nodes = () => resolveOne("nodes");
const pods = () => resolveOne("pods");

async function namedNodes(context: CliContext, parsed: ParsedArgs, verb: string): Promise<Node[]> {
  const selector = flagValue(parsed, "selector");
  if (selector !== undefined) return (await context.client.list<Node>(nodes(), undefined, { labelSelector: selector })).items;
  const names = parsed.positionals.map((arg) => arg.replace(/^(nodes?|no)\//, ""));
  if (names.length === 0) throw new UsageError(`USAGE: ${verb} NODE [flags]`);
  return Promise.all(names.map(async (name) => context.client.get<Node>(nodes(), undefined, name)));
}

/** Sets spec.unschedulable; prints `node/x cordoned` or `node/x already cordoned`. */
export async function setUnschedulable(context: CliContext, node: Node, unschedulable: boolean): Promise<void> {
  const name = node.metadata.name ?? "";
  const word = unschedulable ? "cordoned" : "uncordoned";
  if ((node.spec?.unschedulable ?? false) === unschedulable) {
    context.stdout.write(`${objectName(nodes(), name)} already ${word}\n`);
    return;
  }
  await context.client.patch(nodes(), undefined, name, "strategic", { spec: { unschedulable: unschedulable ? true : null } });
  context.stdout.write(`${objectName(nodes(), name)} ${word}\n`);
}

async function cordonVerb(context: CliContext, parsed: ParsedArgs, unschedulable: boolean): Promise<number> {
  for (const node of await namedNodes(context, parsed, unschedulable ? "cordon" : "uncordon")) await setUnschedulable(context, node, unschedulable);
  return 0;
}

export const cordon = async (context: CliContext, parsed: ParsedArgs): Promise<number> => cordonVerb(context, parsed, true);
export const uncordon = async (context: CliContext, parsed: ParsedArgs): Promise<number> => cordonVerb(context, parsed, false);

export interface DrainOptions {
  readonly ignoreDaemonSets: boolean;
  readonly deleteEmptyDirData: boolean;
  readonly force: boolean;
  readonly disableEviction: boolean;
  /** Seconds; undefined for each pod's own. */
  readonly gracePeriodSeconds: number | undefined;
  /** Undefined: no deadline (bounded by evictionRoundsMax). */
  readonly timeoutMs: number | undefined;
  readonly podSelector: string | undefined;
}

export interface PodPlan {
  readonly evict: Pod[];
  /** kubectl's warning and refusal groups: message → pods (namespace/name); refusals print after "cannot delete ". */
  readonly warnings: Map<string, string[]>;
  readonly errors: Map<string, string[]>;
}

const mirrorAnnotation = "kubernetes.io/config.mirror";
const finished = (pod: Pod) => pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
const keyOf = (pod: KubeObject) => `${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`;

/** kubectl's pod filters, in its order; a pod is evicted only if no filter refuses it. */
export function planPods(podList: readonly Pod[], options: DrainOptions): PodPlan {
  const plan: PodPlan = { evict: [], warnings: new Map(), errors: new Map() };
  const note = (into: Map<string, string[]>, message: string, pod: Pod) => into.set(message, [...(into.get(message) ?? []), keyOf(pod)]);
  for (const pod of podList) {
    if (pod.metadata.annotations?.[mirrorAnnotation] !== undefined) continue;
    const controller = pod.metadata.ownerReferences?.find((owner) => owner.controller === true);
    if (controller?.kind === "DaemonSet" && !finished(pod)) {
      if (options.ignoreDaemonSets) note(plan.warnings, "ignoring DaemonSet-managed Pods", pod);
      else note(plan.errors, "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)", pod);
      continue;
    }
    let refused = false;
    if (controller === undefined && !finished(pod)) {
      if (options.force) note(plan.warnings, "deleting Pods that declare no controller", pod);
      else {
        note(plan.errors, "cannot delete Pods that declare no controller (use --force to override)", pod);
        refused = true;
      }
    }
    if ((pod.spec?.volumes ?? []).some((volume) => volume.emptyDir !== undefined) && !finished(pod)) {
      if (options.deleteEmptyDirData) note(plan.warnings, "deleting Pods with local storage", pod);
      else {
        note(plan.errors, "Pods with local storage (use --delete-emptydir-data to override)", pod);
        refused = true;
      }
    }
    if (!refused) plan.evict.push(pod);
  }
  return plan;
}

const joinGroups = (groups: Map<string, string[]>, separator: string) => [...groups].map(([message, keys]) => `${message}: ${keys.join(", ")}`).join(separator);

export function drainOptionsOf(parsed: ParsedArgs): DrainOptions {
  const grace = flagInt(parsed, "grace-period") ?? -1;
  const timeoutText = flagValue(parsed, "timeout") ?? "0s";
  const timeoutMs = parseDurationMs(timeoutText);
  return {
    ignoreDaemonSets: flagBool(parsed, "ignore-daemonsets"),
    deleteEmptyDirData: flagBool(parsed, "delete-emptydir-data") || flagBool(parsed, "delete-local-data"),
    force: flagBool(parsed, "force"),
    disableEviction: flagBool(parsed, "disable-eviction"),
    gracePeriodSeconds: grace < 0 ? undefined : grace,
    timeoutMs: timeoutMs === 0 ? undefined : timeoutMs,
    podSelector: flagValue(parsed, "pod-selector"),
  };
}

/** Pauses of a drain; tests shorten them. */
export interface DrainTiming {
  readonly evictionRetryMs: number;
  readonly deletionPollMs: number;
}

const defaultTiming: DrainTiming = { evictionRetryMs, deletionPollMs };

async function pause(context: CliContext, ms: number): Promise<void> {
  if (context.signal.aborted) throw new Error("interrupted");
  await new Promise((resolve) => setTimeout(resolve, ms));
}

function deadlineError(pod: Pod, options: DrainOptions, started: number, context: CliContext): Error | undefined {
  if (options.timeoutMs === undefined || context.nowMs() - started < options.timeoutMs) return undefined;
  return new Error(`error when evicting pods/"${pod.metadata.name ?? ""}" -n "${pod.metadata.namespace ?? ""}": global timeout reached: ${options.timeoutMs / 1000}s`);
}

/** Evicts (or deletes) one pod, retrying a PodDisruptionBudget's 429 as kubectl does. */
async function evictPod(context: CliContext, pod: Pod, options: DrainOptions, timing: DrainTiming, started: number): Promise<void> {
  const name = pod.metadata.name ?? "";
  const namespace = pod.metadata.namespace ?? "";
  const deleteOptions = options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds };
  for (let round = 0; round < evictionRoundsMax; round++) {
    try {
      if (options.disableEviction) await context.client.delete(pods(), namespace, name, deleteOptions);
      else await context.client.createSubresource(pods(), namespace, name, "eviction", { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace }, deleteOptions });
      return;
    } catch (error) {
      if (isStatusError(error, "NotFound")) return;
      if (!isStatusError(error, "TooManyRequests")) throw error;
      const late = deadlineError(pod, options, started, context);
      if (late !== undefined) throw late;
      context.stderr.write(`error when evicting pods/"${name}" -n "${namespace}" (will retry after ${timing.evictionRetryMs / 1000}s): ${error.status.message ?? ""}\n`);
      await pause(context, timing.evictionRetryMs);
    }
  }
  throw new Error(`error when evicting pods/"${name}" -n "${namespace}": refused ${evictionRoundsMax} times`);
}

/** Waits until the pod is absent or replaced (another uid). */
async function waitGone(context: CliContext, pod: Pod, options: DrainOptions, timing: DrainTiming, started: number): Promise<void> {
  for (let round = 0; round < evictionRoundsMax * 5; round++) {
    try {
      const current = await context.client.get<Pod>(pods(), pod.metadata.namespace, pod.metadata.name ?? "");
      if (current.metadata.uid !== pod.metadata.uid) return;
    } catch (error) {
      if (isStatusError(error, "NotFound")) return;
      throw error;
    }
    const late = deadlineError(pod, options, started, context);
    if (late !== undefined) throw late;
    await pause(context, timing.deletionPollMs);
  }
  throw new Error(`pod ${keyOf(pod)} was not deleted`);
}

async function removePod(context: CliContext, pod: Pod, options: DrainOptions, timing: DrainTiming, started: number): Promise<void> {
  if (!options.disableEviction) context.stdout.write(`evicting pod ${keyOf(pod)}\n`);
  await evictPod(context, pod, options, timing, started);
  await waitGone(context, pod, options, timing, started);
  context.stdout.write(`pod/${pod.metadata.name ?? ""} ${options.disableEviction ? "deleted" : "evicted"}\n`);
}

async function podsOn(context: CliContext, nodeName: string, selector: string | undefined): Promise<Pod[]> {
  const list = await context.client.list<Pod>(pods(), undefined, { fieldSelector: `spec.nodeName=${nodeName}`, ...(selector === undefined ? {} : { labelSelector: selector }) });
  return list.items.filter((pod) => pod.spec?.nodeName === nodeName);
}

/** Cordons and drains one node; the error says why it could not be drained. */
export async function drainNode(context: CliContext, node: Node, options: DrainOptions, timing: DrainTiming = defaultTiming): Promise<void> {
  await setUnschedulable(context, node, true);
  const nodeName = node.metadata.name ?? "";
  const plan = planPods(await podsOn(context, nodeName, options.podSelector), options);
  if (plan.errors.size > 0) {
    // kubectl prefixes every refusal with "cannot delete", its no-controller one included (which so reads it twice).
    const groups = [...plan.errors].map(([message, keys]) => `cannot delete ${message}: ${keys.join(", ")}`);
    throw new Error(groups.length === 1 ? (groups[0] ?? "") : `[${groups.join(", ")}]`);
  }
  if (plan.warnings.size > 0) context.stderr.write(`Warning: ${joinGroups(plan.warnings, "; ")}\n`);
  const started = context.nowMs();
  const results = await Promise.allSettled(plan.evict.map(async (pod) => removePod(context, pod, options, timing, started)));
  const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason instanceof Error ? result.reason.message : String(result.reason)] : []));
  if (failures.length > 0) throw new Error(failures.length === 1 ? (failures[0] ?? "") : `[${failures.join(", ")}]`);
  context.stdout.write(`${objectName(nodes(), nodeName)} drained\n`);
}

export async function drain(context: CliContext, parsed: ParsedArgs, timing: DrainTiming = defaultTiming): Promise<number> {
  if (parsed.positionals.length === 0 && flagValue(parsed, "selector") === undefined) throw new UsageError("USAGE: drain NODE [flags]");
  const options = drainOptionsOf(parsed);
  const pending: Array<[string, string]> = [];
  for (const node of await namedNodes(context, parsed, "drain")) {
    try {
      await drainNode(context, node, options, timing);
    } catch (error) {
      const message = formatError(error).replace(/^error: /, "");
      context.stderr.write(`error: unable to drain node "${node.metadata.name ?? ""}" due to error: ${message}, continuing command...\n`);
      pending.push([node.metadata.name ?? "", message]);
    }
  }
  if (pending.length === 0) return 0;
  context.stderr.write(`There are pending nodes to be drained:\n${pending.map(([name]) => ` ${name}\n`).join("")}`);
  context.stderr.write(`${pending.map(([, message]) => message).join("\n")}\n`);
  return 1;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, drainFlags, drain);
}
