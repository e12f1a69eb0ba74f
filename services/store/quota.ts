/**
 * The backend quota, as etcd's quotaKVServer and quotaLeaseServer apply it: a write whose cost
 * would take the key space to --quota-backend-bytes is refused with "database space exceeded",
 * and a NOSPACE alarm is raised through the log. While the alarm is active every member refuses
 * puts, txns with puts and lease grants at apply (deletes and compaction go through), until an
 * operator disarms it (`etcdctl alarm disarm`).
 *
 * The size is the state machine's record bytes (keys, values and history), which shrinks after a
 * compaction; etcd's is its bbolt file, which shrinks only after a defragment.
 */
import type * as wire from "../../libs/etcdpb/index.ts";
import type { StoreContext } from "./context.ts";
import { etcdErrors } from "./errors.ts";
import { encodeInternal, PayloadTag } from "./payload.ts";

/** etcd's estimate of a key's bookkeeping (revision, index, bucket) beyond its key and value. */
export const kvOverheadBytes = 256;
/** etcd's estimate of one lease record. */
export const leaseOverheadBytes = 64;

type PutLike = Pick<wire.PutRequest, "key" | "value">;
type TxnLike = { readonly success?: readonly { readonly request_put?: PutLike | null }[] | null; readonly failure?: readonly { readonly request_put?: PutLike | null }[] | null };

const byteLength = (value: Uint8Array | string | null | undefined): number =>
  value === null || value === undefined ? 0 : typeof value === "string" ? Buffer.byteLength(value) : value.length;

export function putCostBytes(request: PutLike): number {
  return kvOverheadBytes + byteLength(request.key) + byteLength(request.value);
}

/** The costlier branch of a txn, counting its puts only (etcd does not look into nested txns). */
export function txnCostBytes(request: TxnLike): number {
  const branch = (ops: TxnLike["success"]): number =>
    (ops ?? []).reduce((total, op) => total + (op.request_put === null || op.request_put === undefined ? 0 : putCostBytes(op.request_put)), 0);
  return Math.max(branch(request.success), branch(request.failure));
}

/** Whether a write of `costBytes` fits under `quotaBytes` (etcd: size + cost < quota; a write that adds nothing always fits). */
export function fitsQuota(sizeBytes: number, costBytes: number, quotaBytes: number): boolean {
  return costBytes === 0 || sizeBytes + costBytes < quotaBytes;
}

/**
 * Refuses a write that would pass the quota, raising the NOSPACE alarm for this member first
 * (once: an active alarm is not raised again). Call before proposing a put, txn or lease grant.
 */
export async function enforceQuota(context: StoreContext, costBytes: number): Promise<void> {
  const { stateMachine, config, node, logger } = context;
  if (fitsQuota(stateMachine.sizeBytes, costBytes, config.quotaBackendBytes)) return;
  if (!stateMachine.hasAlarm("NOSPACE")) {
    logger.warn({ sizeBytes: stateMachine.sizeBytes, costBytes, quotaBackendBytes: config.quotaBackendBytes }, "key space quota exceeded; raising NOSPACE alarm");
    try {
      await context.propose(encodeInternal(PayloadTag.Alarm, { action: "activate", memberId: String(node.id), alarm: "NOSPACE" }));
    } catch (error) {
      // As etcd: the write is refused either way; the next refused write raises the alarm again.
      logger.warn({ err: error }, "raising the NOSPACE alarm failed");
    }
  }
  throw etcdErrors.noSpace;
}
