/**
 * The shape every long-running `flotilla` subcommand shares: parse flags (a FlagError is a usage
 * error, exit 2, naming the flag), print --help, then run until SIGTERM or SIGINT.
 */
import { FlagError } from "../../libs/flags/index.ts";

export async function runDaemon<Config>(
  command: string,
  args: readonly string[],
  parse: (args: readonly string[]) => { config: Config } | { help: string },
  run: (config: Config, signal: AbortSignal) => Promise<void>,
): Promise<number> {
  let parsed: { config: Config } | { help: string };
  try {
    parsed = parse(args);
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`flotilla ${command}: ${error.message}\n(see flotilla ${command} --help)\n`);
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
