/**
 * `flotilla config`: `set-context --current --namespace=NS` (or a named context), `current-context`,
 * `view` (credentials redacted). Edits the kubeconfig in place, keeping its other fields.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import { kubeconfigPathOf } from "./context.ts";
import { flagBool, flagValue, parseArgs, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { formatError } from "./context.ts";

export const configFlags: FlagSpec = {
  booleans: ["current", "raw", "minify"],
  values: ["cluster", "user"],
};

type Named = { name: string; context?: Record<string, unknown> };
type Kubeconfig = { "current-context"?: string; contexts?: Named[]; users?: { name: string; user?: Record<string, unknown> }[] } & Record<string, unknown>;

/** The kubeconfig after `set-context`: the context's namespace/cluster/user changed. */
export function setContext(config: Kubeconfig, name: string | undefined, current: boolean, changes: Record<string, string>): { config: Kubeconfig; contextName: string; created: boolean } {
  const contextName = current ? config["current-context"] : name;
  if (contextName === undefined || contextName === "") throw new UsageError(current ? "no current context is set" : "you must specify a non-empty context name or --current");
  const contexts = [...(config.contexts ?? [])];
  let entry = contexts.find((candidate) => candidate.name === contextName);
  const created = entry === undefined;
  if (entry === undefined) {
    if (current) throw new UsageError(`current-context "${contextName}" is not in the kubeconfig`);
    entry = { name: contextName, context: {} };
    contexts.push(entry);
  }
  entry.context = { ...(entry.context ?? {}), ...changes };
  return { config: { ...config, contexts }, contextName, created };
}

function redact(config: Kubeconfig): Kubeconfig {
  const users = (config.users ?? []).map((user) => ({
    ...user,
    user: Object.fromEntries(Object.entries(user.user ?? {}).map(([key, value]) => [key, /data$|token/.test(key) ? "DATA+OMITTED" : value])),
  }));
  return { ...config, users };
}

function configCommand(parsed: ParsedArgs): number {
  const path = kubeconfigPathOf(parsed);
  const config = (parse(readFileSync(path, "utf8")) ?? {}) as Kubeconfig;
  const [sub, name] = parsed.positionals;
  if (sub === "current-context") {
    process.stdout.write(`${config["current-context"] ?? ""}\n`);
    return 0;
  }
  if (sub === "view") {
    process.stdout.write(stringify(flagBool(parsed, "raw") ? config : redact(config)));
    return 0;
  }
  if (sub === "set-context") {
    const changes: Record<string, string> = {};
    for (const key of ["namespace", "cluster", "user"]) {
      const value = flagValue(parsed, key);
      if (value !== undefined) changes[key] = value;
    }
    const result = setContext(config, name, flagBool(parsed, "current"), changes);
    writeFileSync(path, stringify(result.config), { mode: 0o600 });
    process.stdout.write(`Context "${result.contextName}" ${result.created ? "created" : "modified"}.\n`);
    return 0;
  }
  throw new UsageError(`unknown config command "${sub ?? ""}": want set-context, current-context or view`);
}

export async function main(args: readonly string[]): Promise<number> {
  try {
    return await Promise.resolve(configCommand(parseArgs(args, configFlags)));
  } catch (error) {
    process.stderr.write(`${formatError(error)}\n`);
    return 1;
  }
}
