/**
 * `flotilla logs` and `flotilla exec` through a real `flotilla server` (node API on) and the test
 * agent (test/harness/test-agent.ts), which serves every container's log from a file and runs
 * exec commands on this machine: the CLI's output must match kubectl's for the same requests.
 */
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeApiServer } from "../../harness/node-api-server.ts";
import { run, type RunResult } from "../../harness/process.ts";

const flotillaBin = join(resolve(import.meta.dirname, "../../.."), "scripts/flotilla");
const commandTimeoutMs = 30_000;
const nodeName = "cli-node";

describe("flotilla logs and exec through the node API", () => {
  let server: NodeApiServer;

  async function flotilla(args: readonly string[], input?: string): Promise<RunResult> {
    const [verb = "", ...rest] = args;
    return run(flotillaBin, [verb, "-n", "apps", ...rest], { timeoutMs: commandTimeoutMs, env: server.environment, ...(input === undefined ? {} : { input }) });
  }
  async function kubectl(args: readonly string[], input?: string): Promise<RunResult> {
    return server.kubectl(["-n", "apps", ...args], input);
  }

  beforeAll(async () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "shell", namespace: "apps", labels: { app: "shell" } }, spec: { nodeName, containers: [{ name: "main", image: "flotilla/busybox:1" }] } };
    server = await NodeApiServer.start({ name: "cli-streams", nodeName, namespace: "apps", podLog: "line one\nline two\nline three\n", objects: [pod] });
  });

  afterAll(async () => {
    await server.stop();
  });

  it("prints a pod's log with --tail as kubectl does", async () => {
    const ours = await flotilla(["logs", "shell", "--tail=2"]);
    expect(ours.stderr).toBe("");
    expect(ours.stdout).toBe("line two\nline three\n");
    expect(ours.stdout).toBe((await kubectl(["logs", "shell", "--tail=2"])).stdout);
  });

  it("runs exec -i with stdin, separating stdout and stderr and returning the exit code", async () => {
    const ours = await flotilla(["exec", "-i", "shell", "--", "sh", "-c", "cat; echo oops >&2; exit 3"], "hello through the node API\n");
    expect([ours.code, ours.stdout, ours.stderr]).toEqual([3, "hello through the node API\n", "oops\n"]);
    const theirs = await kubectl(["exec", "-i", "shell", "--", "sh", "-c", "cat; echo oops >&2; exit 3"], "hello through the node API\n");
    expect([theirs.code, theirs.stdout]).toEqual([3, "hello through the node API\n"]);
    const succeeded = await flotilla(["exec", "pod/shell", "--", "echo", "fine"]);
    expect([succeeded.code, succeeded.stdout]).toEqual([0, "fine\n"]);
  });

  it("answers NotFound for a pod that does not exist", async () => {
    const missing = await flotilla(["logs", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
  });
});
