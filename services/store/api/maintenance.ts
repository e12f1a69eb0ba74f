/**
 * etcdserverpb.Maintenance: status, alarms, hashes, snapshots, leadership moves, defragment.
 * Each answers from this member's own state, as etcd's do (no read barrier): an operator asks a
 * particular member, and `endpoint status --cluster` compares them.
 */
import type { ServerWritableStream, UntypedServiceImplementation } from "@grpc/grpc-js";
import { isMvccError } from "../../../libs/mvcc/index.ts";
import type * as wire from "../../../libs/etcdpb/index.ts";
import { headerToWire, toNumber } from "../convert.ts";
import { toEtcdError, type StoreContext } from "../context.ts";
import { etcdErrors, toServiceError } from "../errors.ts";
import { encodeInternal, PayloadTag } from "../payload.ts";
import { RequestTimeoutError } from "../raft/index.ts";
import { encodeSnapshotBody, snapshotChunks } from "../snapshot-file.ts";
import { fromMvccError } from "../state-machine.ts";
import { unary } from "./grpc.ts";

type AlarmName = "NOSPACE" | "CORRUPT";

function activeAlarms(context: StoreContext): { memberID: string; alarm: AlarmName }[] {
  return [...context.stateMachine.alarms].map((entry) => {
    const [memberID, alarm] = entry.split("/") as [string, AlarmName];
    return { memberID, alarm };
  });
}

/** The etcd API version we implement; clients compare against it for feature checks. */
export const etcdCompatibleVersion = "3.5.0";

export function maintenanceService(context: StoreContext): UntypedServiceImplementation {
  const { logger, stateMachine } = context;
  return {
    Status: unary(logger, "Status", async (): Promise<wire.StatusResponse> => status(context)),
    Alarm: unary(logger, "Alarm", async (request: wire.AlarmRequest__Output): Promise<wire.AlarmResponse> => alarm(context, request)),
    Hash: unary(logger, "Hash", async (): Promise<wire.HashResponse> => {
      const result = stateMachine.mvcc.hash();
      return { header: headerToWire(result.header, stateMachine.headerIds()), hash: result.hash };
    }),
    HashKV: unary(logger, "HashKV", async (request: wire.HashKVRequest__Output): Promise<wire.HashKVResponse> => {
      let result: ReturnType<typeof stateMachine.mvcc.hashKv>;
      try {
        result = stateMachine.mvcc.hashKv(toNumber(request.revision));
      } catch (error) {
        throw isMvccError(error) ? fromMvccError(error) : error;
      }
      return { header: headerToWire(result.header, stateMachine.headerIds()), hash: result.hash, compact_revision: result.compactRevision, hash_revision: result.hashRevision };
    }),
    // LevelDB compacts its files by itself; there is nothing to defragment, so this succeeds at once.
    Defragment: unary(logger, "Defragment", async (): Promise<wire.DefragmentResponse> => ({ header: stateMachine.header() })),
    MoveLeader: unary(logger, "MoveLeader", async (request: wire.MoveLeaderRequest__Output): Promise<wire.MoveLeaderResponse> => moveLeader(context, request)),
    Snapshot: (call: ServerWritableStream<wire.SnapshotRequest__Output, wire.SnapshotResponse>) => {
      streamSnapshot(context, call).catch((error: unknown) => {
        logger.warn({ err: error }, "snapshot stream failed");
        call.emit("error", toServiceError(error));
      });
    },
  };
}

/** etcd's Status: raftIndex is the commit index, errors name a missing leader and every alarm. */
function status(context: StoreContext): wire.StatusResponse {
  const { node, stateMachine } = context;
  const raft = node.status();
  const leaderless = node.leaderId === 0 ? [etcdErrors.noLeader.message] : [];
  const alarms = activeAlarms(context).map((entry) => `memberID:${entry.memberID} alarm:${entry.alarm}`);
  return {
    header: stateMachine.header(),
    version: etcdCompatibleVersion,
    dbSize: stateMachine.sizeBytes,
    leader: String(node.leaderId),
    raftIndex: raft.hardState.commit,
    raftTerm: raft.hardState.term,
    raftAppliedIndex: node.appliedIndex,
    errors: [...leaderless, ...alarms],
    // Our size counts live records only; there are no free pages to subtract.
    dbSizeInUse: stateMachine.sizeBytes,
    isLearner: node.confState.learners.includes(node.id),
  };
}

async function alarm(context: StoreContext, request: wire.AlarmRequest__Output): Promise<wire.AlarmResponse> {
  const { stateMachine } = context;
  const matches = (entry: { memberID: string; alarm: string }) =>
    (request.memberID === "0" || entry.memberID === request.memberID) && (request.alarm === "NONE" || entry.alarm === request.alarm);
  if (request.action === "GET") return { header: stateMachine.header(), alarms: activeAlarms(context).filter(matches) };
  const action = request.action === "ACTIVATE" ? "activate" : "deactivate";
  const targets = action === "activate" ? [{ memberID: request.memberID, alarm: request.alarm as AlarmName }] : activeAlarms(context).filter(matches);
  for (const target of targets) {
    if (target.alarm !== "NOSPACE" && target.alarm !== "CORRUPT") throw etcdErrors.alarmUnknown;
    await context.propose(encodeInternal(PayloadTag.Alarm, { action, memberId: target.memberID, alarm: target.alarm }));
  }
  return { header: stateMachine.header(), alarms: targets };
}

/** etcd's MoveLeader: only the leader moves leadership, only to a voter, and waits until it has moved. */
async function moveLeader(context: StoreContext, request: wire.MoveLeaderRequest__Output): Promise<wire.MoveLeaderResponse> {
  const { node, stateMachine, logger } = context;
  if (!node.isLeader) throw etcdErrors.notLeader;
  const target = Number(request.targetID);
  if (!node.confState.voters.includes(target)) throw etcdErrors.badLeaderTransferee;
  try {
    await node.transferLeadership(target);
  } catch (error) {
    throw error instanceof RequestTimeoutError ? etcdErrors.leaderTransferTimeout : toEtcdError(error);
  }
  logger.info({ from: node.id.toString(16), to: target.toString(16) }, "moved leadership");
  return { header: stateMachine.header() };
}

/**
 * The whole state as one snapshot, consistent at this member's applied index (the state machine
 * is serialized in one synchronous call, between two applies), sent in bounded chunks with
 * etcd's trailing sha256. The first message carries the header (its revision says where the
 * snapshot stands). Writes wait for the client when gRPC's buffer is full.
 */
async function streamSnapshot(context: StoreContext, call: ServerWritableStream<wire.SnapshotRequest__Output, wire.SnapshotResponse>): Promise<void> {
  const { stateMachine, node, logger } = context;
  const appliedIndex = node.appliedIndex;
  const body = encodeSnapshotBody({ appliedIndex, state: stateMachine.snapshot() });
  const header = stateMachine.header();
  logger.info({ bytes: body.length, appliedIndex, revision: header.revision }, "sending snapshot to client");
  let first = true;
  for (const chunk of snapshotChunks(body)) {
    if (call.cancelled) return;
    const blob = Buffer.from(chunk.blob.buffer, chunk.blob.byteOffset, chunk.blob.byteLength);
    const message: wire.SnapshotResponse = { remaining_bytes: chunk.remainingBytes, blob, ...(first ? { header } : {}) };
    first = false;
    if (!call.write(message)) await drained(call);
  }
  call.end();
}

async function drained(call: ServerWritableStream<unknown, unknown>): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => {
      call.off("drain", done);
      call.off("cancelled", done);
      call.off("close", done);
      resolve();
    };
    call.on("drain", done);
    call.on("cancelled", done);
    call.on("close", done);
  });
}
