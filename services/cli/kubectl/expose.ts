/**
 * `flotilla expose TYPE NAME`: a Service whose selector is the target's (a deployment's,
 * replica set's, stateful set's or daemon set's spec.selector.matchLabels, a service's selector,
 * a pod's labels), `--port` (else the target's only container port), `--target-port`, `--name`,
 * `--type`, `--protocol`, `--selector`.
 */
import type { KubeObject, ResourceInfo } from "../../../libs/api/index.ts";
import { objectName, runVerb, type CliContext } from "./context.ts";
import { flagInt, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { parseResourceArgs, resolveOne } from "./resources.ts";

export const exposeFlags: FlagSpec = {
  values: ["port", "target-port", "name", "type", "protocol", "selector", "labels", "cluster-ip", "output"],
  shorts: { l: "labels", o: "output" },
};

type Loose = { spec?: { selector?: { matchLabels?: Record<string, string> } & Record<string, unknown>; template?: { spec?: { containers?: { ports?: { containerPort: number }[] }[] } }; ports?: { port: number }[]; containers?: { ports?: { containerPort: number }[] }[] } };

function selectorOf(resource: ResourceInfo, object: KubeObject): Record<string, string> {
  const loose = object as unknown as Loose;
  if (resource.resource === "pods") return object.metadata.labels ?? {};
  if (resource.resource === "services") return (loose.spec?.selector ?? {}) as Record<string, string>;
  const matchLabels = loose.spec?.selector?.matchLabels;
  if (matchLabels === undefined) throw new UsageError(`couldn't retrieve selectors via --selector flag or introspection: the ${resource.kind} has no matchLabels`);
  return matchLabels;
}

function portsOf(resource: ResourceInfo, object: KubeObject): number[] {
  const loose = object as unknown as Loose;
  if (resource.resource === "services") return (loose.spec?.ports ?? []).map((port) => port.port);
  const containers = resource.resource === "pods" ? loose.spec?.containers : loose.spec?.template?.spec?.containers;
  return (containers ?? []).flatMap((container) => (container.ports ?? []).map((port) => port.containerPort));
}

function parseSelectorFlag(text: string): Record<string, string> {
  return Object.fromEntries(text.split(",").map((pair) => pair.split("=") as [string, string]));
}

async function expose(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const [request] = parseResourceArgs(parsed.positionals);
  const targetName = request?.names[0];
  if (request === undefined || targetName === undefined) throw new UsageError("You must provide the resource and name to expose");
  const target = await context.client.get(request.resource, request.resource.namespaced ? context.namespace : undefined, targetName);
  const selectorFlag = flagValue(parsed, "selector");
  const selector = selectorFlag === undefined ? selectorOf(request.resource, target) : parseSelectorFlag(selectorFlag);
  const port = flagInt(parsed, "port") ?? (portsOf(request.resource, target).length === 1 ? portsOf(request.resource, target)[0] : undefined);
  if (port === undefined) throw new UsageError(`couldn't find port via --port flag or introspection`);
  const targetPortText = flagValue(parsed, "target-port");
  const targetPort = targetPortText === undefined ? port : /^\d+$/.test(targetPortText) ? Number(targetPortText) : targetPortText;
  const name = flagValue(parsed, "name") ?? targetName;
  const labels = flagValue(parsed, "labels") === undefined ? target.metadata.labels : parseSelectorFlag(flagValue(parsed, "labels") ?? "");
  const clusterIp = flagValue(parsed, "cluster-ip");
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: context.namespace, ...(labels === undefined ? {} : { labels }) },
    spec: {
      ports: [{ port, protocol: flagValue(parsed, "protocol") ?? "TCP", targetPort }],
      selector,
      ...(flagValue(parsed, "type") === undefined ? {} : { type: flagValue(parsed, "type") }),
      ...(clusterIp === undefined ? {} : { clusterIP: clusterIp }),
    },
  } as KubeObject;
  await context.client.create(resolveOne("services"), service, { fieldManager: "kubectl-expose" });
  context.stdout.write(`${objectName(resolveOne("services"), name)} exposed\n`);
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, exposeFlags, expose);
}

export { expose };
