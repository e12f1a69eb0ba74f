/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: self time per
 * function, inclusive time per function and inclusive time per module (folder), so that a cost
 * can be followed from the gRPC handler down to LevelDB.
 *
 *   node --import tsx test/bench/store/analyze-profile.ts FILE.cpuprofile [--rows 40] [--from-ms N] [--to-ms N] [--callers NAME]
 *
 * --from-ms skips the first N ms of the profile (start-up: module loading through tsx), --to-ms
 * ignores what comes after N ms (to look at one phase);
 * --callers prints the call paths (bottom up) that lead to functions whose label contains NAME.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly startTime: number;
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const rowsDefault = 40;
/** Frames shown per caller path and paths shown for --callers. */
const callerDepthMax = 14;
const callerPathsMax = 12;

interface Options {
  readonly rows: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly callers: string | undefined;
}

function functionLabel(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/node_modules\//, "nm/").replace(/^.*\/work\/[^/]+\//, "").replace(/^file:\/\//, "");
  return `${functionName === "" ? "(anonymous)" : functionName} ${file}:${lineNumber + 1}`;
}

function moduleLabel(node: ProfileNode): string {
  const url = node.callFrame.url;
  if (url === "") return `(${node.callFrame.functionName || "native"})`;
  const packageMatch = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch !== null) return `nm/${packageMatch[1] ?? ""}`;
  if (url.startsWith("node:")) return url;
  const relative = url.replace(/^file:\/\//, "").replace(/^.*\/work\/[^/]+\//, "");
  return relative.split("/").slice(0, -1).join("/") || relative;
}

function table(title: string, totals: ReadonlyMap<string, number>, totalUs: number, rows: number): string {
  const lines = [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(([label, us]) => `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${label}`);
  return [`--- ${title}`, ...lines].join("\n");
}

/** Self time per node id over the samples taken from `fromMs` to `toMs` after the profile started. */
function selfTimes(profile: CpuProfile, fromMs: number, toMs: number): Map<number, number> {
  const selfUs = new Map<number, number>();
  let elapsedUs = 0;
  profile.samples.forEach((id, i) => {
    const deltaUs = profile.timeDeltas[i] ?? 0;
    elapsedUs += deltaUs;
    if (elapsedUs >= fromMs * 1000 && elapsedUs <= toMs * 1000) selfUs.set(id, (selfUs.get(id) ?? 0) + deltaUs);
  });
  return selfUs;
}

/** The heaviest call paths (innermost first) through functions whose label contains `name`. */
function callerPaths(byId: ReadonlyMap<number, ProfileNode>, parent: ReadonlyMap<number, number>, selfUs: ReadonlyMap<number, number>, name: string): string {
  const paths = new Map<string, number>();
  for (const [id, us] of selfUs) {
    let current = byId.get(id);
    while (current !== undefined && !functionLabel(current).includes(name)) current = byId.get(parent.get(current.id) ?? -1);
    const frames: string[] = [];
    for (; current !== undefined && frames.length < callerDepthMax; current = byId.get(parent.get(current.id) ?? -1)) frames.push(functionLabel(current));
    if (frames.length > 0) paths.set(frames.join("\n      <- "), (paths.get(frames.join("\n      <- ")) ?? 0) + us);
  }
  const lines = [...paths].sort((a, b) => b[1] - a[1]).slice(0, callerPathsMax).map(([path, us]) => `${(us / 1000).toFixed(0).padStart(8)} ms  ${path}`);
  return [`--- call paths through "${name}"`, ...lines].join("\n");
}

function analyze(profile: CpuProfile, options: Options): string {
  const { rows } = options;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = selfTimes(profile, options.fromMs, options.toMs);
  const selfByFunction = new Map<string, number>();
  const inclusiveByFunction = new Map<string, number>();
  const inclusiveByModule = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    totalUs += us;
    selfByFunction.set(functionLabel(node), (selfByFunction.get(functionLabel(node)) ?? 0) + us);
    // Each function and module counts once per sample even when it recurses.
    const seenFunctions = new Set<string>();
    const seenModules = new Set<string>();
    for (let current: ProfileNode | undefined = node; current !== undefined; current = byId.get(parent.get(current.id) ?? -1)) {
      seenFunctions.add(functionLabel(current));
      seenModules.add(moduleLabel(current));
    }
    for (const label of seenFunctions) inclusiveByFunction.set(label, (inclusiveByFunction.get(label) ?? 0) + us);
    for (const label of seenModules) inclusiveByModule.set(label, (inclusiveByModule.get(label) ?? 0) + us);
  }
  if (options.callers !== undefined) return callerPaths(byId, parent, selfUs, options.callers);
  return [
    `total ${(totalUs / 1000).toFixed(0)} ms sampled from ${options.fromMs} ms${Number.isFinite(options.toMs) ? ` to ${options.toMs} ms` : ""}`,
    table("self time by function", selfByFunction, totalUs, rows),
    table("inclusive time by function", inclusiveByFunction, totalUs, rows),
    table("inclusive time by module", inclusiveByModule, totalUs, rows),
  ].join("\n");
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rows: { type: "string" }, "from-ms": { type: "string" }, "to-ms": { type: "string" }, callers: { type: "string" } },
});
const [path] = positionals;
if (path === undefined) throw new Error("usage: analyze-profile.ts FILE.cpuprofile [--rows N] [--from-ms N] [--to-ms N] [--callers NAME]");
const options: Options = {
  rows: Number(values.rows ?? rowsDefault),
  fromMs: Number(values["from-ms"] ?? 0),
  toMs: Number(values["to-ms"] ?? Number.POSITIVE_INFINITY),
  callers: values.callers,
};
process.stdout.write(`${analyze(JSON.parse(readFileSync(path, "utf8")) as CpuProfile, options)}\n`);
