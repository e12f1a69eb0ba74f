import { describe, expect, it } from "vitest";
import { NodeStreamHub } from "./stream-hub.ts";
import type { StreamFrame } from "./wire.ts";

function link(): { frames: StreamFrame[]; write: (frame: StreamFrame) => void } {
  const frames: StreamFrame[] = [];
  return { frames, write: (frame) => frames.push(frame) };
}

const request = { kind: "exec" as const, namespace: "apps", podName: "web", container: "main", parameters: new Map([["command", ["sh", "-c", "true"]]]) };

describe("NodeStreamHub", () => {
  it("open() is undefined for a node without a stream connection", () => {
    expect(new NodeStreamHub().open("nowhere", request)).toBeUndefined();
  });

  it("sends an open frame, relays data both ways, and ends the session on the agent's close", () => {
    const hub = new NodeStreamHub();
    const agent = link();
    const attached = hub.attach("node-a", agent);
    const session = hub.open("node-a", request);
    if (session === undefined) throw new Error("no session");
    const id = agent.frames[0]?.session_id ?? "";
    expect(agent.frames[0]?.open).toMatchObject({ kind: "exec", pod_name: "web", parameters: [{ name: "command", values: ["sh", "-c", "true"] }] });
    const received: string[] = [];
    let closedWith: string | undefined = "not closed";
    // Data before the handler is installed waits for it.
    attached.received({ session_id: id, data: { channel: 1, data: Buffer.from("early") } });
    session.onData((channel, data) => received.push(`${channel}:${data.toString()}`));
    session.onClose((error) => (closedWith = error));
    attached.received({ session_id: id, data: { channel: 2, data: Buffer.from("late") } });
    session.send(0, Buffer.from("stdin"));
    expect(agent.frames[1]?.data).toMatchObject({ channel: 0 });
    attached.received({ session_id: id, close: { error: "" } });
    expect(received).toEqual(["1:early", "2:late"]);
    expect(closedWith).toBeUndefined();
  });

  it("ends every open session with an error when the agent's connection goes away", () => {
    const hub = new NodeStreamHub();
    const attached = hub.attach("node-a", link());
    const session = hub.open("node-a", request);
    let closedWith: string | undefined;
    session?.onClose((error) => (closedWith = error));
    attached.detach("connection lost");
    expect(closedWith).toBe("connection lost");
    expect(hub.isConnected("node-a")).toBe(false);
  });

  it("keeps the newer connection when an old one of the same node detaches late", () => {
    const hub = new NodeStreamHub();
    const old = hub.attach("node-a", link());
    const fresh = link();
    hub.attach("node-a", fresh);
    old.detach("old connection closed");
    expect(hub.isConnected("node-a")).toBe(true);
    hub.open("node-a", request);
    expect(fresh.frames).toHaveLength(1);
  });

  it("tells its listeners when a node connects and when its last connection goes, not when a replaced one does", () => {
    const hub = new NodeStreamHub();
    const changes: string[] = [];
    const unsubscribe = hub.onConnectionChange((nodeName, connected) => changes.push(`${nodeName}:${connected}`));
    const old = hub.attach("node-a", link());
    const fresh = hub.attach("node-a", link());
    old.detach("old connection closed");
    expect(hub.connectedNodes()).toEqual(["node-a"]);
    fresh.detach("closed");
    unsubscribe();
    hub.attach("node-b", link());
    expect(changes).toEqual(["node-a:true", "node-a:true", "node-a:false"]);
    expect(hub.connectedNodes()).toEqual(["node-b"]);
  });
});
