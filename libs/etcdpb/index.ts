/**
 * The etcd v3 API as loaded gRPC definitions plus its TypeScript types (generated into gen/ by
 * scripts/gen-proto.sh). Both Flotilla's store (serving) and its etcd client (calling) use this
 * one loader, so they agree on every option: 64-bit integers arrive as decimal strings (lease ids
 * use all 63 bits), enums as their names, bytes as Buffers, defaults filled in.
 */
import { loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync, type Options } from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";
import type { ProtoGrpcType } from "./gen/rpc.ts";

export const protoRoot = fileURLToPath(new URL("../../proto", import.meta.url));

export const etcdProtoLoaderOptions: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

let loaded: ProtoGrpcType | undefined;

export function loadEtcdProto(): ProtoGrpcType {
  loaded ??= loadPackageDefinition(loadSync("etcd/rpc.proto", etcdProtoLoaderOptions)) as unknown as ProtoGrpcType;
  return loaded;
}

export type { ProtoGrpcType };
export type { KeyValue, KeyValue__Output } from "./gen/mvccpb/KeyValue.ts";
export type { Event, Event__Output } from "./gen/mvccpb/Event.ts";
export type { ResponseHeader, ResponseHeader__Output } from "./gen/etcdserverpb/ResponseHeader.ts";
export type { RangeRequest, RangeRequest__Output } from "./gen/etcdserverpb/RangeRequest.ts";
export type { RangeResponse, RangeResponse__Output } from "./gen/etcdserverpb/RangeResponse.ts";
export type { PutRequest, PutRequest__Output } from "./gen/etcdserverpb/PutRequest.ts";
export type { PutResponse, PutResponse__Output } from "./gen/etcdserverpb/PutResponse.ts";
export type { DeleteRangeRequest, DeleteRangeRequest__Output } from "./gen/etcdserverpb/DeleteRangeRequest.ts";
export type { DeleteRangeResponse, DeleteRangeResponse__Output } from "./gen/etcdserverpb/DeleteRangeResponse.ts";
export type { TxnRequest, TxnRequest__Output } from "./gen/etcdserverpb/TxnRequest.ts";
export type { TxnResponse, TxnResponse__Output } from "./gen/etcdserverpb/TxnResponse.ts";
export type { Compare, Compare__Output } from "./gen/etcdserverpb/Compare.ts";
export type { RequestOp, RequestOp__Output } from "./gen/etcdserverpb/RequestOp.ts";
export type { ResponseOp, ResponseOp__Output } from "./gen/etcdserverpb/ResponseOp.ts";
export type { CompactionRequest, CompactionRequest__Output } from "./gen/etcdserverpb/CompactionRequest.ts";
export type { CompactionResponse, CompactionResponse__Output } from "./gen/etcdserverpb/CompactionResponse.ts";
export type { WatchRequest, WatchRequest__Output } from "./gen/etcdserverpb/WatchRequest.ts";
export type { WatchResponse, WatchResponse__Output } from "./gen/etcdserverpb/WatchResponse.ts";
export type { WatchCreateRequest, WatchCreateRequest__Output } from "./gen/etcdserverpb/WatchCreateRequest.ts";
export type { LeaseGrantRequest, LeaseGrantRequest__Output } from "./gen/etcdserverpb/LeaseGrantRequest.ts";
export type { LeaseGrantResponse, LeaseGrantResponse__Output } from "./gen/etcdserverpb/LeaseGrantResponse.ts";
export type { LeaseRevokeRequest, LeaseRevokeRequest__Output } from "./gen/etcdserverpb/LeaseRevokeRequest.ts";
export type { LeaseRevokeResponse, LeaseRevokeResponse__Output } from "./gen/etcdserverpb/LeaseRevokeResponse.ts";
export type { LeaseKeepAliveRequest, LeaseKeepAliveRequest__Output } from "./gen/etcdserverpb/LeaseKeepAliveRequest.ts";
export type { LeaseKeepAliveResponse, LeaseKeepAliveResponse__Output } from "./gen/etcdserverpb/LeaseKeepAliveResponse.ts";
export type { LeaseTimeToLiveRequest, LeaseTimeToLiveRequest__Output } from "./gen/etcdserverpb/LeaseTimeToLiveRequest.ts";
export type { LeaseTimeToLiveResponse, LeaseTimeToLiveResponse__Output } from "./gen/etcdserverpb/LeaseTimeToLiveResponse.ts";
export type { LeaseLeasesRequest, LeaseLeasesRequest__Output } from "./gen/etcdserverpb/LeaseLeasesRequest.ts";
export type { LeaseLeasesResponse, LeaseLeasesResponse__Output } from "./gen/etcdserverpb/LeaseLeasesResponse.ts";
export type { Member, Member__Output } from "./gen/etcdserverpb/Member.ts";
export type { MemberAddRequest, MemberAddRequest__Output } from "./gen/etcdserverpb/MemberAddRequest.ts";
export type { MemberAddResponse, MemberAddResponse__Output } from "./gen/etcdserverpb/MemberAddResponse.ts";
export type { MemberRemoveRequest, MemberRemoveRequest__Output } from "./gen/etcdserverpb/MemberRemoveRequest.ts";
export type { MemberRemoveResponse, MemberRemoveResponse__Output } from "./gen/etcdserverpb/MemberRemoveResponse.ts";
export type { MemberUpdateRequest, MemberUpdateRequest__Output } from "./gen/etcdserverpb/MemberUpdateRequest.ts";
export type { MemberUpdateResponse, MemberUpdateResponse__Output } from "./gen/etcdserverpb/MemberUpdateResponse.ts";
export type { MemberListRequest, MemberListRequest__Output } from "./gen/etcdserverpb/MemberListRequest.ts";
export type { MemberListResponse, MemberListResponse__Output } from "./gen/etcdserverpb/MemberListResponse.ts";
export type { MemberPromoteRequest, MemberPromoteRequest__Output } from "./gen/etcdserverpb/MemberPromoteRequest.ts";
export type { MemberPromoteResponse, MemberPromoteResponse__Output } from "./gen/etcdserverpb/MemberPromoteResponse.ts";
export type { StatusRequest, StatusRequest__Output } from "./gen/etcdserverpb/StatusRequest.ts";
export type { StatusResponse, StatusResponse__Output } from "./gen/etcdserverpb/StatusResponse.ts";
export type { AlarmRequest, AlarmRequest__Output } from "./gen/etcdserverpb/AlarmRequest.ts";
export type { AlarmResponse, AlarmResponse__Output } from "./gen/etcdserverpb/AlarmResponse.ts";
export type { AlarmMember, AlarmMember__Output } from "./gen/etcdserverpb/AlarmMember.ts";
export type { SnapshotRequest, SnapshotRequest__Output } from "./gen/etcdserverpb/SnapshotRequest.ts";
export type { SnapshotResponse, SnapshotResponse__Output } from "./gen/etcdserverpb/SnapshotResponse.ts";
export type { MoveLeaderRequest, MoveLeaderRequest__Output } from "./gen/etcdserverpb/MoveLeaderRequest.ts";
export type { MoveLeaderResponse, MoveLeaderResponse__Output } from "./gen/etcdserverpb/MoveLeaderResponse.ts";
export type { DefragmentRequest, DefragmentRequest__Output } from "./gen/etcdserverpb/DefragmentRequest.ts";
export type { DefragmentResponse, DefragmentResponse__Output } from "./gen/etcdserverpb/DefragmentResponse.ts";
export type { HashRequest, HashRequest__Output } from "./gen/etcdserverpb/HashRequest.ts";
export type { HashResponse, HashResponse__Output } from "./gen/etcdserverpb/HashResponse.ts";
export type { HashKVRequest, HashKVRequest__Output } from "./gen/etcdserverpb/HashKVRequest.ts";
export type { HashKVResponse, HashKVResponse__Output } from "./gen/etcdserverpb/HashKVResponse.ts";
