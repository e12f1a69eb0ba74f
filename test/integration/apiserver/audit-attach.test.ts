/**
 * pods/attach through a real `flotilla server` (node API on) and the test agent
 * (test/harness/test-agent.ts), whose containers' process is `cat` as attach sees it: kubectl
 * attach -i over WebSocket v5 sends stdin, closes it (v5's close signal), and gets the output and
 * a clean exit; the container parameter is checked as for exec.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeApiServer } from "../../harness/node-api-server.ts";
import type { RunResult } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const commandTimeoutMs = 30_000;
const nodeName = "attach-node";

describe("kubectl attach through the node API", () => {
  let server: NodeApiServer;

  async function kubectl(args: readonly string[], input?: string, extraEnvironment: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    return server.kubectl(["-n", "apps", ...args], input, extraEnvironment);
  }

  beforeAll(async () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "echo", namespace: "apps" }, spec: { nodeName, containers: [{ name: "main", image: "flotilla/busybox:1", stdin: true, stdinOnce: true }] } };
    server = await NodeApiServer.start({ name: "attach", nodeName, namespace: "apps", objects: [pod] });
  });

  afterAll(async () => {
    await server.stop();
  });

  it("kubectl attach -i sends stdin to the container's process, gets its output, and exits 0 once stdin is closed", async () => {
    // The agent's stream may still be connecting: retry until the session opens.
    const attached = await waitFor(
      async () => {
        const result = await kubectl(["attach", "-i", "echo"], "hello through attach\nsecond line\n");
        return result.code === 0 ? result : undefined;
      },
      { timeoutMs: commandTimeoutMs, description: "kubectl attach -i to succeed" },
    );
    expect(attached.stdout).toBe("hello through attach\nsecond line\n");
    expect(attached.stderr).toBe("If you don't see a command prompt, try pressing enter.\n");
  });

  it("kubectl attach -c with an unknown container is refused before any session opens", async () => {
    const refused = await kubectl(["attach", "-i", "echo", "-c", "nope"], "x\n");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("nope");
  });

  it("a plain attach request without a WebSocket upgrade gets upstream's 400", async () => {
    const plain = await kubectl(["get", "--raw", "/api/v1/namespaces/apps/pods/echo/attach?stdout=true"]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain("Upgrade request required");
  });
});
