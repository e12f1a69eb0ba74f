/** etcdserverpb.Cluster: the member list and membership changes. */
import { status as grpcStatus, type UntypedServiceImplementation } from "@grpc/grpc-js";
import type * as wire from "../../../libs/etcdpb/index.ts";
import type { StoreContext } from "../context.ts";
import { memberList } from "../members.ts";
import { unary } from "./grpc.ts";

export function clusterService(context: StoreContext): UntypedServiceImplementation {
  const { logger, stateMachine } = context;
  return {
    MemberList: unary(logger, "MemberList", async (request: wire.MemberListRequest__Output): Promise<wire.MemberListResponse> => {
      if (request.linearizable) await context.readBarrier();
      return { header: stateMachine.header(), members: memberList(context) };
    }),
  };
}

/**
 * MemberList on the peer port, for members joining an existing cluster. The peer server starts
 * before the client API exists, so the context arrives later; until then calls are refused.
 */
export function peerClusterService(contextRef: { readonly current?: StoreContext }): UntypedServiceImplementation {
  return {
    MemberList: (call: Parameters<ReturnType<typeof unary>>[0], callback: Parameters<ReturnType<typeof unary>>[1]) => {
      const context = contextRef.current;
      if (context === undefined) {
        callback({ code: grpcStatus.UNAVAILABLE, details: "etcdserver: member is starting" }, null);
        return;
      }
      (clusterService(context)["MemberList"] as ReturnType<typeof unary>)(call, callback);
    },
  };
}
