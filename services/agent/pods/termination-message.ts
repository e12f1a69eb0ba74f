/**
 * terminationMessagePath as the kubelet does it: an empty file per container instance on the
 * host, bind-mounted at the path (default /dev/termination-log); after the container exits its
 * content (at most 4 KiB) is the Terminated state's message. With FallbackToLogsOnError, a failed
 * container that wrote nothing there gets the tail of its log instead.
 */
import { chmodSync, existsSync, mkdirSync, openSync, readSync, closeSync, fstatSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Container } from "../../../libs/api/index.ts";
import type { ContainerStatus, Mount } from "../cri/index.ts";
import { formatLogs } from "./streams.ts";

export const terminationMessagePathDefault = "/dev/termination-log";
/** Upstream's bounds: 4096 bytes from the file; from the log, 80 lines and 2048 bytes. */
export const terminationMessageBytesMax = 4096;
export const fallbackLogLinesMax = 80;
export const fallbackLogBytesMax = 2048;

export function terminationMessageFile(podDirectory: string, containerName: string, attempt: number): string {
  return join(podDirectory, "containers", containerName, String(attempt));
}

/** Makes the instance's empty message file and returns its mount, or undefined when the path is "". */
export function terminationMessageMount(podDirectory: string, container: Container, attempt: number): Mount | undefined {
  const containerPath = container.terminationMessagePath ?? terminationMessagePathDefault;
  if (containerPath === "") return undefined;
  const hostPath = terminationMessageFile(podDirectory, container.name, attempt);
  mkdirSync(join(podDirectory, "containers", container.name), { recursive: true });
  writeFileSync(hostPath, "");
  chmodSync(hostPath, 0o666);
  return { containerPath, hostPath };
}

function readTail(path: string, bytesMax: number, fromEnd: boolean): string {
  if (!existsSync(path)) return "";
  const descriptor = openSync(path, "r");
  try {
    const size = fstatSync(descriptor).size;
    const length = Math.min(size, bytesMax);
    const buffer = Buffer.alloc(length);
    readSync(descriptor, buffer, 0, length, fromEnd ? size - length : 0);
    return buffer.toString("utf8");
  } finally {
    closeSync(descriptor);
  }
}

/** The message for an exited instance (the runtime's own message wins when it has one). */
export function terminationMessage(podDirectory: string, container: Container | undefined, status: ContainerStatus): string {
  if (status.state !== "Exited" || status.message !== "" || container === undefined) return status.message;
  const fromFile = readTail(terminationMessageFile(podDirectory, status.name, status.attempt), terminationMessageBytesMax, false);
  if (fromFile !== "" || container.terminationMessagePolicy !== "FallbackToLogsOnError" || status.exitCode === 0) return fromFile;
  // Read more than the limit from the log's end so that CRI prefixes are stripped before cutting.
  const raw = readTail(status.logPath, fallbackLogBytesMax * 4, true);
  const text = formatLogs(raw.slice(raw.indexOf("\n") + 1), { timestamps: false, tailLines: fallbackLogLinesMax });
  return text.slice(Math.max(0, text.length - fallbackLogBytesMax));
}
