import { describe, expect, it } from "vitest";
import type { AttachStreamRequest, ContainerFilter, ContainerSummary } from "../cri/index.ts";
import { RecordingSession } from "../memory-control-plane.ts";
import { FakeRuntime } from "./fake-runtime.ts";
import { formatLogs, parseCriLogLine, serveStream } from "./streams.ts";

const log = [
  "2026-11-22T04:00:00.000000001Z stdout F first",
  "2026-11-22T04:00:01.000000000Z stderr P par",
  "2026-11-22T04:00:01.500000000Z stderr F tial",
  "2026-11-22T04:00:02.000000000Z stdout F ",
  "2026-11-22T04:00:03.000000000Z stdout F last",
  "",
].join("\n");

describe("CRI log files", () => {
  it("parseCriLogLine() reads timestamp, stream, tag and content", () => {
    expect(parseCriLogLine("2026-11-22T04:00:00Z stderr P a b")).toEqual({ timestamp: "2026-11-22T04:00:00Z", stream: "stderr", partial: true, content: "a b" });
    expect(parseCriLogLine("garbage")).toBeUndefined();
  });

  it("formatLogs() joins partial lines and keeps empty ones", () => {
    expect(formatLogs(log, { timestamps: false })).toBe("first\npartial\n\nlast\n");
  });

  it("formatLogs() applies tailLines, sinceMs and timestamps", () => {
    expect(formatLogs(log, { timestamps: false, tailLines: 2 })).toBe("\nlast\n");
    expect(formatLogs(log, { timestamps: false, sinceMs: Date.parse("2026-11-22T04:00:01Z") })).toBe("partial\n\nlast\n");
    expect(formatLogs(log, { timestamps: true, tailLines: 1 })).toBe("2026-11-22T04:00:03.000000000Z last\n");
  });
});

describe("stream sessions", () => {
  it("a request for a pod this node does not run fails with a Status on channel 3", async () => {
    const session = new RecordingSession({ kind: "log", namespace: "default", podName: "absent", parameters: {} });
    await serveStream(session, { runtime: new FakeRuntime(), pod: () => undefined });
    expect(session.closeError?.message).toBe("pod default/absent is not running on this node");
    expect(JSON.parse(session.text(3))).toMatchObject({ kind: "Status", status: "Failure", code: 400 });
  });

  it("a pod with several containers needs a container name", async () => {
    const session = new RecordingSession({ kind: "exec", namespace: "default", podName: "two", parameters: { command: ["true"] } });
    const pod = { metadata: { name: "two", namespace: "default", uid: "u" }, spec: { containers: [{ name: "a" }, { name: "b" }] } };
    await serveStream(session, { runtime: new FakeRuntime(), pod: () => pod });
    expect(session.closeError?.message).toBe("a container name must be specified for pod two, choose one of: [a b]");
  });

  it("attach asks the runtime to attach to the running container with the requested streams, and needs no command", async () => {
    const attached: AttachStreamRequest[] = [];
    class AttachRuntime extends FakeRuntime {
      override listContainers(filter?: ContainerFilter): Promise<ContainerSummary[]> {
        return Promise.resolve(filter?.labels?.["io.kubernetes.container.name"] === "main" ? [{ id: "c1", state: "Running", attempt: 0, createdAtMs: 0 } as ContainerSummary] : []);
      }
      override attachUrl(request: AttachStreamRequest): Promise<string> {
        attached.push(request);
        return Promise.reject(new Error("no streaming server in this test"));
      }
    }
    const session = new RecordingSession({ kind: "attach", namespace: "default", podName: "one", parameters: { stdin: "true", stdout: "true", stderr: "true" } });
    const pod = { metadata: { name: "one", namespace: "default", uid: "u" }, spec: { containers: [{ name: "main" }] } };
    await serveStream(session, { runtime: new AttachRuntime(), pod: () => pod });
    expect(attached).toEqual([{ containerId: "c1", tty: false, stdin: true, stdout: true, stderr: true }]);
    expect(session.closeError?.message).toBe("no streaming server in this test");
  });
});
