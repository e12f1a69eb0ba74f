/**
 * The one-machine testbed: control-plane replicas and agent hosts, each a network namespace on one
 * bridge (TESTBED.md), installed with the same scripts/install.sh a real machine uses (in its
 * --no-systemd mode). Every agent host gets its own containerd. State lives in one directory so
 * that `down` removes exactly what `up` made.
 *
 *   scripts/testbed up [--servers N] [--agents M] [--name PREFIX] [--state-dir DIR] [--server-flags=--a=1,--b=2] [--agent-disk-mib N]
 *   scripts/testbed down [--name PREFIX] [--state-dir DIR]
 *
 * `up` waits until every node is Ready and prints `KUBECONFIG=<path>` as its last line.
 */
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FlagError, parseFlags, type FlagSpecs } from "../libs/flags/index.ts";
import { containerdConfig, containerdPaths, type ContainerdPaths } from "../test/harness/containerd.ts";
import { NetworkLab, type LabHost } from "../test/harness/netns.ts";
import { cleanupContainerdHost } from "./testbed-cleanup.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const nodesReadyTimeoutMs = 180_000;
const socketWaitMs = 30_000;
const pollMs = 500;
const serversMax = 7;
const agentsMax = 20;
const agentDiskMibMax = 4_096;

const flagSpecs = {
  servers: { type: "integer", default: 1, min: 1, max: serversMax, help: "control-plane replicas" },
  agents: { type: "integer", default: 2, min: 0, max: agentsMax, help: "agent hosts" },
  name: { type: "string", default: "fltb", help: "prefix of every namespace, link and directory (at most 6 characters)" },
  "state-dir": { type: "string", default: "/var/lib/flotilla-testbed", help: "where each testbed keeps its state" },
  "agent-disk-mib": { type: "integer", default: 0, min: 0, max: agentDiskMibMax, help: "give each agent host a data disk of this size (a tmpfs; 0: the machine's disk), so a full disk stays bounded" },
  "server-flags": { type: "list", default: [], help: "extra flags for every flotilla server, comma-separated (--server-flags=--node-monitor-grace-period=10s)" },
} as const satisfies FlagSpecs;

interface HostState {
  role: "server" | "agent";
  name: string;
  namespace: string;
  ip: string;
  dataDir: string;
  /** Size of the tmpfs mounted on dataDir (agents with --agent-disk-mib). */
  diskMib?: number;
  containerd?: ContainerdPaths & { pidFile: string; cgroupParent: string };
}

interface TestbedState {
  name: string;
  bridge: string;
  dir: string;
  hosts: HostState[];
  kubeconfig: string;
}

function say(message: string): void {
  process.stderr.write(`==> ${message}\n`);
}

function sh(command: string, args: readonly string[], input?: string): string {
  return execFileSync(command, args, { encoding: "utf8", stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"], ...(input === undefined ? {} : { input }) });
}

/** Starts a process that outlives this script: detached, output appended to `logPath`. */
function launchDetached(argv: readonly string[], logPath: string): number {
  const fd = openSync(logPath, "a");
  const child = spawn(argv[0] ?? "", argv.slice(1), { detached: true, stdio: ["ignore", fd, fd] });
  child.unref();
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${argv.join(" ")}`);
  return child.pid;
}

async function waitUntil(description: string, timeoutMs: number, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (probe()) return;
    } catch {
      // Not yet.
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
}

function nsenter(host: HostState): string[] {
  return ["nsenter", `--net=/var/run/netns/${host.namespace}`];
}

async function startContainerd(host: HostState, imagesDir: string): Promise<void> {
  const paths = containerdPaths(join(host.dataDir, "containerd"));
  for (const dir of [paths.root, paths.state, paths.runcRoot, paths.optDir, paths.cniConfDir, paths.cniIpamDir]) mkdirSync(dir, { recursive: true });
  writeFileSync(paths.config, containerdConfig(sh("containerd", ["config", "default"]), paths));
  const pidFile = join(host.dataDir, "containerd.pid");
  writeFileSync(pidFile, String(launchDetached([...nsenter(host), "containerd", "--config", paths.config], paths.log)));
  host.containerd = { ...paths, pidFile, cgroupParent: `/${host.namespace}-pods` };
  await waitUntil(`containerd in ${host.namespace}`, socketWaitMs, () => existsSync(paths.socket) && sh("ctr", ["-a", paths.socket, "version"]).length > 0);
  for (const image of ["pause.tar", "busybox.tar"]) sh("ctr", ["-a", paths.socket, "-n", "k8s.io", "images", "import", join(imagesDir, image)]);
}

function install(host: HostState, roleArgs: readonly string[], processArgs: readonly string[]): void {
  const args = [...roleArgs, "--no-systemd", "--skip-preflight", "--prefix", repoRoot, "--data-dir", host.dataDir, "--netns", host.namespace, "--", ...processArgs];
  try {
    sh(join(repoRoot, "scripts/install.sh"), args);
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr ?? "";
    throw new Error(`install ${host.role} on ${host.namespace} failed:\n${stderr}`, { cause });
  }
}

function createToken(server: HostState, role: "server" | "agent"): string {
  return sh(join(repoRoot, "scripts/flotilla"), ["token", "create", "--kind", role, "--data-dir", server.dataDir]).trim();
}

/** A size-limited tmpfs as the agent host's whole data disk (its containerd lives there too). */
function mountAgentDisk(host: HostState, diskMib: number): void {
  mkdirSync(host.dataDir, { recursive: true });
  sh("mount", ["-t", "tmpfs", "-o", `size=${diskMib}m,mode=0755`, `${host.namespace}-disk`, host.dataDir]);
  host.diskMib = diskMib;
}

function unmountAgentDisk(host: HostState): void {
  if (host.diskMib === undefined) return;
  try {
    sh("umount", ["--lazy", host.dataDir]);
  } catch (error) {
    say(`umount ${host.dataDir}: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
}

async function up(name: string, stateDir: string, servers: number, agents: number, serverFlags: readonly string[] = [], agentDiskMib = 0): Promise<TestbedState> {
  const dir = join(stateDir, name);
  if (existsSync(join(dir, "state.json"))) throw new Error(`testbed ${name} exists (${dir}); run: scripts/testbed down --name ${name}`);
  mkdirSync(dir, { recursive: true });
  say(`step 1/5: building images`);
  sh(join(repoRoot, "scripts/images/build.sh"), [join(dir, "images")]);
  say(`step 2/5: ${servers} server host(s) and ${agents} agent host(s) on bridge ${name}br`);
  const lab = NetworkLab.create(0, name);
  const labHosts: LabHost[] = [];
  for (let index = 1; index <= servers; index++) labHosts.push(lab.addHost(`s${index}`));
  for (let index = 1; index <= agents; index++) labHosts.push(lab.addHost(`a${index}`));
  const hosts = labHosts.map((host): HostState => ({ role: host.name.startsWith("s") ? "server" : "agent", name: host.name, namespace: host.namespace, ip: host.ip, dataDir: join(dir, host.name) }));
  const first = hosts[0];
  if (first === undefined) throw new Error("no server host");
  const state: TestbedState = { name, bridge: lab.bridge, dir, hosts, kubeconfig: join(first.dataDir, "admin.kubeconfig") };
  writeFileSync(join(dir, "state.json"), JSON.stringify(state, null, 2));
  say("step 3/5: control-plane replicas");
  install(first, ["--cluster-init", "--advertise-address", first.ip], ["--name", first.name, ...serverFlags]);
  for (const server of hosts.filter((host) => host.role === "server" && host !== first)) {
    install(server, ["--join", `https://${first.ip}:6443`, "--token", createToken(first, "server"), "--advertise-address", server.ip], ["--name", server.name, ...serverFlags]);
  }
  say("step 4/5: agent hosts with their own containerd");
  const agentToken = agents > 0 ? createToken(first, "agent") : "";
  for (const agent of hosts.filter((host) => host.role === "agent")) {
    if (agentDiskMib > 0) mountAgentDisk(agent, agentDiskMib);
    writeFileSync(join(dir, "state.json"), JSON.stringify(state, null, 2));
    await startContainerd(agent, join(dir, "images"));
    writeFileSync(join(dir, "state.json"), JSON.stringify(state, null, 2));
    const paths = agent.containerd;
    if (paths === undefined) throw new Error("containerd paths missing");
    install(agent, ["--server", `https://${first.ip}:6443`, "--token", agentToken, "--node-name", agent.namespace, "--node-ip", agent.ip, "--containerd-socket", paths.socket], ["--cni-conf-dir", paths.cniConfDir, "--cgroup-parent", paths.cgroupParent, "--no-dns-forward"]);
  }
  say(`step 5/5: waiting until ${agents} node(s) are Ready (at most ${nodesReadyTimeoutMs / 1000} s)`);
  await waitUntil("every node Ready", nodesReadyTimeoutMs, () => readyNodes(state.kubeconfig) >= agents);
  return state;
}

function readyNodes(kubeconfig: string): number {
  const list = JSON.parse(sh("kubectl", ["--kubeconfig", kubeconfig, "get", "nodes", "-o", "json"])) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
  return list.items.filter((node) => node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true).length;
}

async function down(name: string, stateDir: string): Promise<void> {
  const dir = join(stateDir, name);
  const statePath = join(dir, "state.json");
  if (!existsSync(statePath)) {
    say(`no testbed ${name} in ${stateDir}; removing any namespaces and bridge named ${name}-*`);
    removeByPrefix(name);
    return;
  }
  const state = JSON.parse(readFileSync(statePath, "utf8")) as TestbedState;
  for (const host of [...state.hosts].reverse()) {
    try {
      sh(join(repoRoot, "scripts/uninstall.sh"), ["--prefix", repoRoot, "--data-dir", host.dataDir, "--netns", host.namespace, "--keep-data"]);
    } catch (error) {
      say(`uninstall on ${host.namespace}: ${(error as { stderr?: string }).stderr ?? String(error)}`);
    }
    if (host.containerd !== undefined) await cleanupContainerdHost(host.namespace, host.containerd);
    unmountAgentDisk(host);
  }
  removeByPrefix(name);
  rmSync(dir, { recursive: true, force: true });
  say(`testbed ${name} removed`);
}

function removeByPrefix(name: string): void {
  const namespaces = sh("ip", ["netns", "list"]).split("\n").map((line) => line.split(" ")[0] ?? "").filter((ns) => ns.startsWith(`${name}-`));
  for (const namespace of namespaces) {
    try {
      sh("ip", ["netns", "del", namespace]);
    } catch {
      // Gone meanwhile.
    }
  }
  try {
    sh("ip", ["link", "del", `${name}br`]);
  } catch {
    // No bridge.
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== "up" && command !== "down") {
    process.stderr.write("usage: scripts/testbed up [--servers N] [--agents M] [--name PREFIX] | down [--name PREFIX]\n");
    return 2;
  }
  const parsed = parseFlags(flagSpecs, rest);
  if (parsed.help) return 0;
  const values = parsed.values;
  if (!/^[a-z][a-z0-9]{0,5}$/.test(values.name)) throw new FlagError("name", "must be 1-6 lower-case letters and digits, starting with a letter");
  if (command === "down") {
    await down(values.name, values["state-dir"]);
    return 0;
  }
  try {
    const state = await up(values.name, values["state-dir"], values.servers, values.agents, values["server-flags"], values["agent-disk-mib"]);
    process.stdout.write(`KUBECONFIG=${state.kubeconfig}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`testbed: ${error instanceof Error ? error.message : String(error)}\nclean up with: scripts/testbed down --name ${values.name}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`testbed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
