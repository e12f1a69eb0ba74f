/**
 * `flotilla snapshot restore`: a new member's data directory built from a snapshot file, as
 * `etcdctl snapshot restore` builds one. The snapshot's key space (revisions, history, compaction,
 * leases) starts a NEW cluster defined by the same flags `flotilla store` will get: member ids and
 * cluster id come from --initial-cluster and --initial-cluster-token, and the old cluster's
 * member names and alarms are dropped (they name members that do not exist in the new cluster).
 *
 * Every member of the new cluster is restored from the same file with its own --name. Each data
 * directory holds a Raft snapshot at index 1, term 1, whose configuration is the initial cluster
 * and whose data is the key space, with the state machine applied at that index. The log starts
 * after the snapshot, so a member added later receives the key space as a snapshot too (etcd
 * writes its restored members' configuration at index N for the same reason).
 *
 * Nothing is written until the file has passed every check (its sha256 trailer, then a full
 * decode of the state); a failure after that removes the directory this command created.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { minLeaseTtlSeconds } from "../../libs/mvcc/index.ts";
import { EntryType, type ConfState, type NodeId } from "../../libs/raft/index.ts";
import type { StoreConfig } from "./config.ts";
import { writeIdentity } from "./join.ts";
import { encodeInternal, PayloadTag } from "./payload.ts";
import { DurableLog, encodeNodeSnapshot, type StateRecord } from "./raft/index.ts";
import { decodeSnapshotBody, openSnapshot, SnapshotFileError } from "./snapshot-file.ts";
import { StoreStateMachine } from "./state-machine.ts";

/** The Raft position a restored member starts from: a snapshot at index 1 in term 1. */
const restoredIndex = 1;
const restoredTerm = 1;

export interface RestoreResult {
  readonly dataDir: string;
  readonly memberId: number;
  readonly clusterId: number;
  /** The key space's revision in the snapshot. */
  readonly revision: number;
}

export async function restoreSnapshot(snapshotPath: string, config: StoreConfig): Promise<RestoreResult> {
  const file = await readSnapshotFile(snapshotPath);
  const name = `snapshot file ${snapshotPath}`;
  const { state } = decodeSnapshotBody(openSnapshot(file, name), name);
  const restored = keySpaceOnly(state, snapshotPath, config);
  await refuseUsedDataDir(config.dataDir);
  const created = await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  try {
    await writeDataDir(config, restored);
  } catch (error) {
    // Leave nothing half-written behind; a directory that already existed (empty) stays.
    if (created !== undefined) await rm(config.dataDir, { recursive: true, force: true });
    else await emptyDirectory(config.dataDir);
    throw error;
  }
  return { dataDir: config.dataDir, memberId: config.memberId, clusterId: config.clusterId, revision: restored.revision };
}

async function readSnapshotFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new SnapshotFileError(`cannot read snapshot file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function newStateMachine(config: StoreConfig): StoreStateMachine {
  return new StoreStateMachine({
    memberId: config.memberId,
    clusterId: config.clusterId,
    minLeaseTtlSeconds: minLeaseTtlSeconds(config.electionTicks, config.heartbeatIntervalMs),
    raftTerm: () => restoredTerm,
  });
}

interface RestoredState {
  /** The state machine's snapshot bytes without the old cluster's members and alarms. */
  readonly bytes: Uint8Array;
  /** The records that describe that state on disk. */
  readonly records: readonly StateRecord[];
  readonly revision: number;
}

/** Decodes the whole snapshot (refusing anything that is not a store snapshot) and drops the old cluster's state. */
function keySpaceOnly(state: Uint8Array, snapshotPath: string, config: StoreConfig): RestoredState {
  const scratch = newStateMachine(config);
  try {
    scratch.restore(state);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SnapshotFileError(`snapshot file ${snapshotPath} holds no valid store state (${reason})`);
  }
  for (const id of [...scratch.members.keys()]) scratch.forgetMember(id);
  for (const alarm of [...scratch.alarms]) {
    const [memberId, name] = alarm.split("/") as [string, "NOSPACE" | "CORRUPT"];
    const data = encodeInternal(PayloadTag.Alarm, { action: "deactivate", memberId, alarm: name });
    scratch.apply({ term: restoredTerm, index: restoredIndex, type: EntryType.Normal, data });
  }
  const bytes = scratch.snapshot();
  const target = newStateMachine(config);
  const records = target.restore(bytes);
  return { bytes, records, revision: target.mvcc.currentRevision };
}

/** etcd's rule: the data directory must not exist or must be empty. */
async function refuseUsedDataDir(dataDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new Error(`data-dir "${dataDir}" could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (entries.length > 0) throw new Error(`data-dir "${dataDir}" not empty`);
}

async function emptyDirectory(dataDir: string): Promise<void> {
  for (const entry of await readdir(dataDir)) await rm(`${dataDir}/${entry}`, { recursive: true, force: true });
}

async function writeDataDir(config: StoreConfig, restored: RestoredState): Promise<void> {
  const peers = new Map<NodeId, string>(config.initialCluster.map((member) => [member.id, member.peerUrls.join(",")]));
  const confState: ConfState = { voters: [...peers.keys()].sort((a, b) => a - b), learners: [] };
  const log = await DurableLog.open(config.dataDir, { bootstrap: { confState, peers } });
  try {
    const data = encodeNodeSnapshot({ peers, removed: new Set(), stateMachine: restored.bytes });
    const snapshot = { data, metadata: { index: restoredIndex, term: restoredTerm, confState } };
    await log.persist({ snapshot, entries: [], hardState: { term: restoredTerm, vote: 0, commit: restoredIndex } }, true);
    await log.saveApplied({ appliedIndex: restoredIndex, records: restored.records, replaceState: true, peers, removedMembers: new Set(), sync: true });
  } finally {
    await log.close();
  }
  await writeIdentity(config.dataDir, { memberId: config.memberId, clusterId: config.clusterId, peers });
}
