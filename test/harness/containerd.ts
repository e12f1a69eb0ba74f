/**
 * A containerd per test host: its own root, state, socket, runc root, CNI config and IPAM state
 * under one directory, running inside a NetworkLab host (nsenter --net, so cgroups stay visible),
 * with Flotilla's busybox images imported. stop() removes every sandbox through CRI, stops the
 * daemon, kills leftover containers and shims it started, unmounts what it mounted and deletes its
 * directory and CNI cache entries. Facts behind the settings: /work/shared/TESTBED.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CriRuntime } from "../../services/agent/cri/index.ts";
import type { LabHost, NetworkLab } from "./netns.ts";
import { Daemon, run } from "./process.ts";
import { waitFor } from "./wait.ts";

export const pauseImage = "docker.io/flotilla/pause:1";
export const busyboxImage = "docker.io/flotilla/busybox:1";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const cniBinDir = "/usr/lib/cni";
/** libcni caches each attachment's result here, outside our directory (removed at stop). */
const cniCacheResultsDir = "/var/lib/cni/results";
const socketWaitMs = 30_000;
const importTimeoutMs = 60_000;
const buildTimeoutMs = 60_000;
const daemonStopGraceMs = 10_000;
/** Bound on sandboxes removed at stop: a test host runs a handful. */
const sandboxesAtStopMax = 200;
/** How much of containerd's log a failed start quotes. */
const failureLogTailBytes = 4000;

export interface ImageTarballs {
  readonly pause: string;
  readonly busybox: string;
}

/** Builds flotilla/pause:1 and flotilla/busybox:1 into outDir with scripts/images/build.sh. */
export async function buildTestImages(outDir: string): Promise<ImageTarballs> {
  const result = await run(join(repoRoot, "scripts/images/build.sh"), [outDir], { timeoutMs: buildTimeoutMs });
  if (result.code !== 0) throw new Error(`scripts/images/build.sh failed (${result.code}): ${result.stderr}`);
  return { pause: join(outDir, "pause.tar"), busybox: join(outDir, "busybox.tar") };
}

export interface ContainerdHostOptions {
  readonly lab: NetworkLab;
  readonly host: LabHost;
  /** The node's pod subnet, e.g. 10.244.1.0/24. */
  readonly podSubnet: string;
  readonly images: ImageTarballs;
  /**
   * Address containerd's CRI streaming server (exec, port-forward URLs) listens on; default
   * 127.0.0.1 inside the host, which a test process outside the host cannot reach. The host's IP
   * makes it reachable from the root namespace over the lab bridge.
   */
  readonly streamServerAddress?: string;
}

/** Paths of one containerd instance, all under `baseDir` (short: the socket path limit is 108 bytes). */
export interface ContainerdPaths {
  readonly baseDir: string;
  readonly root: string;
  readonly state: string;
  readonly socket: string;
  readonly runcRoot: string;
  readonly optDir: string;
  readonly cniConfDir: string;
  readonly cniIpamDir: string;
  readonly config: string;
  readonly log: string;
}

export function containerdPaths(baseDir: string): ContainerdPaths {
  return {
    baseDir,
    root: join(baseDir, "root"),
    state: join(baseDir, "state"),
    socket: join(baseDir, "containerd.sock"),
    runcRoot: join(baseDir, "runc"),
    optDir: join(baseDir, "opt"),
    cniConfDir: join(baseDir, "cni", "net.d"),
    cniIpamDir: join(baseDir, "cni", "ipam"),
    config: join(baseDir, "config.toml"),
    log: join(baseDir, "containerd.log"),
  };
}

/** Sets `key = value` inside `[section]` ("" = top level) of a TOML text; throws when either is missing. */
export function setTomlKey(toml: string, section: string, key: string, value: string): string {
  const lines = toml.split("\n");
  const header = section === "" ? "top level" : `[${section}]`;
  const start = section === "" ? -1 : lines.findIndex((line) => line.trim() === header);
  if (section !== "" && start < 0) throw new Error(`containerd config: no section ${header}`);
  for (let index = start + 1; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const trimmed = line.trim();
    if (trimmed.startsWith("[")) break;
    if (trimmed.startsWith(`${key} =`)) {
      lines[index] = `${line.slice(0, line.indexOf(key))}${key} = ${value}`;
      return lines.join("\n");
    }
  }
  throw new Error(`containerd config: no key ${key} in ${header}`);
}

const criSection = 'plugins."io.containerd.grpc.v1.cri"';

/** `containerd config default` with this instance's paths and the settings TESTBED.md found necessary. */
export function containerdConfig(defaults: string, paths: ContainerdPaths, streamServerAddress?: string): string {
  const quoted = (text: string): string => JSON.stringify(text);
  let toml = defaults;
  toml = setTomlKey(toml, "", "root", quoted(paths.root));
  toml = setTomlKey(toml, "", "state", quoted(paths.state));
  toml = setTomlKey(toml, "grpc", "address", quoted(paths.socket));
  toml = setTomlKey(toml, 'plugins."io.containerd.internal.v1.opt"', "path", quoted(paths.optDir));
  toml = setTomlKey(toml, criSection, "sandbox_image", quoted(pauseImage));
  // Root here lacks CAP_SYS_RESOURCE: without this runc cannot lower oom_score_adj and every
  // RunPodSandbox fails with "can't get final child's PID from pipe".
  toml = setTomlKey(toml, criSection, "restrict_oom_score_adj", "true");
  toml = setTomlKey(toml, `${criSection}.cni`, "bin_dir", quoted(cniBinDir));
  toml = setTomlKey(toml, `${criSection}.cni`, "conf_dir", quoted(paths.cniConfDir));
  // cgroupfs (not systemd) cgroups: the test machine has cgroup v1 and no systemd as pid 1.
  toml = setTomlKey(toml, criSection, "systemd_cgroup", "false");
  toml = setTomlKey(toml, `${criSection}.containerd.runtimes.runc.options`, "SystemdCgroup", "false");
  toml = setTomlKey(toml, `${criSection}.containerd.runtimes.runc.options`, "Root", quoted(paths.runcRoot));
  if (streamServerAddress !== undefined) toml = setTomlKey(toml, criSection, "stream_server_address", quoted(streamServerAddress));
  return toml;
}

/** A CNI bridge + host-local + portmap conflist for `podSubnet`, IPAM state kept in ipamDir. */
export function cniConflist(networkName: string, bridgeName: string, podSubnet: string, ipamDir: string): string {
  const conflist = {
    cniVersion: "0.4.0",
    name: networkName,
    plugins: [
      {
        type: "bridge",
        bridge: bridgeName,
        isGateway: true,
        // No masquerade: test traffic never leaves the lab, and no NAT rules are left behind.
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: "host-local", ranges: [[{ subnet: podSubnet }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: ipamDir },
      },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  };
  return `${JSON.stringify(conflist, null, 2)}\n`;
}

export class ContainerdHost {
  readonly host: LabHost;
  readonly paths: ContainerdPaths;
  readonly networkName: string;
  readonly podSubnet: string;
  /** cgroupfs parent for this host's pods (set it in SandboxConfig.cgroupParent); stop() removes it. */
  readonly cgroupParent: string;
  readonly runtime: CriRuntime;
  #daemon: Daemon;

  readonly #nsenterArgv: readonly string[];

  private constructor(host: LabHost, paths: ContainerdPaths, networkName: string, podSubnet: string, daemon: Daemon, nsenterArgv: readonly string[]) {
    this.#nsenterArgv = nsenterArgv;
    this.host = host;
    this.paths = paths;
    this.networkName = networkName;
    this.podSubnet = podSubnet;
    this.cgroupParent = `/${host.namespace}-pods`;
    this.#daemon = daemon;
    this.runtime = new CriRuntime({ socket: paths.socket });
  }

  /** Starts containerd in `host`, waits for CRI to answer, imports the images. */
  static async start(options: ContainerdHostOptions): Promise<ContainerdHost> {
    const { lab, host } = options;
    const paths = containerdPaths(join(tmpdir(), `fl-ctd-${host.namespace}`));
    rmSync(paths.baseDir, { recursive: true, force: true });
    for (const dir of [paths.root, paths.state, paths.runcRoot, paths.optDir, paths.cniConfDir, paths.cniIpamDir]) mkdirSync(dir, { recursive: true });
    const defaults = execFileSync("containerd", ["config", "default"], { encoding: "utf8" });
    writeFileSync(paths.config, containerdConfig(defaults, paths, options.streamServerAddress));
    const networkName = `${host.namespace}-pods`;
    writeFileSync(join(paths.cniConfDir, "10-flotilla.conflist"), cniConflist(networkName, `${lab.prefix}c0`, options.podSubnet, paths.cniIpamDir));

    const daemon = new Daemon(lab.nsenter(host)[0] ?? "nsenter", [...lab.nsenter(host).slice(1), "containerd", "--config", paths.config], paths.log);
    const instance = new ContainerdHost(host, paths, networkName, options.podSubnet, daemon, lab.nsenter(host));
    try {
      await instance.#waitReady();
      await instance.importImage(options.images.pause);
      await instance.importImage(options.images.busybox);
    } catch (error) {
      // stop() deletes the directory holding the log: keep its tail in the error.
      const logTail = existsSync(paths.log) ? readFileSync(paths.log, "utf8").slice(-failureLogTailBytes) : "(no log)";
      await instance.stop();
      throw new Error(`start containerd in ${host.namespace}; containerd log tail:\n${logTail}`, { cause: error });
    }
    return instance;
  }

  async #waitReady(): Promise<void> {
    await waitFor(
      async () => {
        if (!this.#daemon.running) throw new Error(`containerd exited; see ${this.paths.log}`);
        if (!existsSync(this.paths.socket)) return undefined;
        return await this.runtime.version();
      },
      { timeoutMs: socketWaitMs, description: `containerd CRI on ${this.paths.socket}` },
    );
  }

  async importImage(tarball: string): Promise<void> {
    const result = await run("ctr", ["-a", this.paths.socket, "-n", "k8s.io", "images", "import", tarball], { timeoutMs: importTimeoutMs });
    if (result.code !== 0) throw new Error(`ctr images import ${tarball} failed (${result.code}): ${result.stderr}`);
  }

  /** Removes all sandboxes, stops containerd and deletes everything this instance made. */
  async stop(): Promise<void> {
    if (this.#daemon.running) await this.#removeAllSandboxes();
    this.runtime.close();
    await this.#daemon.stop(daemonStopGraceMs);
    killLeftoverContainers(this.paths.runcRoot);
    killProcessesWithArgument(this.paths.socket);
    removePodNetworkNamespaces(this.host.namespace);
    unmountUnder(this.paths.baseDir);
    removeCgroup(this.cgroupParent);
    this.#removeCniCache();
    rmSync(this.paths.baseDir, { recursive: true, force: true });
  }

  /**
   * Starts containerd again with the same config after kill() (or a stop of the daemon alone), and
   * waits until CRI answers; the runtime client reconnects by itself.
   */
  async restart(): Promise<void> {
    if (this.#daemon.running) await this.#daemon.stop(daemonStopGraceMs);
    const nsenter = this.#nsenterArgv;
    this.#daemon = new Daemon(nsenter[0] ?? "nsenter", [...nsenter.slice(1), "containerd", "--config", this.paths.config], this.paths.log);
    await this.#waitReady();
  }

  /** Kills containerd with SIGKILL, as a crash would; its shims and containers keep running. */
  async kill(): Promise<void> {
    await this.#daemon.kill();
  }

  async #removeAllSandboxes(): Promise<void> {
    try {
      const sandboxes = await this.runtime.listSandboxes();
      for (const sandbox of sandboxes.slice(0, sandboxesAtStopMax)) {
        await this.runtime.stopSandbox(sandbox.id).catch(() => undefined);
        await this.runtime.removeSandbox(sandbox.id).catch(() => undefined);
      }
    } catch {
      // containerd is not answering: the runc and mount sweeps below still clean up.
    }
  }

  #removeCniCache(): void {
    if (!existsSync(cniCacheResultsDir)) return;
    for (const entry of readdirSync(cniCacheResultsDir)) {
      if (entry.startsWith(`${this.networkName}-`)) rmSync(join(cniCacheResultsDir, entry), { force: true });
    }
  }
}

/**
 * Pod network namespaces live in /var/run/netns/cni-*, outside our directory, and only CRI
 * removes them. When containerd is gone, ours are the cni-* namespaces that the host namespace
 * has a peer id for: the pods' veth pairs join them to the host's CNI bridge.
 */
export function removePodNetworkNamespaces(hostNamespace: string): void {
  let peers: { nsid: number; name?: string }[];
  try {
    peers = JSON.parse(execFileSync("ip", ["-n", hostNamespace, "-j", "netns", "list-id"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }) || "[]") as { nsid: number; name?: string }[];
  } catch {
    return; // The host namespace is gone, and with it every veth into pods.
  }
  for (const peer of peers) {
    if (peer.name === undefined || !peer.name.startsWith("cni-")) continue;
    try {
      execFileSync("ip", ["netns", "delete", peer.name], { stdio: "ignore" });
    } catch {
      // Removed meanwhile.
    }
  }
}

export function killLeftoverContainers(runcRoot: string): void {
  let listing: string;
  try {
    listing = execFileSync("runc", ["--root", runcRoot, "list", "--format", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return; // No runc state: nothing ran.
  }
  const containers = (JSON.parse(listing.trim() === "null" || listing.trim() === "" ? "[]" : listing) as { id: string }[]).map((container) => container.id);
  for (const id of containers) {
    try {
      execFileSync("runc", ["--root", runcRoot, "delete", "--force", id], { stdio: "ignore" });
    } catch {
      // Already gone.
    }
  }
}

/** Shims outlive containerd by design; ours are the ones started with our socket address. */
export function killProcessesWithArgument(argument: string): void {
  for (const pid of processesWithArgument(argument)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Exited meanwhile.
    }
  }
}

/** Process ids whose command line contains `argument` exactly as one of its words. */
function processesWithArgument(argument: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const words = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (words.includes(argument)) pids.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return pids;
}

/** Lazily unmounts every mount point under `dir`, deepest first (rootfs overlays, shm, netns). */
export function unmountUnder(dir: string): void {
  const mountPoints = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mountPoints) {
    try {
      execFileSync("umount", ["-l", mountPoint], { stdio: "ignore" });
    } catch {
      // Already unmounted through a parent.
    }
  }
}

/** Removes a cgroup subtree (cgroupfs, v1 or v2) from every hierarchy, children first. */
export function removeCgroup(relativePath: string): void {
  const roots = existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? ["/sys/fs/cgroup"]
    : readdirSync("/sys/fs/cgroup").map((controller) => join("/sys/fs/cgroup", controller));
  for (const root of roots) removeCgroupDir(join(root, relativePath));
}

function removeCgroupDir(dir: string): void {
  if (!existsSync(dir)) return;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) removeCgroupDir(join(dir, entry.name));
    }
    rmdirSync(dir);
  } catch {
    // A cgroup that still holds a process cannot go; the process sweep above should have ended it.
  }
}
