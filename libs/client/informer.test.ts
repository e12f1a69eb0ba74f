import { describe, expect, it } from "vitest";
import { findResource, newNotFound, type KubeObject, type List, type Status, type WatchEvent } from "../api/index.ts";
import { SharedInformer } from "./informer.ts";
import type { ApiClient, ListOptions, WatchOptions } from "./types.ts";
import { waitUntil } from "./test-support.ts";

const configMaps = findResource("", "v1", "configmaps")!;

function object(name: string, resourceVersion: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default", resourceVersion, labels } };
}

/**
 * An ApiClient whose lists answer from `lists` in turn and whose watches replay `watches` in turn
 * (then stay open until aborted): enough to script a reflector's life.
 */
class ScriptedClient {
  readonly listCalls: ListOptions[] = [];
  readonly watchCalls: WatchOptions[] = [];

  constructor(
    readonly lists: List<KubeObject>[],
    readonly watches: WatchEvent<KubeObject>[][],
  ) {}

  async list(_resource: unknown, _namespace: unknown, options: ListOptions): Promise<List<KubeObject>> {
    this.listCalls.push(options);
    const next = this.lists.shift();
    if (next === undefined) throw newNotFound({ group: "", resource: "configmaps" }, "scripted list ran out");
    return next;
  }

  watch(_resource: unknown, _namespace: unknown, options: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent<KubeObject>> {
    this.watchCalls.push(options);
    const events = this.watches.shift();
    return (async function* () {
      if (events === undefined) {
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        return;
      }
      for (const event of events) yield event;
    })();
  }
}

function list(resourceVersion: string, items: KubeObject[], continueToken?: string): List<KubeObject> {
  return { apiVersion: "v1", kind: "ConfigMapList", metadata: { resourceVersion, ...(continueToken === undefined ? {} : { continue: continueToken }) }, items };
}

const gone: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code: 410, reason: "Expired", message: "too old resource version: 5 (9)" };

function start(client: ScriptedClient): { informer: SharedInformer<KubeObject>; log: string[]; stop: () => void } {
  const informer = new SharedInformer<KubeObject>(client as unknown as ApiClient, configMaps);
  const log: string[] = [];
  informer.addHandlers({
    onAdd: (added) => log.push(`add ${added.metadata.name}@${added.metadata.resourceVersion}`),
    onUpdate: (previous, current) => log.push(`update ${current.metadata.name} ${previous.metadata.resourceVersion}->${current.metadata.resourceVersion}`),
    onDelete: (deleted) => log.push(`delete ${deleted.metadata.name}@${deleted.metadata.resourceVersion}`),
  });
  const controller = new AbortController();
  void informer.run(controller.signal);
  return { informer, log, stop: () => controller.abort() };
}

describe("SharedInformer", () => {
  it("lists every page, then watches from the first page's resourceVersion with bookmarks", async () => {
    const client = new ScriptedClient([list("10", [object("a", "3")], "next"), list("10", [object("b", "4")])], []);
    const { informer, log, stop } = start(client);
    await informer.synced;
    await waitUntil(() => client.watchCalls.length === 1);
    stop();
    expect(log).toEqual(["add a@3", "add b@4"]);
    expect(client.listCalls.map((call) => call.continue)).toEqual([undefined, "next"]);
    expect(client.watchCalls[0]).toMatchObject({ resourceVersion: "10", allowWatchBookmarks: true });
  });

  it("applies watch events, moves its resourceVersion on a bookmark and resumes from it", async () => {
    const client = new ScriptedClient(
      [list("10", [object("a", "3")])],
      [
        [
          { type: "ADDED", object: object("b", "11") },
          { type: "MODIFIED", object: object("a", "12") },
          { type: "DELETED", object: object("b", "13") },
          { type: "BOOKMARK", object: { metadata: { resourceVersion: "20" } } as KubeObject },
        ],
      ],
    );
    const { informer, log, stop } = start(client);
    await waitUntil(() => client.watchCalls.length === 2);
    stop();
    expect(log).toEqual(["add a@3", "add b@11", "update a 3->12", "delete b@13"]);
    expect(client.watchCalls[1]?.resourceVersion).toBe("20");
    expect(informer.list().map((item) => item.metadata.name)).toEqual(["a"]);
  });

  it("relists after 410 Gone and synthesizes deletes for objects gone meanwhile", async () => {
    const client = new ScriptedClient(
      [list("10", [object("a", "3"), object("b", "4")]), list("30", [object("a", "25"), object("c", "26")])],
      [[{ type: "ERROR", object: gone }]],
    );
    const { informer, log, stop } = start(client);
    await waitUntil(() => client.watchCalls.length === 2);
    stop();
    expect(log).toEqual(["add a@3", "add b@4", "delete b@4", "update a 3->25", "add c@26"]);
    expect(client.watchCalls[1]?.resourceVersion).toBe("30");
    expect(informer.get("default/c")?.metadata.resourceVersion).toBe("26");
  });

  it("keeps indexes and label matches in step with the cache", async () => {
    const client = new ScriptedClient(
      [list("10", [object("a", "3", { app: "web" }), object("b", "4", { app: "db" })])],
      [[{ type: "MODIFIED", object: object("b", "11", { app: "web" }) }]],
    );
    const { informer, stop } = start(client);
    informer.addIndex("app", (item) => [item.metadata.labels?.["app"] ?? ""]);
    await waitUntil(() => client.watchCalls.length === 2);
    stop();
    expect(informer.byIndex("app", "web").map((item) => item.metadata.name).sort()).toEqual(["a", "b"]);
    expect(informer.byIndex("app", "db")).toEqual([]);
    expect(informer.listMatching("default", "app=web").length).toBe(2);
    expect(informer.listMatching("other", "app=web").length).toBe(0);
  });

  it("replays the cache as adds to a handler added after the first list", async () => {
    const client = new ScriptedClient([list("10", [object("a", "3")])], []);
    const { informer, stop } = start(client);
    await informer.synced;
    const late: string[] = [];
    informer.addHandlers({ onAdd: (added) => late.push(added.metadata.name ?? "") });
    stop();
    expect(late).toEqual(["a"]);
  });
});
