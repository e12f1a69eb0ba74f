import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SpdyServerSession } from "../../apiserver/streaming/spdy.ts";
import { RecordingSession } from "../memory-control-plane.ts";
import { bridgeSpdyExec, closeSignalChannel } from "./spdy-exec.ts";

/** A streaming server like containerd's: echoes stdin to stdout once stdin ends, then a Status. */
function fakeStreamingServer(seenTypes: string[]): Server {
  const server = createServer((_request, response) => response.writeHead(400).end());
  server.on("upgrade", (_request, socket: Socket) => {
    socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n");
    const idByType = new Map<string, number>();
    let stdin = "";
    const spdy: SpdyServerSession = new SpdyServerSession(
      { write: (bytes) => socket.write(bytes), close: () => socket.end() },
      {
        onStream: (id, headers) => {
          const type = headers.get("streamtype") ?? "";
          seenTypes.push(type);
          idByType.set(type, id);
        },
        onData: (id, data) => {
          if (id === idByType.get("stdin")) stdin += data.toString("utf8");
        },
        onStreamEnd: (id) => {
          if (id !== idByType.get("stdin")) return;
          spdy.send(idByType.get("stdout") ?? 0, Buffer.from(`got:${stdin}`));
          spdy.send(idByType.get("error") ?? 0, Buffer.from('{"status":"Success"}'), true);
          spdy.close();
        },
      },
    );
    socket.on("data", (bytes: Buffer) => spdy.received(bytes));
  });
  return server;
}

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function listening(seenTypes: string[]): Promise<string> {
  server = fakeStreamingServer(seenTypes);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/exec/token`;
}

describe("exec over SPDY", () => {
  it("closing stdin (channel 255, byte 0) ends the command's input and the output and status still arrive", async () => {
    const seenTypes: string[] = [];
    const url = await listening(seenTypes);
    const session = new RecordingSession({ kind: "exec", namespace: "default", podName: "p", parameters: {} });
    const done = bridgeSpdyExec(session, url, { stdin: true, stdout: true, stderr: true, tty: false });
    session.send(0, Buffer.from("abc"));
    session.send(0, Buffer.from("def"));
    session.send(closeSignalChannel, Uint8Array.of(0));
    await done;
    expect(seenTypes).toEqual(["error", "stdin", "stdout", "stderr"]);
    expect(session.text(1)).toBe("got:abcdef");
    expect(session.text(3)).toBe('{"status":"Success"}');
    expect(session.closeError).toBeUndefined();
  });

  it("a tty exec opens a resize stream and no stderr stream", async () => {
    const seenTypes: string[] = [];
    const url = await listening(seenTypes);
    const session = new RecordingSession({ kind: "exec", namespace: "default", podName: "p", parameters: {} });
    const done = bridgeSpdyExec(session, url, { stdin: true, stdout: true, stderr: false, tty: true });
    session.send(closeSignalChannel, Uint8Array.of(0));
    await done;
    expect(seenTypes).toEqual(["error", "stdin", "stdout", "resize"]);
  });

  it("a server that does not upgrade is an error naming the HTTP status", async () => {
    server = createServer((_request, response) => response.writeHead(404).end());
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/exec/x`;
    const session = new RecordingSession({ kind: "exec", namespace: "default", podName: "p", parameters: {} });
    await expect(bridgeSpdyExec(session, url, { stdin: false, stdout: true, stderr: true, tty: false })).rejects.toThrow("HTTP 404");
  });
});
