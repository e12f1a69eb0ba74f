/**
 * `flotilla exec [-i] [-t] POD|TYPE/NAME [-c C] -- COMMAND [ARGS]`: pods/exec over a WebSocket
 * (`v5.channel.k8s.io`, else `v4.channel.k8s.io`; `ws` does the framing). Each binary message is
 * a channel byte and data: 0 stdin, 1 stdout, 2 stderr, 3 the final Status (its ExitCode cause is
 * our exit code), 4 terminal size; with v5, [255, 0] says stdin has ended.
 */
import { WebSocket } from "ws";
import type { Status } from "../../../libs/api/index.ts";
import { runVerb, type CliContext } from "./context.ts";
import { flagBool, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { containerFor, podFor } from "./pods.ts";

export const execFlags: FlagSpec = {
  booleans: ["stdin", "tty", "quiet"],
  values: ["container"],
  shorts: { i: "stdin", t: "tty", c: "container", q: "quiet" },
};

const channelStdin = 0;
const channelStdout = 1;
const channelStderr = 2;
const channelError = 3;
const channelResize = 4;
const channelClose = 255;

/** The exit code a channel-3 Status carries: 0 on Success, the ExitCode cause, else 1. */
export function exitCodeOf(status: Status): number {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((candidate) => candidate.reason === "ExitCode");
  const code = Number(cause?.message ?? "1");
  return Number.isInteger(code) ? code : 1;
}

export function execQuery(command: readonly string[], container: string, stdin: boolean, tty: boolean): string {
  const params = new URLSearchParams();
  for (const part of command) params.append("command", part);
  params.set("container", container);
  params.set("stdout", "true");
  if (!tty) params.set("stderr", "true");
  if (stdin) params.set("stdin", "true");
  if (tty) params.set("tty", "true");
  return params.toString();
}

function pipeStdin(socket: WebSocket, tty: boolean): () => void {
  const input = process.stdin;
  const wasRaw = input.isTTY && input.isRaw;
  if (tty && input.isTTY) input.setRawMode(true);
  const onData = (chunk: Buffer) => socket.send(Buffer.concat([Buffer.from([channelStdin]), chunk]), { binary: true });
  const onEnd = () => {
    if (socket.protocol === "v5.channel.k8s.io") socket.send(Buffer.from([channelClose, channelStdin]), { binary: true });
  };
  const sendSize = () => socket.send(Buffer.concat([Buffer.from([channelResize]), Buffer.from(JSON.stringify({ Width: process.stdout.columns, Height: process.stdout.rows }))]), { binary: true });
  input.on("data", onData);
  input.on("end", onEnd);
  if (tty && process.stdout.isTTY) {
    sendSize();
    process.stdout.on("resize", sendSize);
  }
  return () => {
    input.off("data", onData);
    input.off("end", onEnd);
    process.stdout.off("resize", sendSize);
    if (tty && input.isTTY) input.setRawMode(wasRaw === true);
    input.pause();
  };
}

async function exec(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const [target] = parsed.positionals;
  if (target === undefined || parsed.trailing.length === 0) throw new UsageError("expected 'exec POD -- COMMAND [args...]'");
  if (context.raw === undefined) throw new UsageError("exec needs a connection to the API server");
  const pod = await podFor(context, target);
  const container = containerFor(context, pod, flagValue(parsed, "container"));
  const stdin = flagBool(parsed, "stdin");
  const tty = flagBool(parsed, "tty") && stdin;
  const url = new URL(context.raw.serverUrl);
  url.protocol = "wss:";
  url.pathname = `/api/v1/namespaces/${encodeURIComponent(context.namespace)}/pods/${encodeURIComponent(pod.metadata.name ?? "")}/exec`;
  url.search = execQuery(parsed.trailing, container, stdin, tty);
  const socket = new WebSocket(url, ["v5.channel.k8s.io", "v4.channel.k8s.io"], context.raw.tlsOptions());
  return new Promise<number>((resolve, reject) => {
    let exitCode: number | undefined;
    let stopStdin = () => undefined as void;
    socket.on("open", () => {
      if (stdin) stopStdin = pipeStdin(socket, tty);
    });
    socket.on("message", (data: Buffer) => {
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === channelStdout) context.stdout.write(payload.toString("utf8"));
      else if (channel === channelStderr) context.stderr.write(payload.toString("utf8"));
      else if (channel === channelError && payload.length > 0) {
        const status = JSON.parse(payload.toString("utf8")) as Status;
        exitCode = exitCodeOf(status);
        if (exitCode !== 0 && status.details?.causes === undefined) context.stderr.write(`error: ${status.message ?? "exec failed"}\n`);
      }
    });
    socket.on("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      response.on("end", () => reject(new Error(`exec refused (HTTP ${response.statusCode ?? 0}): ${body.slice(0, 1024)}`)));
    });
    socket.on("error", reject);
    socket.on("close", () => {
      stopStdin();
      resolve(exitCode ?? 0);
    });
    context.signal.addEventListener("abort", () => socket.close(), { once: true });
  });
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, execFlags, exec);
}

export { exec };
