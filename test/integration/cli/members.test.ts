/**
 * `flotilla members` against real control-plane replicas: list one member (the leader), refuse
 * to remove the last voter, `add` a second replica by running exactly the command it prints, see
 * it listed, then remove it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run, type RunResult } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const flotillaBin = join(resolve(import.meta.dirname, "../../.."), "scripts/flotilla");
const commandTimeoutMs = 30_000;
const startTimeoutMs = 60_000;

describe("flotilla members against flotilla server replicas", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-members-"));
  const dataDir = join(workDir, "a");
  let first: Daemon | undefined;
  let second: Daemon | undefined;
  let endpoint = "";

  async function members(...args: string[]): Promise<RunResult> {
    return run(flotillaBin, ["members", ...args, `--endpoints=${endpoint}`, `--data-dir=${dataDir}`], { timeoutMs: commandTimeoutMs });
  }

  const serverLog = (name: string) => (existsSync(join(workDir, `${name}.log`)) ? readFileSync(join(workDir, `${name}.log`), "utf8").slice(-3000) : "");

  beforeAll(async () => {
    const [api, client, peer, nodeApi] = await freePorts(4);
    endpoint = `http://127.0.0.1:${client}`;
    first = new Daemon(flotillaBin, ["server", "--cluster-init", "--name=a", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${client}`, `--store-peer-port=${peer}`, `--node-api-port=${nodeApi}`], join(workDir, "a.log"));
    await waitFor(async () => ((await members("list")).stdout.includes("true") && existsSync(join(dataDir, "admin.kubeconfig")) ? true : undefined), {
      timeoutMs: startTimeoutMs,
      intervalMs: 500,
      description: "the first replica's store to list itself",
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${serverLog("a")}`);
    });
  });

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("lists the only member as leader and refuses to remove it", async () => {
    const listed = await members("list");
    expect(listed.stdout).toMatch(/^NAME +ID +LEADER +LEARNER +PEER URLS +CLIENT URLS\na +[0-9a-f]+ +true +false +http:\/\/127\.0\.0\.1:\d+ +http:\/\/127\.0\.0\.1:\d+\n$/);
    const refused = await members("remove", "a");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("error: a is the store's last voting member");
    expect((await members("list")).stdout).toBe(listed.stdout);
  });

  it("adds a replica with the printed command, lists it, and removes it", async () => {
    const [api, client, peer, nodeApi] = await freePorts(4);
    const secondDir = join(workDir, "b");
    const added = await run(
      flotillaBin,
      ["members", "add", "b", "--advertise-address=127.0.0.1", `--api-port=${api}`, `--store-client-port=${client}`, `--store-peer-port=${peer}`, `--node-api-port=${nodeApi}`, `--data-dir=${dataDir}`],
      { timeoutMs: commandTimeoutMs },
    );
    expect(added.code, added.stderr).toBe(0);
    const command = /^ {2}(flotilla server .*)$/m.exec(added.stdout)?.[1];
    expect(command).toMatch(/^flotilla server --join https:\/\/127\.0\.0\.1:\d+ --token K10[0-9a-f]+::[a-z0-9]{6}\.[a-z0-9]{16} --name b --advertise-address 127\.0\.0\.1 /);
    // The printed command, on "another machine": only its data directory differs here.
    const args = (command ?? "").split(" ").slice(1).map((arg) => (arg.startsWith("--data-dir=") ? `--data-dir=${secondDir}` : arg));
    second = new Daemon(flotillaBin, args, join(workDir, "b.log"));
    const listed = await waitFor(async () => {
      const out = (await members("list")).stdout;
      return /^b +[0-9a-f]+ +false +false /m.test(out) ? out : undefined;
    }, { timeoutMs: startTimeoutMs, intervalMs: 500, description: "the second replica to join the store" }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${serverLog("b")}`);
    });
    const id = /^b +([0-9a-f]+)/m.exec(listed)?.[1] ?? "";
    // Removed while it runs: with two voters, stopping one first would leave no quorum to commit the removal.
    const removed = await members("remove", "b");
    expect(removed.stderr).toBe("");
    expect(removed.stdout).toBe(`member b (${id}) removed from the store; stop its flotilla server and delete its data directory before it joins again\n`);
    expect((await members("list")).stdout).not.toMatch(/^b /m);
    await second.stop();
  });
});
