/**
 * Builds the JavaScript `scripts/flotilla` runs: services/cli/main.ts and everything it imports
 * from services/ and libs/, bundled by esbuild with code splitting (each command's lazy import
 * stays a chunk of its own, so `flotilla store` never loads the API server), packages left to
 * node_modules. Running this instead of the TypeScript sources through tsx's loader saves every
 * Flotilla process the loader's thread and the on-the-fly compiler (measured in
 * services/store/README.md), which matters on a Raspberry Pi running an agent.
 *
 * `node --import tsx scripts/bundle.ts CACHE_DIR` builds CACHE_DIR/build-<ms>-<pid>/ and points
 * the symlink CACHE_DIR/current at it, only when a source under services/ or libs/ is newer than
 * current/main.js, so many processes starting at once (under `flock`, see scripts/flotilla) build
 * it once. main.js gets the build's start time as its mtime: a source saved during the build is
 * newer and triggers the next one. Running processes keep their own build directory (node
 * resolves the symlink when it starts), so a rebuild never swaps chunks under them; the last few
 * builds are kept for that. Modules find their data files (proto/, package.json) relative to
 * `import.meta.url`; in the bundle each module keeps its own source file's URL, so those paths
 * stay right.
 */
import { mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, utimesSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sourceDirectories = ["services", "libs"].map((name) => join(root, name));
const entryPoint = join(root, "services", "cli", "main.ts");

/** The newest mtime (ms) of any .ts file below `directory`. */
function newestSourceMs(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds kept besides the newest, for processes started from them that may still load a chunk. */
const olderBuildsKept = 3;
const entryName = "main.js";

function isFresh(currentEntry: string): boolean {
  let builtMs: number;
  try {
    builtMs = statSync(realpathSync(currentEntry)).mtimeMs;
  } catch {
    return false;
  }
  return sourceDirectories.every((directory) => newestSourceMs(directory) <= builtMs);
}

/** Points `cacheDir/current` at `buildDir` in one rename, so a reader sees the old or the new. */
function publish(cacheDir: string, buildDir: string): void {
  const link = join(cacheDir, `current.${process.pid}.tmp`);
  rmSync(link, { force: true });
  symlinkSync(buildDir, link);
  renameSync(link, join(cacheDir, "current"));
}

function removeOldBuilds(cacheDir: string, keep: string): void {
  const builds = readdirSync(cacheDir)
    .filter((name) => name.startsWith("build-") && join(cacheDir, name) !== keep)
    .sort((left, right) => Number(right.split("-")[1]) - Number(left.split("-")[1]));
  for (const name of builds.slice(olderBuildsKept)) rmSync(join(cacheDir, name), { recursive: true, force: true });
}

/** Gives each bundled module its own source file's `import.meta.url` and `import.meta.dirname`. */
const ownImportMeta: Plugin = {
  name: "own-import-meta",
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      const contents = source
        .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path)));
      return { contents, loader: "ts" };
    });
  },
};

async function main(): Promise<void> {
  const cacheDir = process.argv[2];
  if (cacheDir === undefined || cacheDir === "") throw new Error("usage: bundle.ts CACHE_DIR");
  if (isFresh(join(cacheDir, "current", entryName))) return;
  const startedAt = new Date();
  const buildDir = join(cacheDir, `build-${startedAt.getTime()}-${process.pid}`);
  mkdirSync(buildDir, { recursive: true });
  await build({
    entryPoints: { main: entryPoint },
    outdir: buildDir,
    entryNames: "[name]",
    chunkNames: "chunks/[name]-[hash]",
    outExtension: { ".js": ".js" },
    bundle: true,
    splitting: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    keepNames: true,
    logLevel: "warning",
    plugins: [ownImportMeta],
  });
  utimesSync(join(buildDir, entryName), startedAt, startedAt);
  publish(cacheDir, buildDir);
  removeOldBuilds(cacheDir, buildDir);
}

await main();
