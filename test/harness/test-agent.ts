/**
 * A test agent: joins a cluster with a token through the real node client, records what the
 * node's stream delivers, and answers the API server's streaming requests from canned local
 * processes instead of containers: logs serve a file (tailLines, follow), exec runs the command
 * on this machine (stdin, stdout, stderr, the exit code as upstream's Status on channel 3), and
 * attach joins a `cat` (every container's process, as attach sees it), and port-forward connects
 * to 127.0.0.1:<port>.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, statSync, watch } from "node:fs";
import { connect } from "node:net";
import type { KubeObject } from "../../libs/api/index.ts";
import type { NodeStreamHandlers, NodeWatchEvent, StreamSession } from "../../services/agent/control-plane.ts";
import { NodeClient, joinOrLoad, type JoinOptions } from "../../services/agent/nodeclient/index.ts";

/** Bytes one follow step reads from the log file. */
const followReadBytesMax = 64 * 1024;
const stdinCloseChannel = 255;

export interface TestAgentOptions extends JoinOptions {
  /** The file every container's log is served from. */
  readonly logFile: string;
}

/** What the node's stream has delivered, by kind, as `namespace/name` -> object. */
export class NodeView {
  readonly objects = new Map<string, Map<string, KubeObject>>();
  /** Every key ever upserted, by kind, in order. */
  readonly seen = new Map<string, string[]>();
  syncs = 0;

  record(kind: string, event: NodeWatchEvent<KubeObject>): void {
    const key = `${event.object.metadata?.namespace ?? ""}/${event.object.metadata?.name ?? ""}`;
    const objects = this.objects.get(kind) ?? new Map<string, KubeObject>();
    this.objects.set(kind, objects);
    if (event.type === "delete") objects.delete(key);
    else {
      objects.set(key, event.object);
      this.seen.set(kind, [...(this.seen.get(kind) ?? []), key]);
    }
  }

  has(kind: string, key: string): boolean {
    return this.objects.get(kind)?.has(key) ?? false;
  }

  everSeen(kind: string, key: string): boolean {
    return this.seen.get(kind)?.includes(key) ?? false;
  }
}

export class TestAgent {
  readonly view = new NodeView();
  readonly #stop = new AbortController();
  #watchDone: Promise<void> = Promise.resolve();

  private constructor(
    readonly client: NodeClient,
    readonly logFile: string,
  ) {}

  static async start(options: TestAgentOptions): Promise<TestAgent> {
    const credentials = await joinOrLoad(options);
    const agent = new TestAgent(new NodeClient(credentials), options.logFile);
    agent.#watchDone = agent.client.watchNode(agent.#handlers(), agent.#stop.signal);
    agent.client.serveStreams((session) => agent.#serve(session), agent.#stop.signal);
    return agent;
  }

  #handlers(): NodeStreamHandlers {
    const view = this.view;
    return {
      onPod: (event) => view.record("pods", event),
      onConfigMap: (event) => view.record("configmaps", event),
      onSecret: (event) => view.record("secrets", event),
      onService: (event) => view.record("services", event),
      onEndpointSlice: (event) => view.record("endpointslices", event),
      onNode: (event) => view.record("nodes", event),
      onSynced: () => view.syncs++,
    };
  }

  #serve(session: StreamSession): void {
    if (session.request.kind === "log") serveLog(session, this.logFile);
    else if (session.request.kind === "exec") serveExec(session, commandOf(session));
    // Attach joins the container's own process: here every container's process is `cat`.
    else if (session.request.kind === "attach") serveExec(session, attachedProcess);
    else servePortForward(session);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#watchDone;
    this.client.close();
  }
}

/** The process every container of the test agent runs, as attach sees it. */
const attachedProcess = ["cat"];

function parameter(session: StreamSession, name: string): string | undefined {
  const value = session.request.parameters[name];
  return Array.isArray(value) ? value[0] : value;
}

function serveLog(session: StreamSession, logFile: string): void {
  const text = readFileSync(logFile, "utf8");
  const tail = parameter(session, "tailLines");
  let lines = text.split("\n");
  if (lines.at(-1) === "") lines = lines.slice(0, -1);
  if (tail !== undefined) lines = lines.slice(Math.max(0, lines.length - Number(tail)));
  if (lines.length > 0) session.write(1, Buffer.from(lines.map((line) => `${line}\n`).join("")));
  if (parameter(session, "follow") !== "true") {
    session.close();
    return;
  }
  let offset = Buffer.byteLength(text);
  const watcher = watch(logFile, () => {
    const size = statSync(logFile).size;
    if (size <= offset) return;
    const descriptor = openSync(logFile, "r");
    try {
      const buffer = Buffer.alloc(Math.min(size - offset, followReadBytesMax));
      const read = readSync(descriptor, buffer, 0, buffer.length, offset);
      offset += read;
      session.write(1, buffer.subarray(0, read));
    } finally {
      closeSync(descriptor);
    }
  });
  session.onClose(() => watcher.close());
}

function exitStatus(code: number | null, signal: string | null): object {
  if (code === 0) return { metadata: {}, status: "Success" };
  const exitCode = code ?? 128;
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: ${signal === null ? `exit status ${exitCode}` : `signal: ${signal}`}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  };
}

function commandOf(session: StreamSession): string[] {
  const command = session.request.parameters["command"];
  return Array.isArray(command) ? command : command === undefined ? [] : [command];
}

function serveExec(session: StreamSession, argv: readonly string[]): void {
  const child = spawn(argv[0] ?? "true", argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.on("error", () => undefined);
  session.onInput((channel, data) => {
    if (channel === 0) child.stdin.write(data);
    else if (channel === stdinCloseChannel && data[0] === 0) child.stdin.end();
  });
  session.onClose(() => child.kill("SIGKILL"));
  child.stdout.on("data", (chunk: Buffer) => session.write(1, chunk));
  child.stderr.on("data", (chunk: Buffer) => session.write(2, chunk));
  child.on("error", (error) => {
    session.write(3, Buffer.from(JSON.stringify({ metadata: {}, status: "Failure", message: error.message, reason: "InternalError" })));
    session.close();
  });
  child.on("close", (code, signal) => {
    session.write(3, Buffer.from(JSON.stringify(exitStatus(code, signal))));
    session.close();
  });
}

function servePortForward(session: StreamSession): void {
  const port = Number(parameter(session, "port") ?? "0");
  const socket = connect(port, "127.0.0.1");
  session.onInput((channel, data) => {
    if (channel === 0) socket.write(data);
    else if (channel === stdinCloseChannel) socket.end();
  });
  session.onClose(() => socket.destroy());
  socket.on("data", (chunk: Buffer) => session.write(0, chunk));
  socket.on("error", (error) => {
    session.write(1, Buffer.from(`error forwarding port ${port}: ${error.message}`));
    session.close();
  });
  socket.on("close", () => session.close());
}
