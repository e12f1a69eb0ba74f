/** `flotilla token create`: see replica-commands.ts. */
import { tokenMain } from "./replica-commands.ts";

export async function main(args: readonly string[]): Promise<number> {
  return tokenMain(args);
}
