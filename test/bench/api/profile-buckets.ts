/**
 * Splits a server's V8 CPU profile (from `main.ts --cpu-prof-dir`) into the phases of the API
 * path by each sample's own (self) frame: TLS and HTTP, JSON, defaulting and validation, the
 * store round trip (etcd client, gRPC, HTTP/2, the embedded store and Raft), the watch fan-out,
 * request handling, GC. JSON.parse and JSON.stringify are V8 builtins without frames of their
 * own, so their time shows as self time of the function that called them; those functions are
 * listed by name below. Idle samples are left out.
 *
 *   node --import tsx test/bench/api/profile-buckets.ts FILE.cpuprofile [--from-ms N] [--to-ms N]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Functions whose self time is mostly JSON.parse / JSON.stringify of objects. */
const jsonFunctions = new Set(["decodeObject", "writeJson", "encodeObject", "parseBody", "readJsonBody"]);
const watchFunctions = new Set(["eventLine"]);
/** Heaviest frames listed under each bucket. */
const framesPerBucket = 4;

/** The bucket of one frame; first match wins. */
export function bucketOf(functionName: string, url: string): string | undefined {
  if (functionName === "(idle)") return undefined;
  if (functionName === "(garbage collector)") return "GC";
  if (jsonFunctions.has(functionName)) return "JSON (parse/stringify in decodeObject, writeJson, ...)";
  if (watchFunctions.has(functionName) || /apiserver\/(watch|storage\/watch-cache|storage\/cacher)/.test(url)) return "watch fan-out";
  if (/@grpc|node:internal\/http2|libs\/etcd-client|protobufjs|proto-loader|nm\/long\//.test(url)) return "store round trip: etcd client, gRPC, HTTP/2";
  if (/services\/store|classic-level|abstract-level|libs\/raft|libs\/mvcc/.test(url)) return "store: embedded member (Raft, MVCC, LevelDB)";
  if (/libs\/api\/(validation|defaults|openapi|patch)|libs\/api\/validation/.test(url)) return "defaulting, validation, managedFields";
  if (/node:_tls|node:tls|TLSSocket|node:_http|node:http|node:net|stream_base|node:internal\/streams|writev|HTTPParser/.test(url + functionName)) return "TLS, HTTP parsing and socket writes";
  if (/services\/apiserver/.test(url)) return "API handlers (routing, auth, admission, storage glue)";
  if (functionName === "(program)") return "(program: native, unattributed)";
  return "other (node internals, libraries)";
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { "from-ms": { type: "string", default: "0" }, "to-ms": { type: "string" } } });
  const file = positionals[0];
  if (file === undefined) throw new Error("usage: profile-buckets.ts FILE.cpuprofile [--from-ms N] [--to-ms N]");
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const fromMs = Number(values["from-ms"]);
  const toMs = values["to-ms"] === undefined ? Number.POSITIVE_INFINITY : Number(values["to-ms"]);
  const totals = new Map<string, number>();
  const frames = new Map<string, Map<string, number>>();
  let elapsedMs = 0;
  let countedMs = 0;
  for (let index = 0; index < profile.samples.length; index++) {
    const deltaMs = (profile.timeDeltas[index] ?? 0) / 1000;
    elapsedMs += deltaMs;
    if (elapsedMs < fromMs || elapsedMs > toMs) continue;
    const node = byId.get(profile.samples[index] ?? -1);
    if (node === undefined) continue;
    const bucket = bucketOf(node.callFrame.functionName, node.callFrame.url.replace(/^.*node_modules\//, "nm/"));
    if (bucket === undefined) continue;
    totals.set(bucket, (totals.get(bucket) ?? 0) + deltaMs);
    const frame = `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.replace(/^.*node_modules\//, "nm/").replace(/^file:\/\/.*?\/(services|libs)\//, "$1/")}`;
    const bucketFrames = frames.get(bucket) ?? new Map<string, number>();
    bucketFrames.set(frame, (bucketFrames.get(frame) ?? 0) + deltaMs);
    frames.set(bucket, bucketFrames);
    countedMs += deltaMs;
  }
  console.log(`busy samples: ${countedMs.toFixed(0)} ms`);
  for (const [bucket, ms] of [...totals].sort((a, b) => b[1] - a[1])) {
    console.log(`${ms.toFixed(0).padStart(8)} ms ${((ms * 100) / countedMs).toFixed(1).padStart(5)}%  ${bucket}`);
    const top = [...(frames.get(bucket) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]).slice(0, framesPerBucket);
    for (const [frame, frameMs] of top) console.log(`${"".padStart(18)}${frameMs.toFixed(0).padStart(6)} ms  ${frame}`);
  }
}

if (process.argv[1]?.endsWith("profile-buckets.ts") === true) main();
