/**
 * The pod and container a `logs` or `exec` means: `POD`, `pod/POD`, or a workload
 * (`deploy/web`, `rs/x`, `sts/x`, `ds/x`, `job/x`, `svc/x`) whose selector picks pods (a running one
 * first, as kubectl's "attachable pod"); the container is `-c`, else the
 * `kubectl.kubernetes.io/default-container` annotation, else the first, with kubectl's notes.
 */
import { formatLabels } from "../../../libs/api/index.ts";
import type { KubeObject, Pod } from "../../../libs/api/index.ts";
import type { CliContext } from "./context.ts";
import { UsageError } from "./flags.ts";
import { resolveOne } from "./resources.ts";

const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container";

type WithSelector = KubeObject & { spec?: { selector?: { matchLabels?: Record<string, string> } & Record<string, unknown> } };

function selectorOf(kind: string, object: WithSelector): string {
  const selector = kind === "services" ? (object.spec?.selector as Record<string, string> | undefined) : object.spec?.selector?.matchLabels;
  if (selector === undefined || Object.keys(selector).length === 0) throw new UsageError(`cannot find pods: ${object.metadata.name ?? ""} has no selector`);
  return formatLabels(selector);
}

export async function podFor(context: CliContext, target: string): Promise<Pod> {
  const slash = target.indexOf("/");
  const pods = resolveOne("pods");
  if (slash < 0) return context.client.get<Pod>(pods, context.namespace, target);
  const resource = resolveOne(target.slice(0, slash));
  const name = target.slice(slash + 1);
  if (resource.resource === "pods") return context.client.get<Pod>(pods, context.namespace, name);
  const owner = await context.client.get<WithSelector>(resource, context.namespace, name);
  const list = await context.client.list<Pod>(pods, context.namespace, { labelSelector: selectorOf(resource.resource, owner) });
  const sorted = [...list.items].sort((a, b) => Number(b.status?.phase === "Running") - Number(a.status?.phase === "Running"));
  const chosen = sorted[0];
  if (chosen === undefined) throw new UsageError(`no pods found for ${target}`);
  if (sorted.length > 1) context.stderr.write(`Found ${sorted.length} pods, using pod/${chosen.metadata.name ?? ""}\n`);
  return chosen;
}

export function containerFor(context: CliContext, pod: Pod, requested: string | undefined): string {
  const names = (pod.spec?.containers ?? []).map((container) => container.name);
  if (requested !== undefined) return requested;
  const annotated = pod.metadata.annotations?.[defaultContainerAnnotation];
  if (annotated !== undefined && names.includes(annotated)) return annotated;
  const [first] = names;
  if (first === undefined) throw new UsageError(`pod ${pod.metadata.name ?? ""} has no containers`);
  if (names.length > 1) context.stderr.write(`Defaulted container "${first}" out of: ${names.join(", ")}\n`);
  return first;
}
