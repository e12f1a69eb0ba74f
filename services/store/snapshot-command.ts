/**
 * `flotilla snapshot save FILE --endpoints URL`: the whole key space of one store member (or an
 * etcd member) streamed into FILE, checked against its sha256 trailer before it is kept.
 * `flotilla snapshot restore FILE --name ... --data-dir ... --initial-cluster ...`: a new
 * member's data directory from FILE, taking the same flags `flotilla store` then runs with.
 */
import { open, readFile, rename, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { credentials as channelCredentials, type ChannelCredentials } from "@grpc/grpc-js";
import { loadEtcdProto, type SnapshotResponse__Output } from "../../libs/etcdpb/index.ts";
import { FlagError, flagsHelp, parseFlags, type FlagSpecs } from "../../libs/flags/index.ts";
import { resolveStoreConfig, storeFlagSpecs } from "./config.ts";
import { restoreSnapshot } from "./restore.ts";
import { openSnapshot, SnapshotFileError } from "./snapshot-file.ts";

const saveFlagSpecs = {
  endpoints: { type: "string", default: "http://127.0.0.1:2379", help: "the one member to take the snapshot from" },
  cacert: { type: "string", default: "", help: "CA bundle to verify an https endpoint" },
  cert: { type: "string", default: "", help: "client certificate for an https endpoint" },
  key: { type: "string", default: "", help: "client key for an https endpoint" },
  "command-timeout": { type: "integer", default: 300, min: 1, help: "seconds the whole transfer may take" },
} as const satisfies FlagSpecs;

const usage = [
  "usage: flotilla snapshot save FILE [--endpoints URL] [--cacert F --cert F --key F]",
  "       flotilla snapshot restore FILE --name NAME --data-dir DIR --initial-cluster N=URL,... \\",
  "                                      --initial-advertise-peer-urls URL --initial-cluster-token TOKEN",
].join("\n");

export async function main(args: readonly string[]): Promise<number> {
  const [verb, ...rest] = args;
  try {
    if (verb === "save") return await save(rest);
    if (verb === "restore") return await restore(rest);
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`flotilla snapshot ${verb}: ${error.message}\n${usage}\n`);
      return 2;
    }
    process.stderr.write(`flotilla snapshot ${verb}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const asked = verb === "help" || verb === "--help" || verb === "-h";
  (asked ? process.stdout : process.stderr).write(`${usage}\n`);
  return asked ? 0 : 2;
}

function onePositional(positionals: readonly string[]): string {
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new FlagError("", "want exactly one snapshot FILE");
  return file;
}

async function save(args: readonly string[]): Promise<number> {
  const parsed = parseFlags(saveFlagSpecs, args, true);
  if (parsed.help) {
    process.stdout.write(`${flagsHelp("flotilla snapshot save FILE [flags]", saveFlagSpecs)}\n`);
    return 0;
  }
  const path = onePositional(parsed.positionals);
  const flags = parsed.values;
  if (flags.endpoints.includes(",")) throw new FlagError("endpoints", "a snapshot is taken from one member: give one endpoint");
  const endpoint = new URL(flags.endpoints);
  const credentials = endpoint.protocol === "https:" ? tlsCredentials(flags.cacert, flags.cert, flags.key) : channelCredentials.createInsecure();
  const partPath = `${path}.part`;
  try {
    const bytes = await fetchSnapshot(endpoint.host, credentials, partPath, Date.now() + flags["command-timeout"] * 1000);
    await rename(partPath, path);
    process.stdout.write(`Snapshot saved at ${path} (${bytes} bytes)\n`);
  } finally {
    await rm(partPath, { force: true });
  }
  return 0;
}

function tlsCredentials(cacert: string, cert: string, key: string): ChannelCredentials {
  return channelCredentials.createSsl(
    cacert === "" ? null : readFileSync(cacert),
    key === "" ? null : readFileSync(key),
    cert === "" ? null : readFileSync(cert),
  );
}

/** Streams Maintenance.Snapshot into `partPath`, fsyncs it, and checks its trailer; returns its size. */
async function fetchSnapshot(target: string, credentials: ChannelCredentials, partPath: string, deadlineMs: number): Promise<number> {
  const Maintenance = loadEtcdProto().etcdserverpb.Maintenance;
  const client = new Maintenance(target, credentials);
  const file = await open(partPath, "w", 0o600);
  let bytes = 0;
  try {
    const stream = client.Snapshot({}, { deadline: new Date(deadlineMs) });
    for await (const message of stream as AsyncIterable<SnapshotResponse__Output>) {
      await file.write(message.blob);
      bytes += message.blob.length;
    }
    await file.sync();
  } finally {
    await file.close();
    client.close();
  }
  // What was written is what restore will read: check it from the disk, not from memory.
  openSnapshot(new Uint8Array(await readFile(partPath)), `the snapshot received from ${target}`);
  return bytes;
}

async function restore(args: readonly string[]): Promise<number> {
  const parsed = parseFlags(storeFlagSpecs, args, true);
  if (parsed.help) {
    process.stdout.write(`${flagsHelp("flotilla snapshot restore FILE [flotilla store flags]", storeFlagSpecs)}\n`);
    return 0;
  }
  const path = onePositional(parsed.positionals);
  const config = resolveStoreConfig(parsed.values, parsed.given);
  try {
    const result = await restoreSnapshot(path, config);
    process.stdout.write(
      `restored snapshot ${path} at revision ${result.revision} into ${result.dataDir} ` +
        `(member ${result.memberId.toString(16)} of new cluster ${result.clusterId.toString(16)})\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof SnapshotFileError) {
      process.stderr.write(`flotilla snapshot restore: ${error.message}; nothing was written\n`);
      return 1;
    }
    throw error;
  }
}
