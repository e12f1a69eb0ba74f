/**
 * Removing a testbed agent host's containerd and everything its pods left behind, from the paths
 * recorded in the testbed's state: sandboxes through CRI while containerd still answers, then the
 * daemon, leftover runc containers and shims, pod network namespaces, mounts and cgroups.
 */
import { existsSync, readFileSync } from "node:fs";
import { CriRuntime } from "../services/agent/cri/index.ts";
import { killLeftoverContainers, killProcessesWithArgument, removeCgroup, removePodNetworkNamespaces, unmountUnder, type ContainerdPaths } from "../test/harness/containerd.ts";

/** Sandboxes removed through CRI at most (a testbed host runs tens). */
const sandboxesMax = 500;
const daemonStopMs = 10_000;

export interface ContainerdHostState extends ContainerdPaths {
  pidFile: string;
  cgroupParent: string;
}

export async function cleanupContainerdHost(namespace: string, paths: ContainerdHostState): Promise<void> {
  await removeSandboxes(paths.socket);
  await stopDaemon(paths.pidFile);
  killLeftoverContainers(paths.runcRoot);
  killProcessesWithArgument(paths.socket);
  removePodNetworkNamespaces(namespace);
  unmountUnder(paths.baseDir);
  removeCgroup(paths.cgroupParent);
}

async function removeSandboxes(socket: string): Promise<void> {
  if (!existsSync(socket)) return;
  const runtime = new CriRuntime({ socket });
  try {
    for (const sandbox of (await runtime.listSandboxes()).slice(0, sandboxesMax)) {
      await runtime.stopSandbox(sandbox.id).catch(() => undefined);
      await runtime.removeSandbox(sandbox.id).catch(() => undefined);
    }
  } catch {
    // containerd is not answering: the sweeps below still clean up.
  } finally {
    runtime.close();
  }
}

async function stopDaemon(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8"));
  quietly(() => process.kill(pid, "SIGTERM"));
  const deadline = Date.now() + daemonStopMs;
  while (Date.now() < deadline && alive(pid)) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive(pid)) quietly(() => process.kill(pid, "SIGKILL"));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function quietly(action: () => unknown): void {
  try {
    action();
  } catch {
    // Already gone.
  }
}
