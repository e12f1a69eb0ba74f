import { readFileSync } from "node:fs";

export async function main(_args: readonly string[]): Promise<number> {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  process.stdout.write(`flotilla ${manifest.version} (node ${process.version})\n`);
  return 0;
}
