/**
 * `flotilla wait --for=condition=C[=V]|delete|jsonpath={...}[=V] TYPE/NAME... [-l SEL|--all]
 * [--timeout 30s]`: kubectl's messages (`pod/x condition met`, `timed out waiting for the condition
 * on pods/x`). Objects are polled every `waitPollMs` rather than watched: simpler, and a wait
 * lasts seconds to minutes.
 */
import { isStatusError } from "../../../libs/api/index.ts";
import type { KubeObject } from "../../../libs/api/index.ts";
import { objectName, runVerb, type CliContext } from "./context.ts";
import { flagBool, flagList, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { jsonPath } from "./jsonpath.ts";
import { parseResourceArgs } from "./resources.ts";
import { parseDurationMs } from "./rollout.ts";
import { namedTargets, type Target } from "./targets.ts";

export const waitFlags: FlagSpec = {
  booleans: ["all", "all-namespaces", "local"],
  values: ["for", "timeout", "selector", "filename", "field-selector", "output"],
  shorts: { l: "selector", f: "filename", A: "all-namespaces", o: "output" },
};

/** kubectl's default --timeout. */
export const waitTimeoutMsDefault = 30_000;
export const waitPollMs = 500;
/** kubectl: a negative --timeout waits a week. */
export const waitTimeoutMsNegative = 7 * 24 * 3_600_000;

export type WaitCondition =
  | { readonly kind: "delete" }
  | { readonly kind: "condition"; readonly type: string; readonly value: string }
  | { readonly kind: "jsonpath"; readonly path: string; readonly value: string | undefined };

export function parseWaitFor(text: string | undefined): WaitCondition {
  if (text === undefined || text === "") throw new UsageError("--for must be specified: delete, condition=condition-name[=condition-value] or jsonpath='{JSONPath expression}'=[JSONPath value]");
  if (text.toLowerCase() === "delete") return { kind: "delete" };
  if (text.startsWith("condition=")) {
    const rest = text.slice("condition=".length);
    const equals = rest.indexOf("=");
    if (rest === "") throw new UsageError("--for=condition needs a condition name");
    return equals < 0 ? { kind: "condition", type: rest, value: "true" } : { kind: "condition", type: rest.slice(0, equals), value: rest.slice(equals + 1) };
  }
  if (text.startsWith("jsonpath=")) {
    const rest = text.slice("jsonpath=".length);
    const close = rest.lastIndexOf("}");
    if (!rest.startsWith("{") || close < 0) throw new UsageError(`unrecognized JSONPath expression "${rest}": it must be wrapped in {}`);
    const after = rest.slice(close + 1);
    if (after !== "" && !after.startsWith("=")) throw new UsageError(`jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3`);
    const value = after === "" ? undefined : after.slice(1).replace(/^(['"])(.*)\1$/, "$2");
    return { kind: "jsonpath", path: rest.slice(0, close + 1), value };
  }
  throw new UsageError(`unrecognized condition: "${text}"`);
}

interface Conditioned {
  readonly metadata: { readonly generation?: number };
  readonly status?: { readonly conditions?: ReadonlyArray<{ type?: string; status?: string; observedGeneration?: number }> };
}

/** Whether a (present) object meets a condition or jsonpath wait; delete is decided by absence. */
export function conditionMet(object: KubeObject, condition: WaitCondition): boolean {
  if (condition.kind === "delete") return false;
  if (condition.kind === "condition") {
    const found = (object as unknown as Conditioned).status?.conditions?.find((candidate) => (candidate.type ?? "").toLowerCase() === condition.type.toLowerCase());
    if (found === undefined) return false;
    const generation = object.metadata.generation;
    if (found.observedGeneration !== undefined && generation !== undefined && found.observedGeneration < generation) return false;
    return (found.status ?? "").toLowerCase() === condition.value.toLowerCase();
  }
  const rendered = jsonPath(condition.path, object);
  return condition.value === undefined ? rendered !== "" : rendered === condition.value;
}

/** The objects to wait for: named ones, or every match of -l/--all at the start. */
async function waitTargets(context: CliContext, parsed: ParsedArgs): Promise<Target[]> {
  const selector = flagValue(parsed, "selector");
  const fieldSelector = flagValue(parsed, "field-selector");
  if (selector === undefined && fieldSelector === undefined && !flagBool(parsed, "all")) return namedTargets(context, parsed.positionals, flagList(parsed, "filename", false));
  const namespace = flagBool(parsed, "all-namespaces") ? undefined : context.namespace;
  const targets: Target[] = [];
  for (const request of parseResourceArgs(parsed.positionals)) {
    const list = await context.client.list(request.resource, request.resource.namespaced ? namespace : undefined, {
      ...(selector === undefined ? {} : { labelSelector: selector }),
      ...(fieldSelector === undefined ? {} : { fieldSelector }),
    });
    for (const object of list.items) targets.push({ resource: request.resource, namespace: object.metadata.namespace, name: object.metadata.name ?? "" });
  }
  return targets;
}

/** The object now; absent (undefined) only matters to --for=delete, others get the NotFound. */
async function currentObject(context: CliContext, target: Target, condition: WaitCondition): Promise<KubeObject | undefined> {
  try {
    return await context.client.get(target.resource, target.namespace, target.name);
  } catch (error) {
    if (condition.kind === "delete" && isStatusError(error, "NotFound")) return undefined;
    throw error;
  }
}

async function waitOne(context: CliContext, target: Target, condition: WaitCondition, deadlineMs: number): Promise<void> {
  for (;;) {
    const object = await currentObject(context, target, condition);
    if (condition.kind === "delete" ? object === undefined : conditionMet(object as KubeObject, condition)) return;
    if (context.nowMs() >= deadlineMs || context.signal.aborted) throw new Error(`timed out waiting for the condition on ${target.resource.resource}/${target.name}`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(waitPollMs, deadlineMs - context.nowMs()))));
  }
}

async function wait(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const condition = parseWaitFor(flagValue(parsed, "for"));
  const timeoutText = flagValue(parsed, "timeout");
  const timeoutMs = timeoutText === undefined ? waitTimeoutMsDefault : timeoutText.startsWith("-") ? waitTimeoutMsNegative : parseDurationMs(timeoutText);
  const deadlineMs = context.nowMs() + timeoutMs;
  const targets = await waitTargets(context, parsed);
  if (targets.length === 0) throw new Error("no matching resources found");
  for (const target of targets) {
    await waitOne(context, target, condition, deadlineMs);
    context.stdout.write(flagValue(parsed, "output") === "name" ? `${objectName(target.resource, target.name)}\n` : `${objectName(target.resource, target.name)} condition met\n`);
  }
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, waitFlags, wait);
}

export { wait };
