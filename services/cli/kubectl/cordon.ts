/** `flotilla cordon NODE...` (see drain.ts). */
import { runVerb } from "./context.ts";
import { cordon, cordonFlags } from "./drain.ts";

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, cordonFlags, cordon);
}
