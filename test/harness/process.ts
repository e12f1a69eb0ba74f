/** Child processes for integration tests: started, logged to a file, and always reaped. */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const commandOutputBytesMax = 16 * 1024 * 1024;

/** Runs a command to completion with a time bound and returns its output. */
export async function run(command: string, args: readonly string[], options: { timeoutMs: number; input?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env });
    let stdout = "";
    let stderr = "";
    const append = (current: string, chunk: Buffer): string => (current.length > commandOutputBytesMax ? current : current + chunk.toString("utf8"));
    child.stdout.on("data", (chunk: Buffer) => (stdout = append(stdout, chunk)));
    child.stderr.on("data", (chunk: Buffer) => (stderr = append(stderr, chunk)));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A child that exits without reading its stdin makes the write fail with EPIPE: harmless here.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** A long-running daemon whose output goes to `logPath`. */
export class Daemon {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;

  constructor(command: string, args: readonly string[], logPath: string, env?: NodeJS.ProcessEnv) {
    const log = createWriteStream(logPath, { flags: "a" });
    this.#child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
    this.#child.stdout?.pipe(log);
    this.#child.stderr?.pipe(log);
    this.#exited = new Promise((resolve) => this.#child.on("exit", (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.#child.kill("SIGKILL");
    await this.#exited;
  }
}
