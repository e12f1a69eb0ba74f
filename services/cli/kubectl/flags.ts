/**
 * kubectl's command-line shape: positional arguments, `--name=value`, `--name value`, `-n value`,
 * `-nvalue`, boolean switches (`-A`, `-w`, `--overwrite`), repeatable flags (`-f a -f b`,
 * `-L a,b`), and `--` after which everything is positional (`kubectl run x -- sleep 1`).
 */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface FlagSpec {
  /** Flags that take no value (`all-namespaces`, `watch`). Long names, without dashes. */
  readonly booleans?: readonly string[];
  /** Flags that take a value. Long names, without dashes. */
  readonly values?: readonly string[];
  /** Short name → long name (`n` → `namespace`). */
  readonly shorts?: Readonly<Record<string, string>>;
}

export interface ParsedArgs {
  readonly positionals: string[];
  /** Everything after `--`. */
  readonly trailing: string[];
  /** Every value of each flag, in order; booleans hold "true" or "false". */
  readonly flags: Map<string, string[]>;
}

/** Flags every verb takes. */
export const globalFlags: FlagSpec = {
  values: ["kubeconfig", "namespace", "context", "request-timeout"],
  shorts: { n: "namespace" },
};

/** Bound on how many arguments one command line may carry. */
const argumentsMax = 10_000;

function mergeSpecs(spec: FlagSpec): { booleans: Set<string>; values: Set<string>; shorts: Map<string, string> } {
  return {
    booleans: new Set([...(globalFlags.booleans ?? []), ...(spec.booleans ?? [])]),
    values: new Set([...(globalFlags.values ?? []), ...(spec.values ?? [])]),
    shorts: new Map([...Object.entries(globalFlags.shorts ?? {}), ...Object.entries(spec.shorts ?? {})]),
  };
}

export function parseArgs(args: readonly string[], spec: FlagSpec): ParsedArgs {
  if (args.length > argumentsMax) throw new UsageError(`more than ${argumentsMax} arguments`);
  const known = mergeSpecs(spec);
  const result: ParsedArgs = { positionals: [], trailing: [], flags: new Map() };
  const add = (name: string, value: string) => result.flags.set(name, [...(result.flags.get(name) ?? []), value]);
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? "";
    if (arg === "--") {
      result.trailing.push(...args.slice(index + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      name = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
      inline = equals < 0 ? undefined : arg.slice(equals + 1);
    } else if (arg.startsWith("-") && arg.length > 1) {
      const short = arg.slice(1, 2);
      const long = known.shorts.get(short);
      if (long === undefined) throw new UsageError(`unknown shorthand flag: '${short}' in ${arg}`);
      name = long;
      let rest = arg.slice(2);
      // Boolean shorthands combine (`-it` is `-i -t`); a value shorthand takes the rest (`-nfoo`).
      while (known.booleans.has(name) && rest !== "" && !rest.startsWith("=")) {
        add(name, "true");
        const next = known.shorts.get(rest.slice(0, 1));
        if (next === undefined) throw new UsageError(`unknown shorthand flag: '${rest.slice(0, 1)}' in ${arg}`);
        name = next;
        rest = rest.slice(1);
      }
      inline = rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest;
    } else {
      result.positionals.push(arg);
      continue;
    }
    if (known.booleans.has(name)) {
      add(name, inline ?? "true");
    } else if (known.values.has(name)) {
      if (inline === undefined) {
        index++;
        if (index >= args.length) throw new UsageError(`flag needs an argument: --${name}`);
        inline = args[index] ?? "";
      }
      add(name, inline);
    } else {
      throw new UsageError(`unknown flag: --${name}`);
    }
  }
  return result;
}

export function flagValue(parsed: ParsedArgs, name: string): string | undefined {
  const values = parsed.flags.get(name);
  return values === undefined ? undefined : values[values.length - 1];
}

export function flagBool(parsed: ParsedArgs, name: string): boolean {
  const value = flagValue(parsed, name);
  return value !== undefined && value !== "false";
}

/** Every value of a repeatable flag, comma-separated lists split (`-L a,b -L c`). */
export function flagList(parsed: ParsedArgs, name: string, splitCommas = true): string[] {
  const values = parsed.flags.get(name) ?? [];
  return splitCommas ? values.flatMap((value) => value.split(",")).filter((value) => value !== "") : values;
}

export function flagInt(parsed: ParsedArgs, name: string): number | undefined {
  const value = flagValue(parsed, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`invalid argument "${value}" for "--${name}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}
