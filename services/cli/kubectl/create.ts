/**
 * `flotilla create`: `-f` manifests, or kubectl's generators for `namespace`, `deployment`,
 * `service clusterip|nodeport|loadbalancer|externalname`, `configmap` and `secret generic`, with
 * the objects kubectl builds for them.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { KubeObject, ResourceInfo } from "../../../libs/api/index.ts";
import { objectName, runVerb, type CliContext } from "./context.ts";
import { flagInt, flagList, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { manifestNamespace, readManifests } from "./manifests.ts";
import { resolveOne, resourceOf } from "./resources.ts";

export const createFlags: FlagSpec = {
  booleans: ["save-config", "recursive"],
  values: ["filename", "image", "replicas", "port", "tcp", "node-port", "clusterip", "external-name", "from-literal", "from-file", "from-env-file", "type", "output", "dry-run"],
  shorts: { f: "filename", R: "recursive", o: "output" },
};

/** kubectl's container name for an image: its last path segment without tag or digest. */
export function containerNameOf(image: string): string {
  const last = image.split("/").pop() ?? image;
  return (last.split("@")[0] ?? last).split(":")[0] ?? last;
}

export function deploymentObject(name: string, namespace: string, images: readonly string[], replicas: number, port: number | undefined, command: readonly string[]): KubeObject {
  const labels = { app: name };
  const containers = images.map((image) => ({
    name: containerNameOf(image),
    image,
    ...(command.length > 0 ? { command: [...command] } : {}),
    ...(port === undefined ? {} : { ports: [{ containerPort: port }] }),
    resources: {},
  }));
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers } } },
  } as KubeObject;
}

/** `--tcp=80:8080` → ServicePorts named `80-8080`, as kubectl's service generator. */
export function servicePorts(specs: readonly string[], nodePort: number | undefined): Record<string, unknown>[] {
  return specs.map((spec) => {
    const [portText = "", targetText = portText] = spec.split(":");
    const port = Number(portText);
    if (!Number.isInteger(port) || port <= 0) throw new UsageError(`invalid --tcp value ${spec}`);
    const targetPort = /^\d+$/.test(targetText) ? Number(targetText) : targetText;
    return { name: `${portText}-${targetText}`, port, protocol: "TCP", targetPort, ...(nodePort === undefined ? {} : { nodePort }) };
  });
}

function serviceObject(type: string, name: string, namespace: string, parsed: ParsedArgs): KubeObject {
  const serviceType = { clusterip: "ClusterIP", nodeport: "NodePort", loadbalancer: "LoadBalancer", externalname: "ExternalName" }[type];
  if (serviceType === undefined) throw new UsageError(`unknown service type ${type}: want clusterip, nodeport, loadbalancer or externalname`);
  const spec: Record<string, unknown> = { type: serviceType };
  if (serviceType === "ExternalName") spec["externalName"] = flagValue(parsed, "external-name") ?? "";
  else {
    spec["ports"] = servicePorts(flagList(parsed, "tcp"), flagInt(parsed, "node-port"));
    spec["selector"] = { app: name };
    const clusterIp = flagValue(parsed, "clusterip");
    if (clusterIp !== undefined) spec["clusterIP"] = clusterIp;
  }
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace, labels: { app: name } }, spec } as KubeObject;
}

/** `--from-literal=k=v`, `--from-file=[key=]path`, `--from-env-file=path` → key/value pairs. */
export function dataOf(parsed: ParsedArgs): Record<string, Buffer> {
  const data: Record<string, Buffer> = {};
  const put = (key: string, value: Buffer) => {
    if (key in data) throw new UsageError(`cannot add key ${key}, another key by that name already exists`);
    data[key] = value;
  };
  for (const literal of flagList(parsed, "from-literal", false)) {
    const equals = literal.indexOf("=");
    if (equals <= 0) throw new UsageError(`invalid literal source ${literal}, expected key=value`);
    put(literal.slice(0, equals), Buffer.from(literal.slice(equals + 1)));
  }
  for (const source of flagList(parsed, "from-file", false)) {
    const equals = source.indexOf("=");
    const path = equals < 0 ? source : source.slice(equals + 1);
    put(equals < 0 ? basename(path) : source.slice(0, equals), readFileSync(path));
  }
  for (const path of flagList(parsed, "from-env-file", false)) {
    for (const line of readFileSync(path, "utf8").split("\n")) {
      const trimmed = line.trim();
      if (trimmed === "" || trimmed.startsWith("#")) continue;
      const equals = trimmed.indexOf("=");
      put(equals < 0 ? trimmed : trimmed.slice(0, equals), Buffer.from(equals < 0 ? "" : trimmed.slice(equals + 1)));
    }
  }
  return data;
}

function generated(context: CliContext, parsed: ParsedArgs): KubeObject {
  const [what = "", ...rest] = parsed.positionals;
  const namespace = context.namespace;
  if (what === "namespace" || what === "ns") return { apiVersion: "v1", kind: "Namespace", metadata: { name: rest[0] ?? "" } } as KubeObject;
  if (what === "deployment" || what === "deploy") {
    const images = flagList(parsed, "image", false);
    if (images.length === 0) throw new UsageError("required flag(s) \"image\" not set");
    return deploymentObject(rest[0] ?? "", namespace, images, flagInt(parsed, "replicas") ?? 1, flagInt(parsed, "port"), parsed.trailing);
  }
  if (what === "service" || what === "svc") return serviceObject(rest[0] ?? "", rest[1] ?? "", namespace, parsed);
  const data = dataOf(parsed);
  if (what === "configmap" || what === "cm") {
    return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: rest[0] ?? "", namespace }, data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, value.toString("utf8")])) } as KubeObject;
  }
  if (what === "secret" && rest[0] === "generic") {
    const encoded = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, value.toString("base64")]));
    return { apiVersion: "v1", kind: "Secret", metadata: { name: rest[1] ?? "", namespace }, type: flagValue(parsed, "type") ?? "Opaque", data: encoded } as KubeObject;
  }
  throw new UsageError(`unknown thing to create: "${[what, ...rest.slice(0, 1)].join(" ")}" (namespace, deployment, service, configmap, secret generic, or -f)`);
}

async function createObject(context: CliContext, resource: ResourceInfo, object: KubeObject): Promise<void> {
  if (object.metadata.name === undefined || object.metadata.name === "") throw new UsageError("NAME is required");
  await context.client.create(resource, object, { fieldManager: "kubectl-create" });
  context.stdout.write(`${objectName(resource, object.metadata.name)} created\n`);
}

async function create(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const files = flagList(parsed, "filename", false);
  if (files.length > 0) {
    for (const object of await readManifests(context, files, false)) {
      const resource = resourceOf(object);
      const namespace = manifestNamespace(context, object, resource.namespaced);
      await createObject(context, resource, { ...object, metadata: { ...object.metadata, ...(namespace === undefined ? {} : { namespace }) } });
    }
    return 0;
  }
  const object = generated(context, parsed);
  await createObject(context, resolveOne(object.kind === "Namespace" ? "namespaces" : (object.kind ?? "").toLowerCase()), object);
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, createFlags, create);
}

export { create };
