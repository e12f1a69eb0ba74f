/** `flotilla annotate`: label.ts's verb for metadata.annotations. */
import { runVerb } from "./context.ts";
import { annotate, labelFlags } from "./label.ts";

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, labelFlags, annotate);
}
