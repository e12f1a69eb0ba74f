/**
 * The testbed as the cluster chaos run sees it: scripts/testbed up/down, the state file it writes
 * (hosts, namespaces, data directories), and the process-level faults: kill or stop a host's
 * processes by their pid files, restart a server with the testbed's own install.sh command line.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
/** `scripts/testbed up` of 3 servers and 2 agents takes about 2-3 minutes; beyond this it is stuck. */
export const testbedUpTimeoutMs = 420_000;
const testbedDownTimeoutMs = 180_000;
const commandTimeoutMs = 30_000;
const outputBytesMax = 16 * 1024 * 1024;

export interface TestbedHost {
  readonly role: "server" | "agent";
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly dataDir: string;
  readonly containerd?: {
    readonly pidFile: string;
    readonly runcRoot: string;
    readonly config: string;
    readonly log: string;
    readonly socket: string;
    readonly cniConfDir: string;
    readonly cgroupParent: string;
  };
}

export interface Testbed {
  readonly name: string;
  readonly dir: string;
  readonly hosts: readonly TestbedHost[];
  readonly kubeconfig: string;
}

export function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

/** Runs a command to completion with a time bound; rejects with its stderr on failure. */
export async function run(argv: readonly string[], timeoutMs = commandTimeoutMs): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0] ?? "", argv.slice(1), { encoding: "utf8", timeout: timeoutMs, maxBuffer: outputBytesMax }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${argv.join(" ")}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Each agent host's data directory is a tmpfs of this size, so scenario 7 fills a bounded disk. */
export const agentDiskMib = 512;

/** `up` of 3 servers sometimes fails when a replica's join races the previous one; one retry. */
export const testbedUpAttempts = 3;

export async function testbedUp(name: string): Promise<Testbed> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run([join(repoRoot, "scripts/testbed"), "up", "--servers", "3", "--agents", "2", "--name", name, "--agent-disk-mib", String(agentDiskMib)], testbedUpTimeoutMs);
      return readTestbed(name);
    } catch (error) {
      if (attempt >= testbedUpAttempts) throw error;
      say(`testbed up failed (attempt ${attempt} of ${testbedUpAttempts}), removing it and trying again:\n${error instanceof Error ? error.message : String(error)}`);
      testbedDown(name);
    }
  }
}

export function readTestbed(name: string): Testbed {
  const path = join("/var/lib/flotilla-testbed", name, "state.json");
  return JSON.parse(readFileSync(path, "utf8")) as Testbed;
}

/** Synchronous, so that it also runs from an exit path. */
export function testbedDown(name: string): void {
  try {
    execFileSync(join(repoRoot, "scripts/testbed"), ["down", "--name", name], { stdio: ["ignore", "ignore", "inherit"], timeout: testbedDownTimeoutMs });
  } catch (error) {
    say(`testbed down --name ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function servers(testbed: Testbed): TestbedHost[] {
  return testbed.hosts.filter((host) => host.role === "server");
}

export function agents(testbed: Testbed): TestbedHost[] {
  return testbed.hosts.filter((host) => host.role === "agent");
}

export function storeClientUrl(host: TestbedHost): string {
  return `http://${host.ip}:2379`;
}

function pidFile(host: TestbedHost, role: "server" | "agent"): string {
  return join(host.dataDir, `flotilla-${role}.pid`);
}

function readPid(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Sends `signal` to the host's flotilla process; false when it was not running. */
export function signalHost(host: TestbedHost, signal: NodeJS.Signals): boolean {
  const pid = readPid(pidFile(host, host.role));
  if (pid === undefined) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function hostProcessAlive(host: TestbedHost): boolean {
  const pid = readPid(pidFile(host, host.role));
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const hostStopTimeoutMs = 30_000;
const hostStopProbeMs = 200;

/** True while the process has not exited (a zombie, exited but unreaped, has: state Z). */
function pidRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Stops the host's flotilla process with SIGTERM (a clean shutdown, as an upgrade does) and waits for it to exit. */
export async function stopHost(host: TestbedHost): Promise<void> {
  const pid = readPid(pidFile(host, host.role));
  if (pid === undefined) return;
  signalHost(host, "SIGTERM");
  const deadline = Date.now() + hostStopTimeoutMs;
  while (pidRunning(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, hostStopProbeMs));
  if (pidRunning(pid)) throw new Error(`flotilla ${host.role} on ${host.name} did not exit within ${hostStopTimeoutMs} ms of SIGTERM`);
}

/**
 * Restarts a killed server with the testbed's install.sh command line. The store directory
 * exists, so neither --cluster-init nor a join happens again: the replica restarts its member.
 */
export async function restartServer(testbed: Testbed, host: TestbedHost): Promise<void> {
  const first = servers(testbed)[0];
  if (first === undefined) throw new Error("no server");
  const roleArgs = host === first ? ["--cluster-init"] : ["--join", `https://${first.ip}:6443`, "--token", "restart-needs-no-token"];
  await run([
    join(repoRoot, "scripts/install.sh"), ...roleArgs, "--advertise-address", host.ip,
    "--no-systemd", "--skip-preflight", "--prefix", repoRoot, "--data-dir", host.dataDir, "--netns", host.namespace, "--", "--name", host.name,
  ], 120_000);
}

/** Kills the agent host's containerd (its containers' shims live on, as after a containerd crash). */
export function killContainerd(host: TestbedHost): boolean {
  const pid = host.containerd === undefined ? undefined : readPid(host.containerd.pidFile);
  if (pid === undefined) return false;
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

const containerdStartTimeoutMs = 30_000;
const containerdStopTimeoutMs = 20_000;

/** Stops the host's containerd with SIGTERM as a service restart would, and waits for it to exit. */
export async function stopContainerd(host: TestbedHost): Promise<void> {
  const pid = host.containerd === undefined ? undefined : readPid(host.containerd.pidFile);
  if (pid === undefined) throw new Error(`${host.name} has no containerd pid`);
  const alive = (): boolean => pidRunning(pid);
  if (alive()) process.kill(pid, "SIGTERM");
  const deadline = Date.now() + containerdStopTimeoutMs;
  while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, containerdProbeMs));
  if (alive()) throw new Error(`containerd on ${host.name} did not exit within ${containerdStopTimeoutMs} ms of SIGTERM`);
}
const containerdProbeMs = 500;

/** Starts the host's containerd again as scripts/testbed did, and waits for its socket to answer. */
export async function restartContainerd(host: TestbedHost): Promise<void> {
  const paths = host.containerd;
  if (paths === undefined) throw new Error(`${host.name} has no containerd`);
  const fd = openSync(paths.log, "a");
  const child = spawn("nsenter", [`--net=/var/run/netns/${host.namespace}`, "containerd", "--config", paths.config], { detached: true, stdio: ["ignore", fd, fd] });
  child.unref();
  closeSync(fd);
  writeFileSync(paths.pidFile, String(child.pid ?? ""));
  const deadline = Date.now() + containerdStartTimeoutMs;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    if (await run(["ctr", "-a", paths.socket, "version"], 5_000).then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, containerdProbeMs));
  }
  throw new Error(`containerd on ${host.name} did not answer within ${containerdStartTimeoutMs} ms`);
}

/** Restarts a killed agent with the testbed's install.sh command line (a fresh agent token). */
export async function restartAgent(testbed: Testbed, host: TestbedHost): Promise<void> {
  const first = servers(testbed)[0];
  const paths = host.containerd;
  if (first === undefined || paths === undefined) throw new Error("no server, or no containerd on the agent");
  const token = (await run([join(repoRoot, "scripts/flotilla"), "token", "create", "--kind", "agent", "--data-dir", first.dataDir])).trim();
  await run([
    join(repoRoot, "scripts/install.sh"), "--server", `https://${first.ip}:6443`, "--token", token, "--node-name", host.namespace, "--node-ip", host.ip,
    "--containerd-socket", paths.socket, "--no-systemd", "--skip-preflight", "--prefix", repoRoot, "--data-dir", host.dataDir, "--netns", host.namespace,
    "--", "--cni-conf-dir", paths.cniConfDir, "--cgroup-parent", paths.cgroupParent,
  ], 120_000);
}
