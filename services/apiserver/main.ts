/** `flotilla apiserver`: the Kubernetes-compatible API server alone, against a store's etcd v3 endpoints. */
import { FlagError } from "../../libs/flags/index.ts";
import { parseApiServerFlags } from "./config.ts";
import { run } from "./server.ts";

export async function main(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseApiServerFlags>;
  try {
    parsed = parseApiServerFlags(args);
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`flotilla apiserver: ${error.message}\n(see flotilla apiserver --help)\n`);
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
  await run(parsed.config, controller.signal);
  return 0;
}
