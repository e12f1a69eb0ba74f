/**
 * Kubernetes' protobuf encoding (`Content-Type: application/vnd.kubernetes.protobuf`), which
 * kubectl's typed clients send (`kubectl create deployment|service|job ...`, `kubectl run`,
 * `kubectl expose`): the 4-byte `k8s\0` magic, then a runtime.Unknown whose `raw` is the object's
 * message. The messages are our copies of upstream's generated.proto (proto/k8s, upstream field
 * numbers), loaded with protobufjs; protobuf-convert.ts turns them into upstream's JSON.
 */
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { jsonToMessage, messageToJson, ProtobufDecodeError, toObjectOptions } from "./protobuf-convert.ts";

export { ProtobufDecodeError } from "./protobuf-convert.ts";

/** The 4 bytes every Kubernetes protobuf object starts with. */
export const protobufMagic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const protoDirectory = fileURLToPath(new URL("../../proto/k8s/", import.meta.url));
const protoFiles = [
  "meta.proto",
  "core.proto",
  "apps.proto",
  "batch.proto",
  "rbac.proto",
  "networking.proto",
  "coordination.proto",
  "discovery.proto",
  "storage.proto",
  "policy.proto",
  "autoscaling-v1.proto",
  "autoscaling-v2.proto",
  "authentication.proto",
];

let loadedRoot: protobuf.Root | undefined;

function root(): protobuf.Root {
  if (loadedRoot === undefined) {
    const fresh = new protobuf.Root();
    fresh.resolvePath = (_origin, target) => (target.startsWith("/") ? target : `${protoDirectory}${target}`);
    fresh.loadSync(protoFiles, { keepCase: true });
    fresh.resolveAll();
    loadedRoot = fresh;
  }
  return loadedRoot;
}

/** The protobuf package of an API group version: "" → k8s.core.v1, "rbac.authorization.k8s.io" → k8s.rbac.v1. */
function packageOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return `k8s.${group === "" ? "core" : (group.split(".")[0] ?? group)}.${version}`;
}

/** The message type of a kind, or undefined when proto/k8s has none. */
export function messageTypeFor(apiVersion: string, kind: string): protobuf.Type | undefined {
  const found = root().lookup(`${packageOf(apiVersion)}.${kind}`);
  return found instanceof protobuf.Type ? found : undefined;
}

const unknownType = (): protobuf.Type => root().lookupType("k8s.meta.Unknown");

function readEnvelope(body: Buffer): { apiVersion: string; kind: string; raw: Uint8Array } {
  if (body.length < protobufMagic.length || !body.subarray(0, protobufMagic.length).equals(protobufMagic)) {
    throw new ProtobufDecodeError("missing the k8s\\0 prefix");
  }
  try {
    const envelope = unknownType().decode(body.subarray(protobufMagic.length)) as unknown as {
      typeMeta?: { apiVersion?: string; kind?: string };
      raw?: Uint8Array;
    };
    return { apiVersion: envelope.typeMeta?.apiVersion ?? "", kind: envelope.typeMeta?.kind ?? "", raw: envelope.raw ?? new Uint8Array() };
  } catch (error) {
    throw new ProtobufDecodeError(`bad envelope: ${(error as Error).message}`);
  }
}

/**
 * Decodes a `k8s\0` protobuf object to its JSON form, or returns undefined when the kind has no
 * message in proto/k8s (the caller answers 415 then). Throws ProtobufDecodeError on bad bytes.
 */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> | undefined {
  const { apiVersion, kind, raw } = readEnvelope(body);
  const type = messageTypeFor(apiVersion, kind);
  if (type === undefined) return undefined;
  let wire: Record<string, unknown>;
  try {
    wire = type.toObject(type.decode(raw), toObjectOptions);
  } catch (error) {
    throw new ProtobufDecodeError(`bad ${kind}: ${(error as Error).message}`);
  }
  return { apiVersion, kind, ...messageToJson(type, wire) };
}

/** Encodes a JSON object (with apiVersion and kind) as `k8s\0` + runtime.Unknown. */
export function encodeProtobufObject(object: Record<string, unknown>): Buffer {
  const apiVersion = typeof object["apiVersion"] === "string" ? object["apiVersion"] : "";
  const kind = typeof object["kind"] === "string" ? object["kind"] : "";
  const type = messageTypeFor(apiVersion, kind);
  if (type === undefined) throw new ProtobufDecodeError(`no protobuf message for ${apiVersion} ${kind}`);
  const raw = type.encode(type.fromObject(jsonToMessage(type, object))).finish();
  const envelope = unknownType().encode(unknownType().fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: "", contentType: "" })).finish();
  return Buffer.concat([protobufMagic, envelope]);
}
