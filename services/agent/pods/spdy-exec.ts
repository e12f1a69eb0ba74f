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
import { SpdyClientSession } from "../../../libs/spdy/index.ts";
import type { StreamSession } from "../control-plane.ts";

export const execStreamProtocol = "v4.channel.k8s.io";
/** How long the upgrade to SPDY may take. */
export const spdyUpgradeTimeoutMs = 10_000;
/** Session input channel v5 uses for "this channel is closed". */
export const closeSignalChannel = 255;
const stdinChannel = 0;
const errorChannel = 3;
const resizeChannel = 4;

/** The streams remotecommand knows, by the session channel each one carries. */
const streamTypes: ReadonlyArray<readonly [string, number]> = [
  ["error", errorChannel],
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
  /** Frames keep their order: stream openings wait for their compressed header blocks. */
  readonly #spdy: SpdyClientSession;
  readonly #idByChannel = new Map<number, number>();
  readonly #channelById = new Map<number, number>();
  #stdinClosed = false;

  constructor(socket: Socket, session: StreamSession) {
    this.#socket = socket;
    this.#session = session;
    this.#spdy = new SpdyClientSession((bytes) => void socket.write(bytes), {
      onData: (streamId, data) => this.#output(streamId, data),
      // The runtime resets the error stream when the process is gone: nothing more will come.
      onStreamEnd: (streamId, reset) => {
        if (reset && streamId === this.#idByChannel.get(errorChannel)) socket.end();
      },
      // GOAWAY ends the socket gracefully; an oversized frame or a failed write drops it.
      onClose: (failed) => {
        if (socket.destroyed) return;
        if (failed) socket.destroy();
        else socket.end();
      },
    });
  }

  /** Opens the streams, bridges them to the session and resolves when the runtime closes. */
  async run(streams: ExecStreams, head: Buffer): Promise<void> {
    const ended = new Promise<void>((resolve) => {
      this.#socket.once("close", () => resolve());
      this.#socket.once("error", () => resolve());
    });
    this.#socket.on("data", (bytes: Buffer) => this.#spdy.received(bytes));
    this.#session.onClose(() => this.#socket.destroy());
    for (const [type, channel] of streamTypes) {
      if (!this.#wanted(type, streams)) continue;
      const id = this.#spdy.open(new Map([["streamtype", type]]));
      this.#idByChannel.set(channel, id);
      this.#channelById.set(id, channel);
    }
    this.#session.onInput((channel, data) => this.#input(channel, data));
    if (head.length > 0) this.#spdy.received(head);
    await ended;
    this.#spdy.close();
  }

  #wanted(type: string, streams: ExecStreams): boolean {
    if (type === "stdin") return streams.stdin;
    if (type === "stdout") return streams.stdout;
    if (type === "stderr") return streams.stderr && !streams.tty;
    if (type === "resize") return streams.tty;
    return true;
  }

  #input(channel: number, data: Uint8Array): void {
    if (channel === closeSignalChannel) {
      if (data[0] === stdinChannel) this.#closeStdin();
      return;
    }
    const id = this.#idByChannel.get(channel);
    if (id === undefined || (channel === stdinChannel && this.#stdinClosed)) return;
    this.#spdy.send(id, Buffer.from(data));
  }

  #closeStdin(): void {
    const id = this.#idByChannel.get(stdinChannel);
    if (id === undefined || this.#stdinClosed) return;
    this.#stdinClosed = true;
    this.#spdy.send(id, Buffer.alloc(0), true);
  }

  // SYN_REPLY, SETTINGS, WINDOW_UPDATE, HEADERS: nothing this client needs from them, and their
  // header blocks are never read, so the runtime's zlib stream need not be followed.
  #output(streamId: number, data: Buffer): void {
    const channel = this.#channelById.get(streamId);
    if (channel !== undefined && channel !== stdinChannel && channel !== resizeChannel) this.#session.write(channel, data);
  }
}

/** Runs one exec session against the runtime's exec URL over SPDY until it ends. */
export async function bridgeSpdyExec(session: StreamSession, url: string, streams: ExecStreams): Promise<void> {
  const { socket, head } = await upgradeToSpdy(url);
  await new SpdyExecClient(socket, session).run(streams, head);
  session.close();
}
