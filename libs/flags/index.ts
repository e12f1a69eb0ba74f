/**
 * Command-line flags for every `flotilla` subcommand, on top of node:util's parseArgs: typed
 * specs, defaults, `--help` text, and errors that name the flag at fault, as etcd and kubectl do
 * ("invalid value "abc" for flag --snapshot-count: not an integer").
 */
import { parseArgs } from "node:util";

export class FlagError extends Error {
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`${flag === "" ? "" : `flag --${flag}: `}${message}`);
    this.name = "FlagError";
    this.flag = flag;
  }
}

interface FlagBase {
  readonly help: string;
}
export interface StringFlag extends FlagBase {
  readonly type: "string";
  readonly default: string;
}
export interface IntegerFlag extends FlagBase {
  readonly type: "integer";
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
}
export interface BooleanFlag extends FlagBase {
  readonly type: "boolean";
  readonly default: boolean;
}
export interface EnumFlag<V extends string = string> extends FlagBase {
  readonly type: "enum";
  readonly values: readonly V[];
  readonly default: V;
}
export interface ListFlag extends FlagBase {
  /** Comma-separated values; repeating the flag appends. */
  readonly type: "list";
  readonly default: readonly string[];
}

export type FlagSpec = StringFlag | IntegerFlag | BooleanFlag | EnumFlag | ListFlag;
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<S extends FlagSpec> = S extends StringFlag
  ? string
  : S extends IntegerFlag
    ? number
    : S extends BooleanFlag
      ? boolean
      : S extends EnumFlag<infer V>
        ? V
        : S extends ListFlag
          ? readonly string[]
          : never;

export type FlagValues<S extends FlagSpecs> = { readonly [K in keyof S]: ValueOf<S[K]> };

export interface ParsedFlags<S extends FlagSpecs> {
  readonly values: FlagValues<S>;
  /** Flags the user set explicitly (so defaults can be derived from other flags). */
  readonly given: ReadonlySet<string>;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

export function parseFlags<S extends FlagSpecs>(specs: S, argv: readonly string[], allowPositionals = false): ParsedFlags<S> {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = { help: { type: "boolean" } };
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = spec.type === "boolean" ? { type: "boolean" } : { type: "string", multiple: true };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals, allowNegative: true } as Parameters<typeof parseArgs>[0]);
  } catch (error) {
    throw new FlagError("", describeParseError(error));
  }
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [name, spec] of Object.entries(specs)) {
    const raw = parsed.values[name] as string[] | boolean | undefined;
    if (raw === undefined) {
      values[name] = spec.default;
      continue;
    }
    given.add(name);
    values[name] = convert(name, spec, raw);
  }
  return { values: values as FlagValues<S>, given, positionals: parsed.positionals, help: parsed.values["help"] === true };
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // parseArgs says "Unknown option '--bogus'..."; keep the flag name and drop node's advice.
  return message.split(". To specify")[0] ?? message;
}

function convert(name: string, spec: FlagSpec, raw: string[] | boolean): unknown {
  if (spec.type === "boolean") return raw === true;
  const list = raw as string[];
  const last = list[list.length - 1] ?? "";
  switch (spec.type) {
    case "string":
      return last;
    case "list":
      return list.flatMap((item) => item.split(",")).map((item) => item.trim()).filter((item) => item !== "");
    case "enum":
      if (!spec.values.includes(last)) {
        throw new FlagError(name, `invalid value "${last}" (want one of ${spec.values.join(", ")})`);
      }
      return last;
    case "integer":
      return toInteger(name, spec, last);
  }
}

function toInteger(name: string, spec: IntegerFlag, text: string): number {
  if (!/^-?\d+$/.test(text)) throw new FlagError(name, `invalid value "${text}": not an integer`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new FlagError(name, `invalid value "${text}": out of range`);
  if (spec.min !== undefined && value < spec.min) throw new FlagError(name, `invalid value ${value}: must be at least ${spec.min}`);
  if (spec.max !== undefined && value > spec.max) throw new FlagError(name, `invalid value ${value}: must be at most ${spec.max}`);
  return value;
}

/** The `--help` text: one line per flag with its default. */
export function flagsHelp(usage: string, specs: FlagSpecs): string {
  const lines = Object.entries(specs).map(([name, spec]) => {
    const shown = Array.isArray(spec.default) ? spec.default.join(",") : String(spec.default);
    return `  --${name.padEnd(30)} ${spec.help}${shown === "" ? "" : ` (default ${shown})`}`;
  });
  return [`usage: ${usage}`, "", "flags:", ...lines].join("\n");
}
