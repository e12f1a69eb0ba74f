/**
 * Three `flotilla server` replicas on one machine: the first with --cluster-init, the others
 * joining with a server token from `flotilla token create --kind server` (the joiner checks the
 * server against the CA hash in the token, gets the CA and keys, adds its store member). All three
 * serve the same objects; an agent token cannot join a server.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run, type RunResult } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const commandTimeoutMs = 30_000;
const startTimeoutMs = 90_000;

interface Replica {
  readonly name: string;
  readonly dataDir: string;
  readonly ports: readonly number[];
  daemon?: Daemon;
}

describe("three server replicas joined with a token", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-join-"));
  const replicas: Replica[] = [];

  async function kubectl(replica: Replica, ...args: string[]): Promise<RunResult> {
    return run("/usr/bin/kubectl", ["--kubeconfig", join(replica.dataDir, "admin.kubeconfig"), ...args], { timeoutMs: commandTimeoutMs });
  }

  function start(replica: Replica, extra: readonly string[]): Daemon {
    const [api, client, peer, nodeApi] = replica.ports;
    const args = ["server", `--data-dir=${replica.dataDir}`, `--name=${replica.name}`, `--api-port=${api}`, `--store-client-port=${client}`, `--store-peer-port=${peer}`, `--node-api-port=${nodeApi}`, "--disable-controllers", "--disable-scheduler", ...extra];
    return new Daemon(flotillaBin, args, join(workDir, `${replica.name}.log`));
  }

  async function ready(replica: Replica): Promise<void> {
    await waitFor(async () => (existsSync(join(replica.dataDir, "admin.kubeconfig")) && (await kubectl(replica, "get", "--raw", "/readyz")).stdout === "ok" ? true : undefined), {
      timeoutMs: startTimeoutMs,
      description: `replica ${replica.name} to answer /readyz`,
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, `${replica.name}.log`), "utf8").slice(-4000)}`);
    });
  }

  async function serverToken(kind: string): Promise<string> {
    const first = replicas[0] as Replica;
    const created = await run(flotillaBin, ["token", "create", `--data-dir=${first.dataDir}`, `--kind=${kind}`], { timeoutMs: commandTimeoutMs });
    if (created.code !== 0) throw new Error(created.stderr);
    return created.stdout.trim();
  }

  beforeAll(async () => {
    const ports = await freePorts(12);
    for (let index = 0; index < 3; index++) replicas.push({ name: `s${index + 1}`, dataDir: join(workDir, `s${index + 1}`), ports: ports.slice(index * 4, index * 4 + 4) });
    const first = replicas[0] as Replica;
    first.daemon = start(first, ["--cluster-init"]);
    await ready(first);
  }, startTimeoutMs + 10_000);

  afterAll(async () => {
    for (const replica of [...replicas].reverse()) await replica.daemon?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("refuses to let an agent token join a server", async () => {
    const token = await serverToken("agent");
    const outsider: Replica = { name: "x1", dataDir: join(workDir, "x1"), ports: replicas[2]?.ports ?? [] };
    const result = await run(flotillaBin, ["server", `--data-dir=${outsider.dataDir}`, "--name=x1", `--api-port=${outsider.ports[0]}`, `--store-client-port=${outsider.ports[1]}`, `--store-peer-port=${outsider.ports[2]}`, `--node-api-port=${outsider.ports[3]}`, `--join=https://127.0.0.1:${replicas[0]?.ports[0]}`, `--token=${token}`], { timeoutMs: commandTimeoutMs });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("may not join servers");
  });

  it("joins two more replicas, and all three serve the same objects", async () => {
    const first = replicas[0] as Replica;
    const joinUrl = `--join=https://127.0.0.1:${first.ports[0]}`;
    for (const replica of replicas.slice(1)) {
      replica.daemon = start(replica, [joinUrl, `--token=${await serverToken("server")}`]);
      await ready(replica);
    }
    const created = await kubectl(replicas[2] as Replica, "create", "namespace", "shared");
    expect(created.stdout).toContain("namespace/shared created");
    for (const replica of replicas) {
      await waitFor(async () => ((await kubectl(replica, "get", "namespace", "shared", "-o", "name")).stdout === "namespace/shared\n" ? true : undefined), {
        timeoutMs: 10_000,
        description: `replica ${replica.name} to see the namespace`,
      });
    }
    const ca = readFileSync(join(first.dataDir, "ca.crt"), "utf8");
    for (const replica of replicas.slice(1)) expect(readFileSync(join(replica.dataDir, "ca.crt"), "utf8")).toBe(ca);
    const endpoints = await kubectl(first, "get", "endpoints", "kubernetes", "-o", "jsonpath={.subsets[*].ports[*].port}");
    expect(endpoints.stdout.split(" ").map(Number).sort()).toEqual(replicas.map((replica) => replica.ports[0]).sort());
  });
});
