/**
 * Streaming subresources through every replica of a three-replica control plane: a test agent
 * keeps its Streams call on one replica (the one it joined through), and kubectl pointed at each
 * replica in turn runs logs, logs -f, exec and port-forward; the two replicas without the agent's
 * stream open the session through the one that has it. The replicas run with --request-timeout=2,
 * and a followed log through a proxying replica outlives that timeout. A node nobody holds gets a
 * 503 naming it; when the holder is killed, its record leaves the store with its lease and the
 * agent's new replica serves the others.
 */
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "../../../libs/etcd-client/index.ts";
import { lookupRecords, etcdRecordStore, recordTtlSeconds } from "../../../services/nodeapi/session-registry.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run, type RunResult } from "../../harness/process.ts";
import { TestAgent } from "../../harness/test-agent.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const kubectlBin = "/usr/bin/kubectl";
const commandTimeoutMs = 30_000;
const startTimeoutMs = 90_000;
const eventTimeoutMs = 15_000;
const requestTimeoutSeconds = 2;
const nodeName = "stream-node";

interface Replica {
  readonly name: string;
  readonly dataDir: string;
  /** api, store client, store peer, node API */
  readonly ports: readonly number[];
  daemon?: Daemon;
}

const apiUrlOf = (replica: Replica): string => `https://127.0.0.1:${replica.ports[0]}`;

describe.skipIf(!existsSync(kubectlBin))("streaming subresources through any of three replicas", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-streaming-"));
  const logFile = join(workDir, "pod.log");
  const replicas: Replica[] = [];
  let agent: TestAgent | undefined;
  let store: EtcdClient | undefined;

  async function kubectl(replica: Replica, args: readonly string[], input?: string): Promise<RunResult> {
    return run(kubectlBin, ["--kubeconfig", join(replica.dataDir, "admin.kubeconfig"), ...args], { timeoutMs: commandTimeoutMs, ...(input === undefined ? {} : { input }) });
  }

  async function kubectlOk(replica: Replica, args: readonly string[], input?: string): Promise<string> {
    const result = await kubectl(replica, args, input);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} on ${replica.name} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }

  function start(replica: Replica, extra: readonly string[]): Daemon {
    const [api, client, peer, nodeApi] = replica.ports;
    const args = ["server", `--data-dir=${replica.dataDir}`, `--name=${replica.name}`, `--api-port=${api}`, `--store-client-port=${client}`, `--store-peer-port=${peer}`, `--node-api-port=${nodeApi}`];
    return new Daemon(flotillaBin, [...args, "--disable-controllers", "--disable-scheduler", `--request-timeout=${requestTimeoutSeconds}`, ...extra], join(workDir, `${replica.name}.log`));
  }

  async function ready(replica: Replica): Promise<void> {
    const probe = async (): Promise<true | undefined> => (existsSync(join(replica.dataDir, "admin.kubeconfig")) && (await kubectl(replica, ["get", "--raw", "/readyz"])).stdout === "ok" ? true : undefined);
    await waitFor(probe, { timeoutMs: startTimeoutMs, description: `replica ${replica.name} to answer /readyz` }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, `${replica.name}.log`), "utf8").slice(-4000)}`);
    });
  }

  async function token(kind: string): Promise<string> {
    const created = await run(flotillaBin, ["token", "create", `--data-dir=${replicas[0]?.dataDir ?? ""}`, `--kind=${kind}`, "--ttl-hours=1"], { timeoutMs: commandTimeoutMs });
    if (created.code !== 0) throw new Error(created.stderr);
    return created.stdout.trim().split("\n").at(-1) ?? "";
  }

  /** The API URLs the store says hold the node's stream. */
  async function holders(): Promise<string[]> {
    if (store === undefined) throw new Error("no store client");
    return (await lookupRecords(etcdRecordStore(store), nodeName)).map((record) => record.apiUrl);
  }

  beforeAll(async () => {
    const ports = await freePorts(12);
    for (let index = 0; index < 3; index++) replicas.push({ name: `s${index + 1}`, dataDir: join(workDir, `s${index + 1}`), ports: ports.slice(index * 4, index * 4 + 4) });
    const [first, ...others] = replicas as [Replica, Replica, Replica];
    first.daemon = start(first, ["--cluster-init"]);
    await ready(first);
    for (const replica of others) {
      replica.daemon = start(replica, [`--join=${apiUrlOf(first)}`, `--token=${await token("server")}`]);
      await ready(replica);
    }
    store = new EtcdClient({ endpoints: replicas.map((replica) => `http://127.0.0.1:${replica.ports[1]}`) });
    writeFileSync(logFile, "line one\nline two\nline three\n");
    agent = await TestAgent.start({ server: `127.0.0.1:${first.ports[3]}`, token: await token("agent"), nodeName, dataDir: join(workDir, "agent"), logFile });
    const objects = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "apps" }, spec: { nodeName, containers: [{ name: "main", image: "flotilla/busybox:1" }] } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "lost", namespace: "apps" }, spec: { nodeName: "ghost-node", containers: [{ name: "main", image: "flotilla/busybox:1" }] } },
    ];
    await kubectlOk(first, ["apply", "-f", "-"], objects.map((object) => stringify(object)).join("---\n"));
    // kubectl port-forward wants a Running pod; the agent reports it as a kubelet would.
    const uid = await kubectlOk(first, ["get", "pod", "-n", "apps", "web", "-o", "jsonpath={.metadata.uid}"]);
    await agent.client.reportPodStatus("apps", "web", uid.trim(), { phase: "Running", podIP: "10.244.1.9" });
  }, startTimeoutMs * 3 + 30_000);

  afterAll(async () => {
    await agent?.stop();
    store?.close();
    for (const replica of [...replicas].reverse()) await replica.daemon?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("records in the store that the replica the agent joined through holds its stream", async () => {
    const first = replicas[0] as Replica;
    expect(await waitFor(async () => ((await holders()).length > 0 ? holders() : undefined), { timeoutMs: eventTimeoutMs, description: "the node's stream record" })).toEqual([apiUrlOf(first)]);
  });

  it("serves kubectl logs --tail through every replica", async () => {
    for (const replica of replicas) expect(await kubectlOk(replica, ["logs", "-n", "apps", "web", "--tail=2"])).toBe("line two\nline three\n");
  });

  it("runs kubectl exec -i with stdin, stderr and the exit code through every replica", async () => {
    for (const replica of replicas) {
      const result = await kubectl(replica, ["exec", "-i", "-n", "apps", "web", "--", "sh", "-c", `cat; echo from-${replica.name} >&2; exit 3`], `hello via ${replica.name}\n`);
      expect({ replica: replica.name, stdout: result.stdout, code: result.code }).toEqual({ replica: replica.name, stdout: `hello via ${replica.name}\n`, code: 3 });
      expect(result.stderr).toContain(`from-${replica.name}`);
    }
  });

  it("forwards a port with kubectl port-forward through every replica", async () => {
    const echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    try {
      for (const replica of replicas) expect(await forwardOnce(replica, (echo.address() as AddressInfo).port)).toBe(`ping via ${replica.name}`);
    } finally {
      echo.close();
    }
  });

  async function forwardOnce(replica: Replica, podPort: number): Promise<string> {
    const [localPort = 0] = await freePorts(1);
    const args = ["--kubeconfig", join(replica.dataDir, "admin.kubeconfig"), "port-forward", "-n", "apps", "pod/web", `${localPort}:${podPort}`];
    const forwarder = spawn(kubectlBin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    forwarder.stdout.on("data", (chunk: Buffer) => (log += chunk.toString("utf8")));
    forwarder.stderr.on("data", (chunk: Buffer) => (log += chunk.toString("utf8")));
    try {
      const listening = (): true | undefined => {
        if (forwarder.exitCode !== null) throw new Error(`kubectl port-forward exited ${forwarder.exitCode}`);
        return log.includes("Forwarding from") ? true : undefined;
      };
      await waitFor(listening, { timeoutMs: eventTimeoutMs, description: "kubectl port-forward to listen" });
      const message = `ping via ${replica.name}`;
      return await new Promise<string>((resolve, reject) => {
        const socket = connect(localPort, "127.0.0.1", () => socket.write(message));
        let received = "";
        socket.on("data", (chunk: Buffer) => {
          received += chunk.toString("utf8");
          if (received.length < message.length) return;
          socket.end();
          resolve(received);
        });
        socket.on("error", reject);
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${log.slice(-3000)}`, { cause: error });
    } finally {
      forwarder.kill("SIGKILL");
    }
  }

  it("keeps kubectl logs -f open through a proxying replica past the request timeout", async () => {
    const third = replicas[2] as Replica;
    const follower = spawn(kubectlBin, ["--kubeconfig", join(third.dataDir, "admin.kubeconfig"), "logs", "-f", "-n", "apps", "web", "--tail=1"], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let errors = "";
    follower.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    follower.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString("utf8")));
    try {
      await waitFor(() => (output === "line three\n" ? true : undefined), { timeoutMs: eventTimeoutMs, description: "the tail of the log" });
      // The passing time is what is under test: twice the request timeout must not cut the stream.
      await delay(2 * requestTimeoutSeconds * 1000 + 500);
      appendFileSync(logFile, "line four\n");
      await waitFor(() => (output === "line three\nline four\n" ? true : undefined), { timeoutMs: eventTimeoutMs, description: "a line appended after the request timeout" });
      expect({ exitCode: follower.exitCode, errors }).toEqual({ exitCode: null, errors: "" });
    } finally {
      follower.kill("SIGKILL");
    }
  });

  it("answers 503 naming the node when no replica holds its stream", async () => {
    for (const replica of replicas) {
      const result = await kubectl(replica, ["logs", "-n", "apps", "lost"]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("Error from server (ServiceUnavailable): node ghost-node has no stream connection to any API server replica");
    }
  });

  it("drops a killed holder's record with its lease, and the replica the agent moves to serves the others", async () => {
    const [first, second, third] = replicas as [Replica, Replica, Replica];
    await first.daemon?.kill();
    const survivors = [apiUrlOf(second), apiUrlOf(third)];
    const moved = await waitFor(
      async () => {
        const now = await holders();
        return now.length === 1 && survivors.includes(now[0] ?? "") ? now[0] : undefined;
      },
      // A store leader change restarts the lease's clock (etcd's rule), so allow two TTLs.
      { timeoutMs: (2 * recordTtlSeconds + 10) * 1000, intervalMs: 500, description: "the killed replica's record to expire and the agent's new replica to record the node" },
    );
    const other = moved === apiUrlOf(second) ? third : second;
    expect(await kubectlOk(other, ["logs", "-n", "apps", "web", "--tail=1"])).toBe("line four\n");
  }, (2 * recordTtlSeconds + 30) * 1000);
});
