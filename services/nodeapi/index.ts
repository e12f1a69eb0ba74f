/** The node API: the gRPC server agents join and stay joined through (proto/node.proto). */
export { startNodeApi, nodeNameOf, type NodeApiOptions, type NodeApiServer } from "./server.ts";
export { NodeStreamHub, defaultNodeStreamHub, sessionsPerNodeMax, type AgentLink, type NodeSession, type StreamOpenRequest } from "./stream-hub.ts";
export { bootstrapTokenNamespace, bootstrapTokenSecret, bootstrapTokenSecretPrefix, bootstrapTokenSecretType, tokenRecordFromSecret } from "./tokens.ts";
export { nodeKeyAnnotation } from "./join.ts";
export { podReferences, type PodReferences } from "./references.ts";
export { nodeLeaseNamespace } from "./writes.ts";
export {
  loadNodeApi,
  nodeApiPortDefault,
  nodeApiMessageBytesMax,
  nodeUserName,
  nodesGroup,
  type EventReport,
  type JoinRequest,
  type JoinResponse,
  type ObjectKindName,
  type StreamFrame,
  type StreamOpen,
  type WatchEvent,
} from "./wire.ts";
