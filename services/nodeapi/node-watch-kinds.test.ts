import { describe, expect, it } from "vitest";
import type { ResourceInfo } from "../../libs/api/registry.ts";
import { CacheWatcher, type StoredObject } from "../apiserver/storage/index.ts";
import type { Storages } from "../apiserver/storages.ts";
import { runNodeWatch } from "./node-watch.ts";
import type { ObjectKindName } from "./wire.ts";

const noAttrs = { labels: {}, fields: {} };

function object(kind: string, name: string, extra: Record<string, unknown> = {}): StoredObject {
  return { kind, metadata: { namespace: "default", name, resourceVersion: "5" }, ...extra };
}

/** What the watch caches hold, by resource. */
const cluster: Record<string, StoredObject[]> = {
  pods: [object("Pod", "mine", { spec: { nodeName: "node-a" } }), object("Pod", "other", { spec: { nodeName: "node-b" } })],
  services: [object("Service", "web")],
  nodes: [object("Node", "node-a"), object("Node", "node-b")],
  endpointslices: [object("EndpointSlice", "web-1")],
  ingresses: [object("Ingress", "site", { spec: { tls: [{ secretName: "site-tls" }] } })],
  ingressclasses: [object("IngressClass", "flotilla")],
  secrets: [object("Secret", "site-tls")],
  configmaps: [],
  persistentvolumes: [],
};

/** Storages whose caches answer every watch with their initial state and an initial-events-end bookmark. */
const storages = {
  cacherFor: (info: ResourceInfo) => ({
    ready: async () => undefined,
    watch: async (_prefix: unknown, options: { filter?: (attrs: unknown, object: StoredObject) => boolean }) =>
      new CacheWatcher({
        target: { key: "/", prefix: true },
        filter: options.filter,
        allowBookmarks: true,
        startRevision: 5,
        initial: (cluster[info.resource] ?? []).map((item, index) => ({ key: `/${info.resource}/${index}`, object: item, attrs: noAttrs })),
        initialEventsEnd: true,
        replay: [],
        queueEventsMax: 100,
        onClose: () => undefined,
      }),
    get: async () => {
      throw new Error("no gets expected: every reference is known before its watch starts");
    },
  }),
} as unknown as Storages;

/** The kind and name of every object the node's stream carries up to SYNCED. */
async function streamed(optionalKinds: ReadonlySet<ObjectKindName> | undefined): Promise<string[]> {
  const stop = new AbortController();
  const sent: string[] = [];
  const run = runNodeWatch({
    storages,
    nodeName: "node-a",
    signal: stop.signal,
    optionalKinds,
    emit: async (type, kind, item) => {
      if (type === "SYNCED") stop.abort();
      else sent.push(`${kind ?? ""} ${String((item?.["metadata"] as { name?: string } | undefined)?.name)}`);
    },
  });
  await run;
  return sent.sort();
}

describe("the node stream's optional kinds", () => {
  it("carries every kind when the agent names none (agents before the field)", async () => {
    expect(await streamed(undefined)).toEqual(["ENDPOINT_SLICE web-1", "INGRESS site", "INGRESS_CLASS flotilla", "NODE node-a", "NODE node-b", "POD mine", "SECRET site-tls", "SERVICE web"]);
  });

  it("carries no Node, EndpointSlice or Ingress (nor an Ingress's TLS secret) to an agent that consumes none", async () => {
    expect(await streamed(new Set())).toEqual(["POD mine", "SERVICE web"]);
  });

  it("carries only the optional kinds the agent names", async () => {
    expect(await streamed(new Set<ObjectKindName>(["NODE", "ENDPOINT_SLICE"]))).toEqual(["ENDPOINT_SLICE web-1", "NODE node-a", "NODE node-b", "POD mine", "SERVICE web"]);
  });
});
