/**
 * Our copy of etcd's v3 API must match etcd's own, name for name and number for number, or
 * etcdctl and the etcd3 npm client silently misread our replies. Every expected value below was
 * read from etcd-io/etcd at tag v3.5.33 (api/etcdserverpb/rpc.proto, api/mvccpb/kv.proto) and
 * checked against v3.4.45; none is derived from the files under test.
 */
import { fileURLToPath } from "node:url";
import * as protoLoader from "@grpc/proto-loader";
import { describe, expect, it } from "vitest";

const protoRoot = fileURLToPath(new URL("..", import.meta.url));

function loadEtcd(): protoLoader.PackageDefinition {
  return protoLoader.loadSync("etcd/rpc.proto", {
    includeDirs: [protoRoot],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
}

const etcd = loadEtcd();

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly type: string;
  readonly label: string;
}
interface EnumValueDescriptor {
  readonly name: string;
  readonly number: number;
}

function message(name: string): protoLoader.MessageTypeDefinition<object, object> {
  const definition = etcd[name];
  if (definition === undefined || definition.format !== "Protocol Buffer 3 DescriptorProto") {
    throw new Error(`${name} is not a message in the loaded etcd protos`);
  }
  return definition as protoLoader.MessageTypeDefinition<object, object>;
}

function fields(messageName: string): Map<string, FieldDescriptor> {
  const descriptor = message(messageName).type as { field: FieldDescriptor[] };
  return new Map(descriptor.field.map((field) => [field.name, field]));
}

function fieldNumbers(messageName: string): Record<string, number> {
  return Object.fromEntries([...fields(messageName)].map(([name, field]) => [name, field.number]));
}

function enumValues(values: readonly EnumValueDescriptor[]): Record<string, number> {
  return Object.fromEntries(values.map((value) => [value.name, value.number]));
}

function nestedEnum(messageName: string, enumName: string): Record<string, number> {
  const descriptor = message(messageName).type as { enumType: { name: string; value: EnumValueDescriptor[] }[] };
  const found = descriptor.enumType.find((candidate) => candidate.name === enumName);
  if (found === undefined) throw new Error(`${messageName}.${enumName} is not an enum`);
  return enumValues(found.value);
}

function service(name: string): protoLoader.ServiceDefinition {
  const definition = etcd[name];
  if (definition === undefined || "format" in definition) throw new Error(`${name} is not a service`);
  return definition as protoLoader.ServiceDefinition;
}

describe("etcd v3 services", () => {
  it("are exactly the five we serve, under etcd's package name", () => {
    const services = Object.keys(etcd).filter((name) => !("format" in (etcd[name] ?? {})));
    expect(services.sort()).toEqual(
      ["etcdserverpb.Cluster", "etcdserverpb.KV", "etcdserverpb.Lease", "etcdserverpb.Maintenance", "etcdserverpb.Watch"],
    );
  });

  it("have etcd's method names in etcd's order", () => {
    expect(Object.keys(service("etcdserverpb.KV"))).toEqual(["Range", "Put", "DeleteRange", "Txn", "Compact"]);
    expect(Object.keys(service("etcdserverpb.Watch"))).toEqual(["Watch"]);
    expect(Object.keys(service("etcdserverpb.Lease"))).toEqual(
      ["LeaseGrant", "LeaseRevoke", "LeaseKeepAlive", "LeaseTimeToLive", "LeaseLeases"],
    );
    expect(Object.keys(service("etcdserverpb.Cluster"))).toEqual(
      ["MemberAdd", "MemberRemove", "MemberUpdate", "MemberList", "MemberPromote"],
    );
    expect(Object.keys(service("etcdserverpb.Maintenance"))).toEqual(
      ["Alarm", "Status", "Defragment", "Hash", "HashKV", "Snapshot", "MoveLeader", "Downgrade"],
    );
  });

  it("put methods on the wire paths etcd clients call", () => {
    expect(service("etcdserverpb.KV")["Range"]?.path).toBe("/etcdserverpb.KV/Range");
    expect(service("etcdserverpb.Watch")["Watch"]?.path).toBe("/etcdserverpb.Watch/Watch");
    expect(service("etcdserverpb.Maintenance")["HashKV"]?.path).toBe("/etcdserverpb.Maintenance/HashKV");
  });

  it("stream exactly where etcd streams", () => {
    const streaming: string[] = [];
    for (const serviceName of ["KV", "Watch", "Lease", "Cluster", "Maintenance"]) {
      for (const [methodName, method] of Object.entries(service(`etcdserverpb.${serviceName}`))) {
        if (method.requestStream || method.responseStream) {
          streaming.push(`${methodName}:${method.requestStream ? "in" : ""}${method.responseStream ? "out" : ""}`);
        }
      }
    }
    expect(streaming).toEqual(["Watch:inout", "LeaseKeepAlive:inout", "Snapshot:out"]);
  });

  it("take and return etcd's message types", () => {
    const compact = service("etcdserverpb.KV")["Compact"];
    expect(compact?.requestType.type).toMatchObject({ name: "CompactionRequest" });
    expect(compact?.responseType.type).toMatchObject({ name: "CompactionResponse" });
  });
});

describe("etcd v3 message fields", () => {
  it("ResponseHeader", () => {
    expect(fieldNumbers("etcdserverpb.ResponseHeader")).toEqual({ cluster_id: 1, member_id: 2, revision: 3, raft_term: 4 });
  });

  it("RangeRequest and RangeResponse", () => {
    expect(fieldNumbers("etcdserverpb.RangeRequest")).toEqual({
      key: 1, range_end: 2, limit: 3, revision: 4, sort_order: 5, sort_target: 6, serializable: 7, keys_only: 8,
      count_only: 9, min_mod_revision: 10, max_mod_revision: 11, min_create_revision: 12, max_create_revision: 13,
    });
    expect(fieldNumbers("etcdserverpb.RangeResponse")).toEqual({ header: 1, kvs: 2, more: 3, count: 4 });
    expect(nestedEnum("etcdserverpb.RangeRequest", "SortOrder")).toEqual({ NONE: 0, ASCEND: 1, DESCEND: 2 });
    expect(nestedEnum("etcdserverpb.RangeRequest", "SortTarget")).toEqual({ KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 });
  });

  it("Put and DeleteRange", () => {
    expect(fieldNumbers("etcdserverpb.PutRequest")).toEqual(
      { key: 1, value: 2, lease: 3, prev_kv: 4, ignore_value: 5, ignore_lease: 6 },
    );
    expect(fieldNumbers("etcdserverpb.PutResponse")).toEqual({ header: 1, prev_kv: 2 });
    expect(fieldNumbers("etcdserverpb.DeleteRangeRequest")).toEqual({ key: 1, range_end: 2, prev_kv: 3 });
    expect(fieldNumbers("etcdserverpb.DeleteRangeResponse")).toEqual({ header: 1, deleted: 2, prev_kvs: 3 });
  });

  it("Txn, Compare and the request/response unions", () => {
    expect(fieldNumbers("etcdserverpb.Compare")).toEqual({
      result: 1, target: 2, key: 3, version: 4, create_revision: 5, mod_revision: 6, value: 7, lease: 8, range_end: 64,
    });
    expect(nestedEnum("etcdserverpb.Compare", "CompareResult")).toEqual({ EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 });
    expect(nestedEnum("etcdserverpb.Compare", "CompareTarget")).toEqual({ VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 });
    expect(fieldNumbers("etcdserverpb.RequestOp")).toEqual(
      { request_range: 1, request_put: 2, request_delete_range: 3, request_txn: 4 },
    );
    expect(fieldNumbers("etcdserverpb.ResponseOp")).toEqual(
      { response_range: 1, response_put: 2, response_delete_range: 3, response_txn: 4 },
    );
    expect(fieldNumbers("etcdserverpb.TxnRequest")).toEqual({ compare: 1, success: 2, failure: 3 });
    expect(fieldNumbers("etcdserverpb.TxnResponse")).toEqual({ header: 1, succeeded: 2, responses: 3 });
    expect(fieldNumbers("etcdserverpb.CompactionRequest")).toEqual({ revision: 1, physical: 2 });
  });

  it("Watch requests and responses", () => {
    expect(fieldNumbers("etcdserverpb.WatchRequest")).toEqual({ create_request: 1, cancel_request: 2, progress_request: 3 });
    expect(fieldNumbers("etcdserverpb.WatchCreateRequest")).toEqual({
      key: 1, range_end: 2, start_revision: 3, progress_notify: 4, filters: 5, prev_kv: 6, watch_id: 7, fragment: 8,
    });
    expect(nestedEnum("etcdserverpb.WatchCreateRequest", "FilterType")).toEqual({ NOPUT: 0, NODELETE: 1 });
    expect(fieldNumbers("etcdserverpb.WatchCancelRequest")).toEqual({ watch_id: 1 });
    expect(fieldNumbers("etcdserverpb.WatchResponse")).toEqual({
      header: 1, watch_id: 2, created: 3, canceled: 4, compact_revision: 5, cancel_reason: 6, fragment: 7, events: 11,
    });
  });

  it("Lease", () => {
    expect(fieldNumbers("etcdserverpb.LeaseGrantRequest")).toEqual({ TTL: 1, ID: 2 });
    expect(fieldNumbers("etcdserverpb.LeaseGrantResponse")).toEqual({ header: 1, ID: 2, TTL: 3, error: 4 });
    expect(fieldNumbers("etcdserverpb.LeaseKeepAliveResponse")).toEqual({ header: 1, ID: 2, TTL: 3 });
    expect(fieldNumbers("etcdserverpb.LeaseTimeToLiveRequest")).toEqual({ ID: 1, keys: 2 });
    expect(fieldNumbers("etcdserverpb.LeaseTimeToLiveResponse")).toEqual({ header: 1, ID: 2, TTL: 3, grantedTTL: 4, keys: 5 });
    expect(fieldNumbers("etcdserverpb.LeaseLeasesResponse")).toEqual({ header: 1, leases: 2 });
  });

  it("Cluster", () => {
    expect(fieldNumbers("etcdserverpb.Member")).toEqual({ ID: 1, name: 2, peerURLs: 3, clientURLs: 4, isLearner: 5 });
    expect(fieldNumbers("etcdserverpb.MemberAddRequest")).toEqual({ peerURLs: 1, isLearner: 2 });
    expect(fieldNumbers("etcdserverpb.MemberAddResponse")).toEqual({ header: 1, member: 2, members: 3 });
    expect(fieldNumbers("etcdserverpb.MemberListRequest")).toEqual({ linearizable: 1 });
    expect(fieldNumbers("etcdserverpb.MemberPromoteRequest")).toEqual({ ID: 1 });
  });

  it("Maintenance", () => {
    // Not 9: raftAppliedIndex came after raftTerm; dbSizeInUse (9) and isLearner (10) after errors.
    expect(fieldNumbers("etcdserverpb.StatusResponse")).toEqual({
      header: 1, version: 2, dbSize: 3, leader: 4, raftIndex: 5, raftTerm: 6, raftAppliedIndex: 7, errors: 8,
      dbSizeInUse: 9, isLearner: 10,
    });
    expect(fieldNumbers("etcdserverpb.AlarmRequest")).toEqual({ action: 1, memberID: 2, alarm: 3 });
    expect(nestedEnum("etcdserverpb.AlarmRequest", "AlarmAction")).toEqual({ GET: 0, ACTIVATE: 1, DEACTIVATE: 2 });
    const alarmType = etcd["etcdserverpb.AlarmType"];
    expect(alarmType?.format).toBe("Protocol Buffer 3 EnumDescriptorProto");
    expect(enumValues((alarmType?.type as { value: EnumValueDescriptor[] }).value)).toEqual({ NONE: 0, NOSPACE: 1, CORRUPT: 2 });
    expect(fieldNumbers("etcdserverpb.AlarmResponse")).toEqual({ header: 1, alarms: 2 });
    expect(fieldNumbers("etcdserverpb.SnapshotResponse")).toEqual({ header: 1, remaining_bytes: 2, blob: 3 });
    expect(fieldNumbers("etcdserverpb.HashKVResponse")).toEqual({ header: 1, hash: 2, compact_revision: 3, hash_revision: 4 });
    expect(fieldNumbers("etcdserverpb.MoveLeaderRequest")).toEqual({ targetID: 1 });
  });

  it("mvccpb KeyValue and Event", () => {
    expect(fieldNumbers("mvccpb.KeyValue")).toEqual(
      { key: 1, create_revision: 2, mod_revision: 3, version: 4, value: 5, lease: 6 },
    );
    expect(fieldNumbers("mvccpb.Event")).toEqual({ type: 1, kv: 2, prev_kv: 3 });
    expect(nestedEnum("mvccpb.Event", "EventType")).toEqual({ PUT: 0, DELETE: 1 });
  });

  it("use etcd's scalar types where the wire encoding depends on them", () => {
    const typeOf = (messageName: string, fieldName: string): string | undefined => fields(messageName).get(fieldName)?.type;
    expect(typeOf("etcdserverpb.ResponseHeader", "cluster_id")).toBe("TYPE_UINT64");
    expect(typeOf("etcdserverpb.ResponseHeader", "revision")).toBe("TYPE_INT64");
    expect(typeOf("etcdserverpb.HashKVResponse", "hash")).toBe("TYPE_UINT32");
    expect(typeOf("etcdserverpb.LeaseGrantRequest", "ID")).toBe("TYPE_INT64");
    expect(typeOf("etcdserverpb.Member", "ID")).toBe("TYPE_UINT64");
    expect(typeOf("mvccpb.KeyValue", "key")).toBe("TYPE_BYTES");
    expect(fields("etcdserverpb.WatchResponse").get("events")?.label).toBe("LABEL_REPEATED");
  });
});

describe("etcd v3 wire bytes", () => {
  it("a PutRequest encodes to the bytes etcd expects", () => {
    const bytes = message("etcdserverpb.PutRequest").serialize({ key: Buffer.from("k"), ignore_lease: true });
    // field 1 (bytes): tag 0x0a, length 1, "k"; field 6 (bool): tag 0x30, value 1.
    expect([...bytes]).toEqual([0x0a, 0x01, 0x6b, 0x30, 0x01]);
  });

  it("a WatchResponse from etcd decodes with its event and fragment flag", () => {
    // header{revision=5}, watch_id=2, fragment=true, events[{type=DELETE, kv{key="a", mod_revision=5}}]
    const header = [0x0a, 0x02, 0x18, 0x05];
    const keyValue = [0x0a, 0x01, 0x61, 0x18, 0x05];
    const event = [0x08, 0x01, 0x12, keyValue.length, ...keyValue];
    const bytes = Buffer.from([...header, 0x10, 0x02, 0x38, 0x01, 0x5a, event.length, ...event]);
    const decoded = message("etcdserverpb.WatchResponse").deserialize(bytes);
    expect(decoded).toMatchObject({
      header: { revision: "5" },
      watch_id: "2",
      fragment: true,
      events: [{ type: "DELETE", kv: { key: Buffer.from("a"), mod_revision: "5" } }],
    });
  });
});
