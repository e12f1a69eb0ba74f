/**
 * One `flotilla server --cluster-init` for a controller test file, with two nodes run by a fake
 * kubelet: the admin client, kubectl with the admin kubeconfig, and waits on pods that carry the
 * server's log when they time out. stop() removes the server, the kubelet and the directory.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findResource } from "../../libs/api/index.ts";
import type { Pod } from "../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig } from "../../libs/client/index.ts";
import { FakeKubelet } from "./fake-kubelet.ts";
import { freePorts } from "./ports.ts";
import { Daemon, run } from "./process.ts";
import { waitFor } from "./wait.ts";

const flotillaBin = join(resolve(import.meta.dirname, "../.."), "scripts/flotilla");
const startTimeoutMs = 60_000;
const kubectlTimeoutMs = 30_000;
const serverLogTailChars = 6000;
const pods = findResource("", "v1", "pods")!;
const configMaps = findResource("", "v1", "configmaps")!;

export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === "Running" && (pod.status.conditions ?? []).some((condition) => condition.type === "Ready" && condition.status === "True");
}

export class ControlPlaneServer {
  readonly kubeconfig: string;
  readonly #workDir: string;
  readonly #daemon: Daemon;
  #client: HttpApiClient | undefined;
  #kubelet: FakeKubelet | undefined;

  private constructor(workDir: string, daemon: Daemon) {
    this.#workDir = workDir;
    this.#daemon = daemon;
    this.kubeconfig = join(workDir, "d", "admin.kubeconfig");
  }

  /** Starts the server, waits for the admin client to list, and starts nodes node-a and node-b. */
  static async start(name: string): Promise<ControlPlaneServer> {
    const workDir = mkdtempSync(join(tmpdir(), `flotilla-${name}-`));
    const [api, storeClient, storePeer] = await freePorts(3);
    const args = ["server", "--cluster-init", `--data-dir=${join(workDir, "d")}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`];
    const server = new ControlPlaneServer(workDir, new Daemon(flotillaBin, args, join(workDir, "server.log")));
    server.#client = await waitFor(
      async () => {
        if (!existsSync(server.kubeconfig)) return undefined;
        const candidate = new HttpApiClient(optionsFromKubeconfig(readFileSync(server.kubeconfig, "utf8")));
        await candidate.list(configMaps, "default", { limit: 1 });
        return candidate;
      },
      { timeoutMs: startTimeoutMs, description: "flotilla server to serve the admin client" },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${server.serverLog()}`);
    });
    server.#kubelet = new FakeKubelet(server.#client);
    await server.#kubelet.addNodes([{ name: "node-a" }, { name: "node-b" }]);
    server.#kubelet.start();
    return server;
  }

  get client(): HttpApiClient {
    if (this.#client === undefined) throw new Error("server not started");
    return this.#client;
  }

  get kubelet(): FakeKubelet {
    if (this.#kubelet === undefined) throw new Error("server not started");
    return this.#kubelet;
  }

  serverLog(): string {
    const path = join(this.#workDir, "server.log");
    return existsSync(path) ? readFileSync(path, "utf8").slice(-serverLogTailChars) : "";
  }

  async kubectl(...args: string[]): Promise<string> {
    const result = await run("kubectl", [`--kubeconfig=${this.kubeconfig}`, ...args], { timeoutMs: kubectlTimeoutMs });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${String(result.code)}: ${result.stderr}`);
    return result.stdout;
  }

  /** Pods in `default` matching the selector, not being deleted. */
  async podsWith(selector: string): Promise<Pod[]> {
    return (await this.client.list<Pod>(pods, "default", { labelSelector: selector })).items.filter((pod) => (pod.metadata.deletionTimestamp ?? null) === null);
  }

  async waitReady(selector: string, count: number, description: string, timeoutMs: number): Promise<Pod[]> {
    return await waitFor(
      async () => {
        const matching = await this.podsWith(selector);
        return matching.length === count && matching.every(isRunningAndReady) ? matching : undefined;
      },
      { timeoutMs, intervalMs: 200, description },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- server log ---\n${this.serverLog()}`);
    });
  }

  async stop(): Promise<void> {
    this.#kubelet?.stop();
    this.#client?.close();
    await this.#daemon.stop();
    rmSync(this.#workDir, { recursive: true, force: true });
  }
}
