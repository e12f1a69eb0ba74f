/**
 * `flotilla run NAME --image=I [-- args]`: one pod as kubectl run makes it: label `run=NAME`
 * (or `--labels`), one container named NAME, `--env`, `--port`, `--restart`, `--command`.
 */
import type { KubeObject } from "../../../libs/api/index.ts";
import { objectName, runVerb, type CliContext } from "./context.ts";
import { flagBool, flagInt, flagList, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { resolveOne } from "./resources.ts";

export const runFlags: FlagSpec = {
  booleans: ["command", "stdin", "tty", "rm"],
  values: ["image", "labels", "env", "port", "restart", "image-pull-policy", "annotations", "output"],
  shorts: { l: "labels", i: "stdin", t: "tty", o: "output" },
};

function pairs(values: readonly string[], what: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf("=");
    if (equals <= 0) throw new UsageError(`invalid ${what}: ${value}`);
    result[value.slice(0, equals)] = value.slice(equals + 1);
  }
  return result;
}

export function podObject(name: string, namespace: string, parsed: ParsedArgs): KubeObject {
  const image = flagValue(parsed, "image");
  if (image === undefined || image === "") throw new UsageError("required flag(s) \"image\" not set");
  const restart = flagValue(parsed, "restart") ?? "Always";
  if (!["Always", "OnFailure", "Never"].includes(restart)) throw new UsageError(`invalid restart policy: ${restart}`);
  const labels = flagValue(parsed, "labels") === undefined ? { run: name } : pairs(flagList(parsed, "labels"), "label");
  const env = Object.entries(pairs(flagList(parsed, "env", false), "env")).map(([key, value]) => ({ name: key, value }));
  const port = flagInt(parsed, "port");
  const pullPolicy = flagValue(parsed, "image-pull-policy");
  const container = {
    name,
    image,
    ...(parsed.trailing.length === 0 ? {} : flagBool(parsed, "command") ? { command: [...parsed.trailing] } : { args: [...parsed.trailing] }),
    ...(env.length === 0 ? {} : { env }),
    ...(port === undefined ? {} : { ports: [{ containerPort: port }] }),
    ...(pullPolicy === undefined ? {} : { imagePullPolicy: pullPolicy }),
    ...(flagBool(parsed, "stdin") ? { stdin: true } : {}),
    ...(flagBool(parsed, "tty") ? { tty: true } : {}),
    resources: {},
  };
  const annotations = pairs(flagList(parsed, "annotations", false), "annotation");
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels, ...(Object.keys(annotations).length === 0 ? {} : { annotations }) },
    spec: { containers: [container], restartPolicy: restart, dnsPolicy: "ClusterFirst" },
  } as KubeObject;
}

async function runPod(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const [name] = parsed.positionals;
  if (name === undefined) throw new UsageError("NAME is required for run");
  await context.client.create(resolveOne("pods"), podObject(name, context.namespace, parsed), { fieldManager: "kubectl-run" });
  context.stdout.write(`${objectName(resolveOne("pods"), name)} created\n`);
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, runFlags, runPod);
}

export { runPod };
