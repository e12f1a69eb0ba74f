/**
 * A `flotilla server` (controllers and scheduler off, node API on) with the test agent
 * (test-agent.ts) joined to it by a bootstrap token: the set-up of the streaming tests (logs, exec,
 * attach, port-forward), where the agent's answers are known and no container runs. The test agent
 * serves every container's log from one file, `podLogFile`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { caHashOf, createToken, formatJoinToken } from "../../libs/pki/index.ts";
import { bootstrapTokenSecret } from "../../services/nodeapi/index.ts";
import { freePorts } from "./ports.ts";
import { Daemon, run, type RunResult } from "./process.ts";
import { TestAgent } from "./test-agent.ts";
import { waitFor } from "./wait.ts";

const flotillaBin = join(resolve(import.meta.dirname, "../.."), "scripts/flotilla");
const kubectlBin = "/usr/bin/kubectl";
const commandTimeoutMs = 30_000;
const startTimeoutMs = 45_000;
const serverLogTailChars = 4000;
const joinTokenTtlMs = 3_600_000;

export interface NodeApiServerOptions {
  /** Part of the temporary directory's name. */
  readonly name: string;
  /** The node the test agent joins as. */
  readonly nodeName: string;
  /** Made besides kube-system; the tests' objects live there. */
  readonly namespace: string;
  /** What every container's log holds at the start. */
  readonly podLog?: string;
  /** Objects applied with the namespaces, before the agent joins. */
  readonly objects?: readonly object[];
}

export class NodeApiServer {
  readonly workDir: string;
  readonly kubeconfig: string;
  /** The environment for kubectl and the flotilla CLI: KUBECONFIG set to the admin kubeconfig. */
  readonly environment: NodeJS.ProcessEnv;
  readonly podLogFile: string;
  readonly #daemon: Daemon;
  #agent: TestAgent | undefined;

  private constructor(workDir: string, daemon: Daemon) {
    this.workDir = workDir;
    this.#daemon = daemon;
    this.kubeconfig = join(workDir, "server", "admin.kubeconfig");
    this.environment = { ...process.env, KUBECONFIG: this.kubeconfig };
    this.podLogFile = join(workDir, "pod.log");
  }

  /** Starts the server, waits for /readyz, applies the namespaces, the join token and `objects`, and joins the agent. */
  static async start(options: NodeApiServerOptions): Promise<NodeApiServer> {
    const workDir = mkdtempSync(join(tmpdir(), `flotilla-${options.name}-`));
    const dataDir = join(workDir, "server");
    const [api, storeClient, storePeer, nodeApi] = await freePorts(4);
    const flags = ["server", "--cluster-init", "--disable-controllers", "--disable-scheduler", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`, `--node-api-port=${nodeApi}`];
    const server = new NodeApiServer(workDir, new Daemon(flotillaBin, flags, join(workDir, "server.log")));
    await server.#waitReady();
    const token = createToken({ usages: ["join"], nowMs: Date.now(), ttlMs: joinTokenTtlMs });
    const manifests = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: options.namespace } },
      bootstrapTokenSecret(token.record.id, token.record.secretSha256Hex, token.record.expiresAtMs),
      ...(options.objects ?? []),
    ];
    await server.kubectlOk(["apply", "-f", "-"], manifests.map((object) => stringify(object)).join("---\n"));
    writeFileSync(server.podLogFile, options.podLog ?? "");
    const joinToken = formatJoinToken({ caHashHex: caHashOf(readFileSync(join(dataDir, "ca.crt"), "utf8")), ...token.credential });
    server.#agent = await TestAgent.start({ server: `127.0.0.1:${nodeApi}`, token: joinToken, nodeName: options.nodeName, dataDir: join(workDir, "agent"), logFile: server.podLogFile });
    return server;
  }

  async #waitReady(): Promise<void> {
    const answersReadyz = async (): Promise<true | undefined> =>
      existsSync(this.kubeconfig) && (await run(kubectlBin, ["--kubeconfig", this.kubeconfig, "get", "--raw", "/readyz"], { timeoutMs: commandTimeoutMs })).stdout === "ok" ? true : undefined;
    await waitFor(answersReadyz, { timeoutMs: startTimeoutMs, description: "flotilla server to answer /readyz" }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${this.serverLog()}`);
    });
  }

  get agent(): TestAgent {
    if (this.#agent === undefined) throw new Error("the test agent has not joined");
    return this.#agent;
  }

  serverLog(): string {
    const path = join(this.workDir, "server.log");
    return existsSync(path) ? readFileSync(path, "utf8").slice(-serverLogTailChars) : "";
  }

  /** kubectl with the admin kubeconfig; the result as it is, for tests of exit codes and stderr. */
  async kubectl(args: readonly string[], input?: string, extraEnvironment: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    return run(kubectlBin, args, { timeoutMs: commandTimeoutMs, env: { ...this.environment, ...extraEnvironment }, ...(input === undefined ? {} : { input }) });
  }

  /** kubectl that must succeed: its stdout. */
  async kubectlOk(args: readonly string[], input?: string): Promise<string> {
    const result = await this.kubectl(args, input);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  }

  async stop(): Promise<void> {
    await this.#agent?.stop();
    await this.#daemon.stop();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
