/**
 * What every kubectl verb of the flotilla CLI runs with: an ApiClient (libs/client), a source of
 * Tables, the namespace (`-n`, else the kubeconfig context's, else "default"), output streams and
 * the clock. `runVerb` parses the flags, builds the context from the kubeconfig ($KUBECONFIG or
 * --kubeconfig or ~/.kube/config) and prints errors as kubectl does.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { formatGroupResource, isStatusError, StatusError } from "../../../libs/api/index.ts";
import type { ResourceInfo } from "../../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig } from "../../../libs/client/index.ts";
import type { ApiClient } from "../../../libs/client/index.ts";
import { parseKubeconfig } from "../../../libs/pki/index.ts";
import { flagValue, parseArgs, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { RawHttp } from "./raw.ts";
import { ServerTables, type TableSource } from "./tables.ts";

export interface Output {
  write(text: string): void;
}

export interface CliContext {
  readonly client: ApiClient;
  readonly tables: TableSource;
  /** Streams and upgrades (logs, exec); absent in unit tests. */
  readonly raw?: RawHttp;
  /** The namespace verbs work in. */
  readonly namespace: string;
  /** True when -n/--namespace was given (kubectl's "enforce namespace" for -f). */
  readonly namespaceFromFlag: boolean;
  readonly kubeconfigPath: string;
  readonly stdout: Output;
  readonly stderr: Output;
  nowMs(): number;
  readStdin(): Promise<string>;
  /** Aborted on SIGINT/SIGTERM: ends watches. */
  readonly signal: AbortSignal;
}

export type Verb = (context: CliContext, parsed: ParsedArgs) => Promise<number>;

export function kubeconfigPathOf(parsed: ParsedArgs): string {
  return flagValue(parsed, "kubeconfig") ?? process.env["KUBECONFIG"]?.split(":")[0] ?? join(homedir(), ".kube", "config");
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The context of a real run: HTTPS to the kubeconfig's server. */
export function contextFromKubeconfig(parsed: ParsedArgs, signal: AbortSignal): CliContext & { close(): void } {
  const kubeconfigPath = kubeconfigPathOf(parsed);
  let text: string;
  try {
    text = readFileSync(kubeconfigPath, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the kubeconfig ${kubeconfigPath}: ${(error as Error).message}`);
  }
  const options = { ...optionsFromKubeconfig(text), userAgent: "flotilla-cli" };
  const client = new HttpApiClient(options);
  const raw = new RawHttp(options);
  const fromFlag = flagValue(parsed, "namespace");
  return {
    client,
    tables: new ServerTables(raw),
    raw,
    namespace: fromFlag ?? parseKubeconfig(text).namespace ?? "default",
    namespaceFromFlag: fromFlag !== undefined,
    kubeconfigPath,
    stdout: process.stdout,
    stderr: process.stderr,
    nowMs: () => Date.now(),
    readStdin,
    signal,
    close: () => client.close(),
  };
}

/** kubectl's wording of an error: `Error from server (NotFound): ...` or `error: ...`. */
export function formatError(error: unknown): string {
  if (error instanceof StatusError) {
    const reason = error.status.reason ?? "";
    return reason === "" ? `Error from server: ${error.status.message ?? ""}` : `Error from server (${reason}): ${error.status.message ?? ""}`;
  }
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

/** Parses, runs one verb, prints errors; resolves to the exit code. */
export async function runVerb(args: readonly string[], spec: FlagSpec, verb: Verb): Promise<number> {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(args, spec);
  } catch (error) {
    process.stderr.write(`${formatError(error)}\n`);
    return 1;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let context: (CliContext & { close(): void }) | undefined;
  try {
    context = contextFromKubeconfig(parsed, controller.signal);
    return await verb(context, parsed);
  } catch (error) {
    process.stderr.write(`${formatError(error)}\n`);
    return 1;
  } finally {
    context?.close();
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

/** `deployment.apps/web`: kubectl's name of an object in messages and `-o name`. */
export function objectName(resource: ResourceInfo, name: string): string {
  return `${resource.group === "" ? resource.singular : `${resource.singular}.${resource.group}`}/${name}`;
}

/** `deployments.apps "web"`: the wording of upstream's status messages. */
export function quotedName(resource: ResourceInfo, name: string): string {
  return `${formatGroupResource({ group: resource.group, resource: resource.resource })} "${name}"`;
}

export { isStatusError };
