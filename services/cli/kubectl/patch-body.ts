/** A YAML or JSON value typed on the command line (`-p`) or in a file; JSON is YAML 1.2's subset. */
import { parse } from "yaml";
import { UsageError } from "./flags.ts";

export function parseManifestValue(text: string, what: string): unknown {
  try {
    return parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${what}: ${(error as Error).message}`);
  }
}
