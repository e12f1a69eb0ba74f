/**
 * Streaming requests the API server forwards to this node (kubectl logs, exec, attach, port-forward):
 * logs are read from the container's CRI log file (tail, since, timestamps, previous, follow);
 * exec and port-forward go to containerd's streaming server through the one-use URL that CRI
 * Exec/PortForward return: port-forward over WebSocket `v4.channel.k8s.io` (what containerd 1.6
 * speaks) with frames passed through channel for channel, exec and attach (CRI Attach: the
 * container's own stdio) over SPDY (spdy-exec.ts) so that stdin can be closed alone.
 */
import { open, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { WebSocket } from "ws";
import type { Pod } from "../../../libs/api/index.ts";
import type { ContainerRuntime, ContainerSummary } from "../cri/index.ts";
import type { StreamSession } from "../control-plane.ts";
import { labelPodUid } from "./runtime-config.ts";
import { bridgeSpdyExec, type ExecStreams } from "./spdy-exec.ts";

/** How often a followed log file is checked for new bytes. */
export const logFollowPollMs = 250;
/** Bound on one read of a log file. */
export const logReadChunkBytes = 256 * 1024;
/** Bound on a whole log file read without follow (larger files are read from the end). */
export const logReadBytesMax = 16 * 1024 * 1024;
/** How long a WebSocket to containerd's streaming server may take to open. */
export const streamConnectTimeoutMs = 10_000;
export const streamSubprotocol = "v4.channel.k8s.io";
/** Bound on input frames held while the runtime's WebSocket opens. */
export const pendingInputFramesMax = 1024;

const encoder = new TextEncoder();

export interface StreamContext {
  readonly runtime: ContainerRuntime;
  /** The pod bound here with this namespace and name. */
  pod(namespace: string, name: string): Pod | undefined;
}

function parameter(session: StreamSession, name: string): string | undefined {
  const value = session.request.parameters[name];
  return Array.isArray(value) ? value[0] : value;
}

function fail(session: StreamSession, message: string): void {
  const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: "BadRequest", code: 400 };
  session.write(3, encoder.encode(JSON.stringify(status)));
  session.close(new Error(message));
}

/** Serves one session; errors are written to the session, never thrown. */
export async function serveStream(session: StreamSession, context: StreamContext): Promise<void> {
  try {
    const { kind } = session.request;
    if (kind === "log") await serveLogs(session, context);
    else if (kind === "exec") await serveExec(session, context);
    else if (kind === "attach") await serveAttach(session, context);
    else await servePortForward(session, context);
  } catch (error) {
    fail(session, error instanceof Error ? error.message : String(error));
  }
}

async function podAndContainer(session: StreamSession, context: StreamContext): Promise<{ pod: Pod; containerName: string }> {
  const { namespace, podName, container } = session.request;
  const pod = context.pod(namespace, podName);
  if (pod === undefined) throw new Error(`pod ${namespace}/${podName} is not running on this node`);
  const names = (pod.spec?.containers ?? []).map((candidate) => candidate.name);
  const initNames = (pod.spec?.initContainers ?? []).map((candidate) => candidate.name);
  const containerName = container ?? (names.length === 1 ? names[0] : undefined);
  if (containerName === undefined) throw new Error(`a container name must be specified for pod ${podName}, choose one of: [${names.join(" ")}]`);
  if (!names.includes(containerName) && !initNames.includes(containerName)) throw new Error(`container ${containerName} is not valid for pod ${podName}`);
  await Promise.resolve();
  return { pod, containerName };
}

/** The container's instances, newest attempt first. */
async function instances(context: StreamContext, pod: Pod, containerName: string): Promise<ContainerSummary[]> {
  const listed = await context.runtime.listContainers({ labels: { [labelPodUid]: pod.metadata?.uid ?? "", "io.kubernetes.container.name": containerName } });
  return listed.sort((left, right) => right.attempt - left.attempt || right.createdAtMs - left.createdAtMs);
}

export interface CriLogLine {
  readonly timestamp: string;
  readonly stream: "stdout" | "stderr";
  readonly partial: boolean;
  readonly content: string;
}

/** One line of a CRI log file: `<RFC3339Nano> <stdout|stderr> <P|F> <content>`. */
export function parseCriLogLine(line: string): CriLogLine | undefined {
  const first = line.indexOf(" ");
  const second = line.indexOf(" ", first + 1);
  const third = line.indexOf(" ", second + 1);
  if (first < 0 || second < 0) return undefined;
  const stream = line.slice(first + 1, second);
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const tag = third < 0 ? line.slice(second + 1) : line.slice(second + 1, third);
  return { timestamp: line.slice(0, first), stream, partial: tag.split(":").includes("P"), content: third < 0 ? "" : line.slice(third + 1) };
}

export interface LogOptions {
  readonly tailLines?: number;
  readonly sinceMs?: number;
  readonly timestamps: boolean;
}

/** Turns CRI log text into what `kubectl logs` prints (partial lines joined, tail and since applied). */
export function formatLogs(text: string, options: LogOptions): string {
  const lines: string[] = [];
  let pending = "";
  let pendingTimestamp = "";
  for (const raw of text.split("\n")) {
    if (raw === "") continue;
    const line = parseCriLogLine(raw);
    if (line === undefined) continue;
    if (pending === "") pendingTimestamp = line.timestamp;
    pending += line.content;
    if (line.partial) continue;
    if (options.sinceMs === undefined || Date.parse(pendingTimestamp) >= options.sinceMs) lines.push(options.timestamps ? `${pendingTimestamp} ${pending}` : pending);
    pending = "";
  }
  const kept = options.tailLines === undefined || options.tailLines < 0 ? lines : lines.slice(Math.max(0, lines.length - options.tailLines));
  return kept.map((line) => `${line}\n`).join("");
}

function logOptions(session: StreamSession): LogOptions {
  const tail = parameter(session, "tailLines");
  const since = parameter(session, "sinceSeconds");
  const sinceTime = parameter(session, "sinceTime");
  let sinceMs: number | undefined;
  if (since !== undefined) sinceMs = Date.now() - Number(since) * 1000;
  else if (sinceTime !== undefined) sinceMs = Date.parse(sinceTime);
  return { ...(tail === undefined ? {} : { tailLines: Number(tail) }), ...(sinceMs === undefined ? {} : { sinceMs }), timestamps: parameter(session, "timestamps") === "true" };
}

async function readFrom(path: string, offset: number, lengthMax: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(lengthMax);
    const { bytesRead } = await handle.read(buffer, 0, lengthMax, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function serveLogs(session: StreamSession, context: StreamContext): Promise<void> {
  const { pod, containerName } = await podAndContainer(session, context);
  const previous = parameter(session, "previous") === "true";
  const found = await instances(context, pod, containerName);
  const instance = previous ? found[1] : found[0];
  if (instance === undefined) throw new Error(previous ? `previous terminated container "${containerName}" in pod "${pod.metadata?.name ?? ""}" not found` : `container "${containerName}" in pod "${pod.metadata?.name ?? ""}" is waiting to start`);
  const path = await context.runtime.containerLogPath(instance.id);
  const options = logOptions(session);
  const size = (await stat(path).catch(() => ({ size: 0 }))).size;
  const start = Math.max(0, size - logReadBytesMax);
  const text = size === 0 ? "" : (await readFrom(path, start, size - start)).toString("utf8");
  // A read that starts mid-file drops the first (cut) line.
  const whole = start > 0 ? text.slice(text.indexOf("\n") + 1) : text;
  session.write(1, encoder.encode(formatLogs(whole, options)));
  if (parameter(session, "follow") === "true" && !previous) await followLogs(session, context, instance.id, path, size, options.timestamps);
  session.close();
}

async function followLogs(session: StreamSession, context: StreamContext, containerId: string, path: string, fromOffset: number, timestamps: boolean): Promise<void> {
  let closed = false;
  session.onClose(() => (closed = true));
  let offset = fromOffset;
  let carry = "";
  while (!closed) {
    const chunk = await readFrom(path, offset, logReadChunkBytes).catch(() => Buffer.alloc(0));
    if (chunk.length > 0) {
      offset += chunk.length;
      const text = carry + chunk.toString("utf8");
      const cut = text.lastIndexOf("\n");
      carry = text.slice(cut + 1);
      if (cut >= 0) session.write(1, encoder.encode(formatLogs(text.slice(0, cut + 1), { timestamps })));
      continue;
    }
    const status = await context.runtime.containerStatus(containerId).catch(() => undefined);
    if (status?.state !== "Running") return;
    await sleep(logFollowPollMs);
  }
}

/** Opens containerd's streaming URL and passes frames both ways until either side closes. */
export async function bridgeWebSocket(session: StreamSession, url: string): Promise<void> {
  const socket = new WebSocket(url, [streamSubprotocol], { handshakeTimeout: streamConnectTimeoutMs });
  // Input may arrive before the socket is open: hold it (bounded) until then.
  const pending: Buffer[] = [];
  session.onInput((channel, data) => {
    const frame = Buffer.alloc(data.length + 1);
    frame[0] = channel;
    frame.set(data, 1);
    if (socket.readyState === WebSocket.OPEN) socket.send(frame);
    else if (pending.length < pendingInputFramesMax) pending.push(frame);
  });
  session.onClose(() => socket.close());
  // Listen before "open": frames that arrive with the upgrade response are emitted at once.
  socket.on("message", (message: Buffer) => {
    if (message.length === 0) return;
    session.write(message[0] ?? 0, message.subarray(1));
  });
  const ended = new Promise<void>((resolve) => {
    socket.once("close", () => resolve());
    socket.once("error", () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", (error) => reject(new Error(`connect to the runtime's streaming server: ${error.message}`)));
  });
  for (const frame of pending.splice(0)) socket.send(frame);
  await ended;
  session.close();
}

// The running instance of the session's container, and the streams its parameters ask for.
async function runningStreams(session: StreamSession, context: StreamContext): Promise<{ containerId: string; streams: ExecStreams }> {
  const { pod, containerName } = await podAndContainer(session, context);
  const running = (await instances(context, pod, containerName)).find((instance) => instance.state === "Running");
  if (running === undefined) throw new Error(`container ${containerName} is not running`);
  const flag = (name: string, fallback: boolean): boolean => {
    const value = parameter(session, name);
    return value === undefined ? fallback : value === "true" || value === "1";
  };
  const tty = flag("tty", false);
  return { containerId: running.id, streams: { tty, stdin: flag("stdin", false), stdout: flag("stdout", true), stderr: flag("stderr", !tty) } };
}

async function serveAttach(session: StreamSession, context: StreamContext): Promise<void> {
  const { containerId, streams } = await runningStreams(session, context);
  const url = await context.runtime.attachUrl({ containerId, ...streams });
  await bridgeSpdyExec(session, url, streams);
}

async function serveExec(session: StreamSession, context: StreamContext): Promise<void> {
  const { containerId, streams } = await runningStreams(session, context);
  const commandParameter = session.request.parameters["command"];
  const command = Array.isArray(commandParameter) ? commandParameter : commandParameter === undefined ? [] : [commandParameter];
  if (command.length === 0) throw new Error("you must specify at least one command for the container");
  const url = await context.runtime.execUrl({ containerId, command, ...streams });
  // SPDY, not WebSocket v4: only SPDY can close stdin alone (spdy-exec.ts says why).
  await bridgeSpdyExec(session, url, streams);
}

async function servePortForward(session: StreamSession, context: StreamContext): Promise<void> {
  const { namespace, podName } = session.request;
  const pod = context.pod(namespace, podName);
  if (pod === undefined) throw new Error(`pod ${namespace}/${podName} is not running on this node`);
  const portsParameter = session.request.parameters["ports"] ?? [];
  const ports = (Array.isArray(portsParameter) ? portsParameter : portsParameter.split(",")).map(Number);
  if (ports.length === 0 || ports.some((port) => !Number.isInteger(port) || port < 1 || port > 65_535)) throw new Error("port-forward needs ports between 1 and 65535");
  const sandboxes = await context.runtime.listSandboxes({ labels: { [labelPodUid]: pod.metadata?.uid ?? "" }, state: "Ready" });
  const sandbox = sandboxes[0];
  if (sandbox === undefined) throw new Error(`pod ${namespace}/${podName} has no running sandbox`);
  const url = await context.runtime.portForwardUrl(sandbox.id, ports);
  const separator = url.includes("?") ? "&" : "?";
  await bridgeWebSocket(session, `${url}${separator}${ports.map((port) => `ports=${port}`).join("&")}`);
}
