/**
 * services/proxy: the service proxy each agent runs (issue 7): nftables rules from Services and
 * EndpointSlices (ClusterIP, NodePort, LoadBalancer addresses, session affinity, masquerade,
 * externalTrafficPolicy), written incrementally in single transactions. See README.md.
 */
export { servicePorts, defaultAffinitySeconds } from "./model.ts";
export type { L4Protocol, ModelInput, ProxyEndpoint, ServicePort } from "./model.ts";
export { baseTable, desiredState, emptyState, fullTransaction, mergeStates, shortHash, tableName, transaction } from "./ruleset.ts";
export type { MapName, ProxyConfig, RuleState } from "./ruleset.ts";
export { coalesceMs, ProxySyncer, retryMsMax, retryMsMin, runNft } from "./syncer.ts";
export type { NftRunner, ProxySyncerOptions } from "./syncer.ts";
