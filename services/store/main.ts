/** `flotilla store`: one member of Flotilla's Raft-replicated store, with etcd's flags. */
import { FlagError } from "../../libs/flags/index.ts";
import { parseStoreFlags } from "./config.ts";
import { runStore } from "./server.ts";

export async function main(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseStoreFlags>;
  try {
    parsed = parseStoreFlags(args);
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`flotilla store: ${error.message}\n(see flotilla store --help)\n`);
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
  await runStore(parsed.config, controller.signal);
  return 0;
}
