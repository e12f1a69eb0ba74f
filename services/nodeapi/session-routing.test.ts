import { describe, expect, it } from "vitest";
import { SessionRouter, openAttemptsMax, openRetryDelayMs, type RemoteDialer } from "./session-routing.ts";
import { recordKey, type RecordStore } from "./session-registry.ts";
import { NodeStreamHub, type NodeSession } from "./stream-hub.ts";

const request = { kind: "log" as const, namespace: "apps", podName: "web", container: "main", parameters: new Map<string, string[]>() };

/** A store holding fixed records (node -> replica URLs, oldest first). */
function recordsStore(records: Record<string, readonly string[]>): RecordStore {
  const unused = async (): Promise<never> => Promise.reject(new Error("not used"));
  return {
    grantLease: unused,
    keepAlive: unused,
    revokeLease: unused,
    put: unused,
    delete: unused,
    list: async (prefix) =>
      Promise.resolve(
        Object.entries(records).flatMap(([node, urls]) =>
          urls.map((apiUrl, index) => ({ key: recordKey(node, apiUrl), value: JSON.stringify({ apiUrl }), revision: index + 1 })).filter((record) => record.key.startsWith(prefix)),
        ),
      ),
  };
}

const remoteSession = { send: () => undefined, onData: () => undefined, onClose: () => undefined, close: () => undefined } satisfies NodeSession;

function recordingDialer(answers: Record<string, "ok" | "refuse">): { dialled: string[]; dial: RemoteDialer } {
  const dialled: string[] = [];
  return {
    dialled,
    dial: async (apiUrl) => {
      dialled.push(apiUrl);
      return answers[apiUrl] === "ok" ? Promise.resolve(remoteSession) : Promise.reject(new Error("node test-node has no stream connection to this API server replica"));
    },
  };
}

describe("SessionRouter", () => {
  it("opens on the local hub when the node's agent is connected here, without asking the store", async () => {
    const hub = new NodeStreamHub();
    const frames: unknown[] = [];
    hub.attach("node-a", { write: (frame) => frames.push(frame) });
    const { dialled, dial } = recordingDialer({});
    const router = new SessionRouter({ hub, store: recordsStore({ "node-a": ["https://r2:6443"] }), apiUrl: "https://r1:6443", dial });
    await router.open("node-a", request);
    expect(frames).toHaveLength(1);
    expect(dialled).toEqual([]);
  });

  it("dials the replica with the newest record, never its own, and returns that session", async () => {
    const { dialled, dial } = recordingDialer({ "https://r2:6443": "refuse", "https://r3:6443": "ok" });
    const router = new SessionRouter({ hub: new NodeStreamHub(), store: recordsStore({ "node-a": ["https://r2:6443", "https://r1:6443", "https://r3:6443"] }), apiUrl: "https://r1:6443", dial });
    expect(await router.open("node-a", request)).toBe(remoteSession);
    expect(dialled).toEqual(["https://r3:6443"]);
  });

  it("gives up after openAttemptsMax rounds with a 503 naming the node when no replica holds it", async () => {
    const delays: number[] = [];
    const router = new SessionRouter({ hub: new NodeStreamHub(), store: recordsStore({}), apiUrl: "https://r1:6443", dial: recordingDialer({}).dial, delay: async (ms) => void delays.push(ms) });
    await expect(router.open("ghost", request)).rejects.toMatchObject({ httpCode: 503, message: "node ghost has no stream connection to any API server replica" });
    expect(delays).toEqual(Array.from({ length: openAttemptsMax - 1 }, () => openRetryDelayMs));
  });

  it("answers 502 with the holder's error when the replicas that hold the node all fail, after a bounded number of dials", async () => {
    const { dialled, dial } = recordingDialer({ "https://r2:6443": "refuse" });
    const router = new SessionRouter({ hub: new NodeStreamHub(), store: recordsStore({ "node-a": ["https://r2:6443"] }), apiUrl: "https://r1:6443", dial, delay: async () => undefined });
    await expect(router.open("node-a", request)).rejects.toMatchObject({ httpCode: 502, message: expect.stringContaining("https://r2:6443: node test-node has no stream connection") as unknown });
    expect(dialled).toHaveLength(openAttemptsMax);
  });

  it("without a store tries the local hub once", async () => {
    const delays: number[] = [];
    const router = new SessionRouter({ hub: new NodeStreamHub(), delay: async (ms) => void delays.push(ms) });
    await expect(router.open("node-a", request)).rejects.toMatchObject({ httpCode: 503 });
    expect(delays).toEqual([]);
  });
});
