/** `flotilla uncordon NODE...` (see drain.ts). */
import { runVerb } from "./context.ts";
import { cordonFlags, uncordon } from "./drain.ts";

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, cordonFlags, uncordon);
}
