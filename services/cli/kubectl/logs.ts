/**
 * `flotilla logs POD|TYPE/NAME`: the pods/log subresource streamed to stdout; `-c`, `-f`,
 * `--tail`, `--since` (a duration), `--timestamps`, `-p/--previous`.
 */
import { runVerb, type CliContext } from "./context.ts";
import { flagBool, flagInt, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { containerFor, podFor } from "./pods.ts";
import { parseDurationMs } from "./rollout.ts";

export const logsFlags: FlagSpec = {
  booleans: ["follow", "timestamps", "previous"],
  values: ["container", "tail", "since"],
  shorts: { c: "container", f: "follow", p: "previous" },
};

/** The query of a pods/log request. */
export function logQuery(container: string, parsed: ParsedArgs): string {
  const params = new URLSearchParams({ container });
  if (flagBool(parsed, "follow")) params.set("follow", "true");
  if (flagBool(parsed, "timestamps")) params.set("timestamps", "true");
  if (flagBool(parsed, "previous")) params.set("previous", "true");
  const tail = flagInt(parsed, "tail");
  if (tail !== undefined && tail >= 0) params.set("tailLines", String(tail));
  const since = flagValue(parsed, "since");
  if (since !== undefined) params.set("sinceSeconds", String(Math.max(1, Math.ceil(parseDurationMs(since) / 1000))));
  return params.toString();
}

async function logs(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const [target] = parsed.positionals;
  if (target === undefined) throw new UsageError("expected POD or TYPE/NAME");
  if (context.raw === undefined) throw new UsageError("logs needs a connection to the API server");
  const pod = await podFor(context, target);
  const container = containerFor(context, pod, flagValue(parsed, "container"));
  const path = `/api/v1/namespaces/${encodeURIComponent(context.namespace)}/pods/${encodeURIComponent(pod.metadata.name ?? "")}/log?${logQuery(container, parsed)}`;
  const response = await context.raw.get(path, "*/*", context.signal);
  try {
    for await (const chunk of response) context.stdout.write((chunk as Buffer).toString("utf8"));
  } catch (error) {
    if (!context.signal.aborted) throw error;
  }
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, logsFlags, logs);
}

export { logs };
