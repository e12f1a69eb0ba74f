/**
 * exec through containerd's streaming server over SPDY/3.1 (remotecommand v4.channel.k8s.io).
 * containerd 1.6's WebSocket exec (v4) cannot close stdin alone: the only way to end it is to
 * close the whole socket, which loses the output and the exit status. Over SPDY each of stdin,
 * stdout, stderr, error and resize is its own stream, so a FIN on the stdin stream gives the
 * process its EOF while the other streams go on (what `kubectl exec -i pod -- cat` needs).
 * Session input channel 255 with byte 0 (v5's "stdin closed", forwarded by the API server) sends
 * that FIN. The client opens the streams (odd ids), the server answers; SPDY flow control is not
 * used by this server, so WINDOW_UPDATE frames are neither sent nor needed.
 */
import { request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { createDeflate } from "node:zlib";
import {
  controlFrame,
  dataFrame,
  encodeHeaders,
  frameHeaderBytes,
  isControlFrame,
  SpdyFrameReader,
  spdyDictionary,
  streamIdAt,
  synStreamFrame,
  syncFlushed,
  typeGoAway,
  typePing,
  typeRstStream,
} from "../../../libs/spdy/index.ts";
import type { StreamSession } from "../control-plane.ts";

export const execStreamProtocol = "v4.channel.k8s.io";
/** How long the upgrade to SPDY may take. */
export const spdyUpgradeTimeoutMs = 10_000;
/** Largest frame accepted from the runtime (its data frames are 32 KiB). */
export const spdyFrameBytesMax = 1024 * 1024;
/** Session input channel v5 uses for "this channel is closed". */
export const closeSignalChannel = 255;
const stdinChannel = 0;
const resizeChannel = 4;

/** The streams remotecommand knows, by the session channel each one carries. */
const streamTypes: ReadonlyArray<readonly [string, number]> = [
  ["error", 3],
  ["stdin", stdinChannel],
  ["stdout", 1],
  ["stderr", 2],
  ["resize", resizeChannel],
];

export interface ExecStreams {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/** Upgrades an HTTP request on the runtime's exec URL to SPDY/3.1 with remotecommand v4. */
export async function upgradeToSpdy(url: string): Promise<{ socket: Socket; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: "POST",
      timeout: spdyUpgradeTimeoutMs,
      headers: { Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": execStreamProtocol },
    });
    request.once("upgrade", (response, socket, head) => {
      const protocol = response.headers["x-stream-protocol-version"];
      if (protocol !== execStreamProtocol) {
        socket.destroy();
        reject(new Error(`the runtime's streaming server chose protocol ${String(protocol)}, not ${execStreamProtocol}`));
      } else resolve({ socket, head });
    });
    request.once("response", (response) => {
      response.resume();
      reject(new Error(`the runtime's streaming server refused the SPDY upgrade: HTTP ${response.statusCode ?? 0}`));
    });
    request.once("timeout", () => request.destroy(new Error("the runtime's streaming server did not upgrade in time")));
    request.once("error", (error) => reject(new Error(`connect to the runtime's streaming server: ${error.message}`)));
    request.end();
  });
}

/** One exec over SPDY: streams opened for what was asked, frames mapped to session channels. */
export class SpdyExecClient {
  readonly #socket: Socket;
  readonly #session: StreamSession;
  readonly #deflate = createDeflate({ dictionary: spdyDictionary() });
  readonly #idByChannel = new Map<number, number>();
  readonly #channelById = new Map<number, number>();
  readonly #reader = new SpdyFrameReader(spdyFrameBytesMax);
  /** Writes go out in order: stream openings wait for their compressed header blocks. */
  #queue: Promise<void> = Promise.resolve();
  #stdinClosed = false;

  constructor(socket: Socket, session: StreamSession) {
    this.#socket = socket;
    this.#session = session;
  }

  /** Opens the streams, bridges them to the session and resolves when the runtime closes. */
  async run(streams: ExecStreams, head: Buffer): Promise<void> {
    const ended = new Promise<void>((resolve) => {
      this.#socket.once("close", () => resolve());
      this.#socket.once("error", () => resolve());
    });
    this.#socket.on("data", (bytes: Buffer) => this.#received(bytes));
    this.#session.onClose(() => this.#socket.destroy());
    let nextId = 1;
    for (const [type, channel] of streamTypes) {
      if (!this.#wanted(type, streams)) continue;
      const id = nextId;
      nextId += 2;
      this.#idByChannel.set(channel, id);
      this.#channelById.set(id, channel);
      this.#enqueue(async () => this.#openStream(id, type));
    }
    this.#session.onInput((channel, data) => this.#input(channel, data));
    if (head.length > 0) this.#received(head);
    await ended;
    this.#deflate.close();
  }

  #wanted(type: string, streams: ExecStreams): boolean {
    if (type === "stdin") return streams.stdin;
    if (type === "stdout") return streams.stdout;
    if (type === "stderr") return streams.stderr && !streams.tty;
    if (type === "resize") return streams.tty;
    return true;
  }

  #enqueue(step: () => Promise<void> | void): void {
    this.#queue = this.#queue.then(step).catch(() => void this.#socket.destroy());
  }

  async #openStream(id: number, type: string): Promise<void> {
    const block = await syncFlushed(this.#deflate, encodeHeaders([["streamtype", type]]));
    this.#socket.write(synStreamFrame(id, block));
  }

  #input(channel: number, data: Uint8Array): void {
    if (channel === closeSignalChannel) {
      if (data[0] === stdinChannel) this.#closeStdin();
      return;
    }
    const id = this.#idByChannel.get(channel);
    if (id === undefined || (channel === stdinChannel && this.#stdinClosed)) return;
    const copy = Buffer.from(data);
    this.#enqueue(() => void this.#socket.write(dataFrame(id, copy, false)));
  }

  #closeStdin(): void {
    const id = this.#idByChannel.get(stdinChannel);
    if (id === undefined || this.#stdinClosed) return;
    this.#stdinClosed = true;
    this.#enqueue(() => void this.#socket.write(dataFrame(id, Buffer.alloc(0), true)));
  }

  #received(bytes: Buffer): void {
    if (!this.#reader.read(bytes, (frame) => this.#frame(frame))) this.#socket.destroy();
  }

  #frame(frame: Buffer): void {
    const payload = frame.subarray(frameHeaderBytes);
    if (!isControlFrame(frame)) {
      const channel = this.#channelById.get(streamIdAt(frame, 0));
      if (channel !== undefined && channel !== stdinChannel && channel !== resizeChannel && payload.length > 0) this.#session.write(channel, Buffer.from(payload));
      return;
    }
    const type = frame.readUInt16BE(2);
    if (type === typePing) this.#enqueue(() => void this.#socket.write(controlFrame(typePing, 0, Buffer.from(payload))));
    else if (type === typeGoAway) this.#socket.end();
    else if (type === typeRstStream && streamIdAt(payload, 0) === this.#idByChannel.get(3)) this.#socket.end();
    // SYN_REPLY, SETTINGS, WINDOW_UPDATE, HEADERS: nothing this client needs from them, and
    // their header blocks are never read, so the server's zlib stream need not be followed.
  }
}

/** Runs one exec session against the runtime's exec URL over SPDY until it ends. */
export async function bridgeSpdyExec(session: StreamSession, url: string, streams: ExecStreams): Promise<void> {
  const { socket, head } = await upgradeToSpdy(url);
  await new SpdyExecClient(socket, session).run(streams, head);
  session.close();
}
