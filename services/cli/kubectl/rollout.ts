/**
 * `flotilla rollout status|history|undo|pause|resume|restart` for deployments (restart also for
 * daemon sets and stateful sets), with kubectl's messages. History and undo read the deployment's
 * ReplicaSets (`deployment.kubernetes.io/revision`), so they need the deployment controller to
 * have made them.
 */
import { formatTime } from "../../../libs/api/index.ts";
import type { Deployment, KubeObject, ReplicaSet, ResourceInfo } from "../../../libs/api/index.ts";
import { objectName, quotedName, runVerb, type CliContext } from "./context.ts";
import { flagInt, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { formatColumns } from "./printers.ts";
import { parseResourceArgs, resolveOne } from "./resources.ts";

export const rolloutFlags: FlagSpec = {
  booleans: ["watch"],
  values: ["timeout", "to-revision", "revision"],
  shorts: { w: "watch" },
};

const revisionAnnotation = "deployment.kubernetes.io/revision";
const changeCauseAnnotation = "kubernetes.io/change-cause";
const restartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";
/** `rollout status` gives up after this unless --timeout says otherwise. */
const statusTimeoutMsDefault = 10 * 60_000;
const statusPollMs = 500;

interface Target {
  readonly resource: ResourceInfo;
  readonly name: string;
}

function targetOf(args: readonly string[]): Target {
  const [request] = parseResourceArgs(args);
  const name = request?.names[0];
  if (request === undefined || name === undefined) throw new UsageError("required resource not specified");
  return { resource: request.resource, name };
}

function requireDeployment(target: Target, verb: string): void {
  if (target.resource.resource !== "deployments") throw new UsageError(`no ${verb} support for ${target.resource.kind} yet`);
}

/** kubectl's DeploymentStatusViewer: the message and whether the rollout is done. */
export function deploymentStatus(deployment: Deployment): { message: string; done: boolean } {
  const name = deployment.metadata.name ?? "";
  const status = deployment.status ?? {};
  if ((deployment.metadata.generation ?? 0) > (status.observedGeneration ?? 0)) return { message: "Waiting for deployment spec update to be observed...\n", done: false };
  const progressing = status.conditions?.find((condition) => condition.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") throw new Error(`deployment "${name}" exceeded its progress deadline`);
  const replicas = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  if (updated < replicas) return { message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...\n`, done: false };
  if ((status.replicas ?? 0) > updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${(status.replicas ?? 0) - updated} old replicas are pending termination...\n`, done: false };
  if ((status.availableReplicas ?? 0) < updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${status.availableReplicas ?? 0} of ${updated} updated replicas are available...\n`, done: false };
  return { message: `deployment "${name}" successfully rolled out\n`, done: true };
}

async function status(context: CliContext, target: Target, parsed: ParsedArgs): Promise<number> {
  requireDeployment(target, "status");
  const timeoutText = flagValue(parsed, "timeout");
  const timeoutMs = timeoutText === undefined || timeoutText === "0s" ? statusTimeoutMsDefault : parseDurationMs(timeoutText);
  const deadline = context.nowMs() + timeoutMs;
  let last = "";
  while (!context.signal.aborted) {
    const { message, done } = deploymentStatus(await context.client.get<Deployment>(target.resource, context.namespace, target.name));
    if (message !== last) context.stdout.write(message);
    last = message;
    if (done || flagValue(parsed, "watch") === "false") return done ? 0 : 1;
    if (context.nowMs() >= deadline) throw new Error("timed out waiting for the condition");
    await new Promise((resolve) => setTimeout(resolve, statusPollMs));
  }
  return 1;
}

export function parseDurationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text);
  if (match === null) throw new UsageError(`invalid duration ${text}`);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? "s"] ?? 1000;
  return Number(match[1]) * unitMs;
}

async function ownedReplicaSets(context: CliContext, deployment: Deployment): Promise<ReplicaSet[]> {
  const list = await context.client.list<ReplicaSet>(resolveOne("replicasets.apps"), context.namespace);
  return list.items
    .filter((replicaSet) => replicaSet.metadata.ownerReferences?.some((owner) => owner.uid === deployment.metadata.uid))
    .sort((a, b) => revisionOf(a) - revisionOf(b));
}

const revisionOf = (object: KubeObject): number => Number(object.metadata.annotations?.[revisionAnnotation] ?? "0");

async function history(context: CliContext, target: Target, parsed: ParsedArgs): Promise<number> {
  requireDeployment(target, "history");
  const deployment = await context.client.get<Deployment>(target.resource, context.namespace, target.name);
  const replicaSets = await ownedReplicaSets(context, deployment);
  const revision = flagInt(parsed, "revision");
  if (revision !== undefined) {
    const found = replicaSets.find((replicaSet) => revisionOf(replicaSet) === revision);
    if (found === undefined) throw new Error(`unable to find the specified revision`);
    context.stdout.write(`${objectName(target.resource, target.name)} with revision #${revision}\n${JSON.stringify(found.spec?.template ?? {}, null, 2)}\n`);
    return 0;
  }
  const rows = replicaSets.map((replicaSet) => [String(revisionOf(replicaSet)), replicaSet.metadata.annotations?.[changeCauseAnnotation] ?? "<none>"]);
  context.stdout.write(`${objectName(target.resource, target.name)} \n${formatColumns([["REVISION", "CHANGE-CAUSE"], ...rows], 2, 0)}\n`);
  return 0;
}

async function undo(context: CliContext, target: Target, parsed: ParsedArgs): Promise<number> {
  requireDeployment(target, "undo");
  const deployment = await context.client.get<Deployment>(target.resource, context.namespace, target.name);
  const replicaSets = await ownedReplicaSets(context, deployment);
  if (replicaSets.length === 0) throw new Error(`no rollout history found for deployment "${target.name}"`);
  const wanted = flagInt(parsed, "to-revision") ?? 0;
  const current = revisionOf(replicaSets[replicaSets.length - 1] as ReplicaSet);
  const chosen = wanted === 0 ? replicaSets.filter((replicaSet) => revisionOf(replicaSet) !== current).pop() : replicaSets.find((replicaSet) => revisionOf(replicaSet) === wanted);
  if (chosen === undefined) throw new Error(wanted === 0 ? `no previous revision found for deployment "${target.name}"` : `unable to find specified revision ${wanted} in history`);
  const template = structuredClone(chosen.spec?.template ?? {}) as { metadata?: { labels?: Record<string, string> } };
  delete template.metadata?.labels?.["pod-template-hash"];
  await context.client.patch(target.resource, context.namespace, target.name, "json", [{ op: "replace", path: "/spec/template", value: template }]);
  context.stdout.write(`${objectName(target.resource, target.name)} rolled back\n`);
  return 0;
}

async function setPaused(context: CliContext, target: Target, paused: boolean): Promise<number> {
  requireDeployment(target, paused ? "pause" : "resume");
  const deployment = await context.client.get<Deployment>(target.resource, context.namespace, target.name);
  if ((deployment.spec?.paused ?? false) === paused) throw new Error(`${quotedName(target.resource, target.name)} is ${paused ? "already paused" : "not paused"}`);
  await context.client.patch(target.resource, context.namespace, target.name, "merge", { spec: { paused: paused ? true : null } });
  context.stdout.write(`${objectName(target.resource, target.name)} ${paused ? "paused" : "resumed"}\n`);
  return 0;
}

async function restart(context: CliContext, target: Target): Promise<number> {
  if (!["deployments", "daemonsets", "statefulsets"].includes(target.resource.resource)) throw new UsageError(`restarting is not supported for ${target.resource.kind}`);
  const patch = { spec: { template: { metadata: { annotations: { [restartedAtAnnotation]: formatTime(context.nowMs()) } } } } };
  await context.client.patch(target.resource, context.namespace, target.name, "strategic", patch);
  context.stdout.write(`${objectName(target.resource, target.name)} restarted\n`);
  return 0;
}

async function rollout(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const [sub, ...rest] = parsed.positionals;
  const target = targetOf(rest);
  switch (sub) {
    case "status":
      return status(context, target, parsed);
    case "history":
      return history(context, target, parsed);
    case "undo":
      return undo(context, target, parsed);
    case "pause":
      return setPaused(context, target, true);
    case "resume":
      return setPaused(context, target, false);
    case "restart":
      return restart(context, target);
    default:
      throw new UsageError(`unknown rollout command "${sub ?? ""}": want status, history, undo, pause, resume or restart`);
  }
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, rolloutFlags, rollout);
}

export { rollout };
