/** `flotilla kubeconfig`: see replica-commands.ts. */
import { kubeconfigMain } from "./replica-commands.ts";

export async function main(args: readonly string[]): Promise<number> {
  return kubeconfigMain(args);
}
