/**
 * `flotilla <command>`: dispatches to the service or operation named by the first argument.
 * Each command module is imported lazily, so `flotilla store` never loads the API server.
 */
import { commands, type CommandModule } from "./commands.ts";

function usage(): string {
  const lines = Object.entries(commands).map(([name, spec]) => `  ${name.padEnd(12)} ${spec.summary}`);
  return ["usage: flotilla <command> [flags]", "", "commands:", ...lines].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const spec = commands[name];
  if (spec === undefined) {
    process.stderr.write(`flotilla: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const module: CommandModule = await spec.load();
  return module.main(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`flotilla: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
