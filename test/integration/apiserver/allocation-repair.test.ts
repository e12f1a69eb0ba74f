/**
 * The allocator repair loop in a real `flotilla server` (run by the controller-manager leader,
 * here every second): a node port taken in the store's bitmap by no Service (as a crash between
 * allocation and the Service write leaves it) is freed after three rounds, and a port a Service
 * uses that the bitmap lost is marked taken again, with a PortNotAllocated Warning Event on it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "../../../libs/etcd-client/index.ts";
import { createPrng } from "../../../libs/prng/index.ts";
import { parsePortRange } from "../../../services/apiserver/allocator/range.ts";
import { StoredRange, nodePortsKey } from "../../../services/apiserver/allocator/store.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const flotillaBin = join(resolve(import.meta.dirname, "../../.."), "scripts/flotilla");
const startTimeoutMs = 60_000;
const repairTimeoutMs = 20_000;
const commandTimeoutMs = 30_000;

describe("allocator repair in a flotilla server", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-repair-"));
  const kubeconfig = join(workDir, "d", "admin.kubeconfig");
  let daemon: Daemon;
  let store: EtcdClient;
  let ports: StoredRange;

  async function kubectl(...args: string[]): Promise<string> {
    const result = await run("kubectl", [`--kubeconfig=${kubeconfig}`, ...args], { timeoutMs: commandTimeoutMs });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${String(result.code)}: ${result.stderr}`);
    return result.stdout;
  }

  beforeAll(async () => {
    const [api, storeClient, storePeer, nodeApi] = await freePorts(4);
    const args = [
      "server",
      "--cluster-init",
      `--data-dir=${join(workDir, "d")}`,
      `--api-port=${api}`,
      `--store-client-port=${storeClient}`,
      `--store-peer-port=${storePeer}`,
      `--node-api-port=${nodeApi}`,
      "--disable-scheduler",
      "--allocator-repair-interval=1s",
    ];
    daemon = new Daemon(flotillaBin, args, join(workDir, "server.log"));
    await waitFor(async () => (existsSync(kubeconfig) && (await run("kubectl", [`--kubeconfig=${kubeconfig}`, "get", "--raw", "/readyz"], { timeoutMs: commandTimeoutMs })).stdout === "ok" ? true : undefined), {
      timeoutMs: startTimeoutMs,
      description: "flotilla server to answer /readyz",
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, "server.log"), "utf8").slice(-4000)}`);
    });
    store = new EtcdClient({ endpoints: [`http://127.0.0.1:${storeClient}`] });
    ports = new StoredRange(store, nodePortsKey, parsePortRange("30000-32767"), createPrng(7));
  }, startTimeoutMs + 10_000);

  afterAll(async () => {
    store?.close();
    await daemon?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  function serverLog(): string {
    return readFileSync(join(workDir, "server.log"), "utf8").slice(-4000);
  }

  it("frees a node port no Service holds after three rounds", async () => {
    await ports.allocate("30777");
    await waitFor(async () => ((await ports.isAllocated("30777")) ? undefined : true), { timeoutMs: repairTimeoutMs, intervalMs: 200, description: "the leaked port 30777 to be freed" }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${serverLog()}`);
    });
    // The log line reaches us through the server's stdout pipe, possibly after the store write we saw.
    const leakLine = "the node port 30777 appears to have leaked: cleaning up";
    await waitFor(async () => (serverLog().includes(leakLine) ? true : undefined), { timeoutMs: 10_000, intervalMs: 100, description: "the repair loop's leak log line" });
    expect(serverLog()).toContain(leakLine);
  });

  it("marks a Service's node port taken again when the bitmap lost it, with a Warning Event", async () => {
    const manifest = join(workDir, "svc.json");
    writeFileSync(manifest, JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, nodePort: 30500 }] } }));
    await kubectl("create", "-f", manifest);
    await ports.release("30500");
    await waitFor(async () => ((await ports.isAllocated("30500")) ? true : undefined), { timeoutMs: repairTimeoutMs, intervalMs: 200, description: "port 30500 to be taken again" });
    const events = await waitFor(
      async () => {
        const listed = await kubectl("get", "events", "-n", "default", "--field-selector", "involvedObject.name=web", "-o", "jsonpath={range .items[*]}{.reason}|{.type}|{.message}{\"\\n\"}{end}");
        return listed.includes("PortNotAllocated") ? listed : undefined;
      },
      { timeoutMs: repairTimeoutMs, intervalMs: 300, description: "a PortNotAllocated Event on the web Service" },
    );
    expect(events).toContain("PortNotAllocated|Warning|Port 30500 is not allocated; repairing");
  });
});
