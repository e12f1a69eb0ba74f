/**
 * services/dns: the cluster DNS server each agent runs (issue 7). Answers `cluster.local` names
 * from the agent's watch of Services and EndpointSlices, forwards the rest to the node's
 * resolvers. See README.md.
 */
import type { EndpointSlice, KubeObject, Service } from "../../libs/api/index.ts";
import type { NodeWatchEvent } from "../agent/control-plane.ts";
import type { ClusterZone } from "./zone.ts";

export { ClusterZone, normalizeName, reverseName, serviceNameLabel, serviceRecords } from "./zone.ts";
export type { LookupResult, RecordType, SrvData, ZoneOptions, ZoneRecord } from "./zone.ts";
export { Responder, rcode, udpPayloadBytesDefault, udpPayloadBytesMax } from "./responder.ts";
export type { Forwarder, ResponderOptions, Transport } from "./responder.ts";
export { startDnsServer, tcpConnectionsMax, tcpIdleMs } from "./server.ts";
export type { DnsServer, DnsServerOptions } from "./server.ts";
export { UpstreamForwarder, resolversFromResolvConf } from "./forwarder.ts";

/** Feeds the agent's node stream into a zone: pass these to the stream's service/slice handlers. */
export function zoneFeed(zone: ClusterZone): {
  onService(event: NodeWatchEvent<Service>): void;
  onEndpointSlice(event: NodeWatchEvent<KubeObject>): void;
} {
  return {
    onService: (event) => (event.type === "upsert" ? zone.upsertService(event.object) : zone.deleteService(event.object)),
    onEndpointSlice: (event) => {
      const slice = event.object as EndpointSlice;
      if (event.type === "upsert") zone.upsertEndpointSlice(slice);
      else zone.deleteEndpointSlice(slice);
    },
  };
}
