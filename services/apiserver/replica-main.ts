/** `flotilla server`: one control-plane replica (store member + API server). */
import { FlagError } from "../../libs/flags/index.ts";
import { parseReplicaFlags, runReplica } from "./replica.ts";

export async function main(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseReplicaFlags>;
  try {
    parsed = parseReplicaFlags(args);
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`flotilla server: ${error.message}\n(see flotilla server --help)\n`);
      return 2;
    }
    throw error;
  }
  if ("help" in parsed) {
    process.stdout.write(`${parsed.help}\n`);
    return 0;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  await runReplica(parsed.config, controller.signal);
  return 0;
}
