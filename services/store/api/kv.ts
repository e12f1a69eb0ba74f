/**
 * etcdserverpb.KV: Range, Put, DeleteRange, Txn, Compact. Writes are validated here (fail fast,
 * nothing proposed), then replicated through Raft and answered from this member's apply. Reads
 * are linearizable by default (a ReadIndex barrier first) or served locally when serializable.
 */
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import {
  isMvccError,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
} from "../../../libs/mvcc/index.ts";
import type * as wire from "../../../libs/etcdpb/index.ts";
import type * as mvcc from "../../../libs/mvcc/types.ts";
import { deleteRangeFromWire, txnFromWire, txnResponseToWire } from "../convert.ts";
import { encodeRangeResponse, type DecodedPut } from "../kv-codec.ts";
import type { StoreContext } from "../context.ts";
import { etcdErrors } from "../errors.ts";
import { encodeClientRequest, PayloadTag } from "../payload.ts";
import { enforceQuota, putCostBytes, txnCostBytes } from "../quota.ts";
import { fromMvccError } from "../state-machine.ts";
import { unary } from "./grpc.ts";

/** Runs a validation that throws MvccErrors, rethrowing them as the etcd errors clients expect. */
function validate(check: () => void): void {
  try {
    check();
  } catch (error) {
    throw isMvccError(error) ? fromMvccError(error) : error;
  }
}

/**
 * Serve with `withFastKvCodecs(KV.service)` (kv-codec.ts): Range and Put get decoded requests and
 * answer with encoded bytes; the other methods use proto-loader's objects.
 */
export function kvService(context: StoreContext): UntypedServiceImplementation {
  const { logger, stateMachine } = context;
  return {
    Range: unary(logger, "Range", async (request: mvcc.RangeRequest): Promise<Buffer> => {
      validate(() => validateRangeRequest(request));
      if (request.serializable !== true) await context.readBarrier();
      try {
        return encodeRangeResponse(stateMachine.mvcc.range(request), stateMachine.numericHeaderIds());
      } catch (error) {
        throw isMvccError(error) ? fromMvccError(error) : error;
      }
    }),
    Put: unary(logger, "Put", async ({ request, raw }: DecodedPut) => {
      validate(() => validatePutRequest(request));
      refuseWhenOutOfSpace(context);
      await enforceQuota(context, putCostBytes(request));
      // The client's own bytes are proposed: every member decodes them the same way at apply.
      return context.propose(encodeClientRequest(PayloadTag.Put, undefined, raw));
    }),
    DeleteRange: unary(logger, "DeleteRange", async (request: wire.DeleteRangeRequest__Output) => {
      validate(() => validateDeleteRangeRequest(deleteRangeFromWire(request)));
      return context.propose(encodeClientRequest(PayloadTag.DeleteRange, request));
    }),
    Txn: unary(logger, "Txn", async (request: wire.TxnRequest__Output) => {
      validate(() => validateTxnRequest(txnFromWire(request)));
      if (isReadOnly(request)) return readOnlyTxn(context, request);
      await enforceQuota(context, txnCostBytes(request));
      return context.propose(encodeClientRequest(PayloadTag.Txn, request));
    }),
    Compact: unary(logger, "Compact", async (request: wire.CompactionRequest__Output) => {
      const response = (await context.propose(encodeClientRequest(PayloadTag.Compaction, request))) as wire.CompactionResponse;
      // etcd's physical compaction waits until the compaction is on disk; ours is, once applied.
      return response;
    }),
  };
}

function refuseWhenOutOfSpace(context: StoreContext): void {
  if (context.stateMachine.hasAlarm("NOSPACE")) throw etcdErrors.noSpace;
}

function isReadOnly(request: wire.TxnRequest__Output): boolean {
  const ops = [...request.success, ...request.failure];
  return ops.every((op) => op.request_range !== null && op.request_range !== undefined);
}

/** A txn of only reads: no revision, so no proposal; a read barrier makes it linearizable. */
async function readOnlyTxn(context: StoreContext, request: wire.TxnRequest__Output): Promise<unknown> {
  await context.readBarrier();
  try {
    const result = context.stateMachine.mvcc.txn(txnFromWire(request));
    return txnResponseToWire(result.response, context.stateMachine.headerIds());
  } catch (error) {
    throw isMvccError(error) ? fromMvccError(error) : error;
  }
}
