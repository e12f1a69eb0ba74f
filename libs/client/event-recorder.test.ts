import { describe, expect, it } from "vitest";
import { findResource, type Event, type Pod } from "../api/index.ts";
import { ApiEventRecorder } from "./event-recorder.ts";
import { FakeClient } from "./fake.ts";

const events = findResource("", "v1", "events")!;
const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "web-1", namespace: "shop", uid: "u-1" }, spec: { containers: [] } };

describe("ApiEventRecorder", () => {
  it("counts a repeated event on the first Event instead of writing a new one", async () => {
    let nowMs = Date.UTC(2026, 10, 22, 4, 0, 0);
    const client = new FakeClient(() => nowMs);
    const recorder = new ApiEventRecorder(client, { component: "default-scheduler", nowMs: () => nowMs });
    recorder.record(pod, "Warning", "FailedScheduling", "0/1 nodes are available");
    await recorder.flush();
    nowMs += 5_000;
    recorder.record(pod, "Warning", "FailedScheduling", "0/1 nodes are available");
    recorder.record(pod, "Normal", "Scheduled", "Successfully assigned shop/web-1 to n1");
    await recorder.flush();
    expect(client.writes.map((write) => `${write.verb} ${write.resource}`)).toEqual(["create events", "patch events", "create events"]);
    const stored = client.storedAll<Event>(events, "shop").sort((a, b) => (a.reason ?? "").localeCompare(b.reason ?? ""));
    expect(stored[0]).toMatchObject({
      reason: "FailedScheduling",
      type: "Warning",
      count: 2,
      firstTimestamp: "2026-11-22T04:00:00Z",
      lastTimestamp: "2026-11-22T04:00:05Z",
      involvedObject: { kind: "Pod", namespace: "shop", name: "web-1", uid: "u-1" },
      source: { component: "default-scheduler" },
    });
    expect(stored[1]).toMatchObject({ reason: "Scheduled", count: 1 });
  });

  it("writes the event afresh when the counted Event was deleted meanwhile", async () => {
    const client = new FakeClient();
    const recorder = new ApiEventRecorder(client, { component: "test" });
    recorder.record(pod, "Normal", "Pulled", "pulled");
    await recorder.flush();
    const first = client.storedAll<Event>(events, "shop")[0];
    client.remove(events, "shop", first?.metadata.name ?? "");
    recorder.record(pod, "Normal", "Pulled", "pulled");
    await recorder.flush();
    expect(client.storedAll<Event>(events, "shop").map((event) => event.count)).toEqual([1]);
  });
});
