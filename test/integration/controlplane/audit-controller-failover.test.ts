/**
 * Issue 5: "killing the replica that holds the controller lease hands the work to another without
 * extra or lost pods". Three `flotilla server` replicas (one --cluster-init, two --join) run the
 * controllers and the scheduler under their kube-system Leases; a fake kubelet runs two nodes.
 * A Deployment of 4 is ready; the kube-controller-manager holder gets SIGKILL, then the
 * Deployment is scaled to 6 and one pod deleted. Another replica takes the Lease, and exactly 7
 * pods were ever made (4 + 2 + 1 replacement): the set of pods seen (polled every 100 ms) and the
 * ReplicaSet's SuccessfulCreate events agree, and 6 end Running and Ready.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource, isStatusError, type Deployment, type Event, type Lease, type Pod } from "../../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig } from "../../../libs/client/index.ts";
import { isRunningAndReady } from "../../harness/controlplane-server.ts";
import { FakeKubelet } from "../../harness/fake-kubelet.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const flotillaBin = join(resolve(import.meta.dirname, "../../.."), "scripts/flotilla");
const startTimeoutMs = 90_000;
const convergeTimeoutMs = 30_000;
/** Lease duration 15 s after the last renewal, jittered retries, a store election, a busy machine. */
const failoverTimeoutMs = 45_000;
const pollIntervalMs = 100;

const pods = findResource("", "v1", "pods")!;
const deployments = findResource("apps", "v1", "deployments")!;
const events = findResource("", "v1", "events")!;
const leases = findResource("coordination.k8s.io", "v1", "leases")!;

const deployment: Deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default" },
  spec: { replicas: 4, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1" }] } } },
};

describe("controller-manager failover in three flotilla server replicas", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-audit-failover-"));
  const replicaNames = ["c1", "c2", "c3"] as const;
  const daemons = new Map<string, Daemon>();
  let client: HttpApiClient;
  let kubelet: FakeKubelet | undefined;

  const logTail = (name: string): string => (existsSync(join(workDir, `${name}.log`)) ? readFileSync(join(workDir, `${name}.log`), "utf8").slice(-3000) : "");

  async function serving(apiUrl: string, name: string): Promise<void> {
    const kubeconfig = join(workDir, name, "admin.kubeconfig");
    await waitFor(
      async () => {
        if (!existsSync(kubeconfig)) return undefined;
        const probe = new HttpApiClient({ ...optionsFromKubeconfig(readFileSync(kubeconfig, "utf8")), servers: [apiUrl] });
        try {
          await probe.list(pods, "default", { limit: 1 });
          return true;
        } finally {
          probe.close();
        }
      },
      { timeoutMs: startTimeoutMs, description: `replica ${name} to serve` },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${logTail(name)}`);
    });
  }

  async function webPods(): Promise<Pod[]> {
    return (await client.list<Pod>(pods, "default", { labelSelector: "app=web" })).items;
  }

  beforeAll(async () => {
    const ports = await freePorts(4 * replicaNames.length);
    const apiUrls = replicaNames.map((_, index) => `https://127.0.0.1:${ports[index * 4]}`);
    for (const [index, name] of replicaNames.entries()) {
      const [api, storeClient, storePeer, nodeApi] = ports.slice(index * 4, index * 4 + 4);
      const flags = ["server", `--name=${name}`, `--data-dir=${join(workDir, name)}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`, `--node-api-port=${nodeApi}`];
      if (index === 0) {
        flags.push("--cluster-init");
      } else {
        const token = await run(flotillaBin, ["token", "create", `--data-dir=${join(workDir, "c1")}`, "--kind=server"], { timeoutMs: 30_000 });
        if (token.code !== 0) throw new Error(`token create: ${token.stderr}`);
        flags.push(`--join=${apiUrls[0] ?? ""}`, `--token=${token.stdout.trim()}`);
      }
      daemons.set(name, new Daemon(flotillaBin, flags, join(workDir, `${name}.log`)));
      await serving(apiUrls[index] ?? "", name);
    }
    client = new HttpApiClient({ ...optionsFromKubeconfig(readFileSync(join(workDir, "c1", "admin.kubeconfig"), "utf8")), servers: apiUrls });
    kubelet = new FakeKubelet(client);
    await kubelet.addNodes([{ name: "node-a" }, { name: "node-b" }]);
    kubelet.start();
  }, 3 * startTimeoutMs);

  afterAll(async () => {
    kubelet?.stop();
    client?.close();
    for (const name of [...replicaNames].reverse()) await daemons.get(name)?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("after SIGKILL of the kube-controller-manager holder another replica scales and replaces with no extra or lost pod", async () => {
    await client.create(deployments, deployment);
    await waitFor(async () => ((await webPods()).filter(isRunningAndReady).length === 4 ? true : undefined), { timeoutMs: convergeTimeoutMs, description: "4 ready web pods" });
    const seen = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await webPods().then(
          (items) => items.forEach((pod) => seen.add(pod.metadata.uid ?? "")),
          () => undefined,
        );
        await new Promise((done) => setTimeout(done, pollIntervalMs));
      }
    })();
    const before = await client.get<Lease>(leases, "kube-system", "kube-controller-manager");
    const leader = before.spec?.holderIdentity?.split("_")[1] ?? "";
    expect(replicaNames).toContain(leader);
    await daemons.get(leader)?.kill();
    // The killed replica may have led the store too: retry the writes through its election.
    await waitFor(() => client.patch(deployments, "default", "web", "merge", { spec: { replicas: 6 } }).then(() => true), { timeoutMs: failoverTimeoutMs, intervalMs: 500, description: "the scale to 6 to land" });
    const victim = (await webPods())[0]?.metadata.name ?? "";
    await waitFor(
      () => client.delete(pods, "default", victim, { gracePeriodSeconds: 0 }).then(() => true, (error: unknown) => (isStatusError(error, "NotFound") ? true : Promise.reject(error as Error))),
      { timeoutMs: failoverTimeoutMs, intervalMs: 500, description: `pod ${victim} deleted` },
    );
    const ready = await waitFor(
      async () => {
        const items = (await webPods()).filter((pod) => (pod.metadata.deletionTimestamp ?? null) === null);
        return items.length === 6 && items.every(isRunningAndReady) ? items : undefined;
      },
      { timeoutMs: failoverTimeoutMs, intervalMs: 250, description: `6 ready web pods after ${leader} was killed` },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${replicaNames.filter((name) => name !== leader).map(logTail).join("\n---\n")}`);
    });
    const created = await waitFor(
      async () => {
        const found = (await client.list<Event>(events, "default")).items.filter((event) => event.reason === "SuccessfulCreate" && event.involvedObject.kind === "ReplicaSet");
        const total = found.reduce((sum, event) => sum + (event.count ?? 1), 0);
        return total >= 7 ? total : undefined;
      },
      { timeoutMs: convergeTimeoutMs, description: "7 SuccessfulCreate events of the ReplicaSet" },
    );
    polling = false;
    await poller;
    for (const pod of ready) seen.add(pod.metadata.uid ?? "");
    const after = await client.get<Lease>(leases, "kube-system", "kube-controller-manager");
    expect(replicaNames.filter((name) => name !== leader)).toContain(after.spec?.holderIdentity?.split("_")[1]);
    expect(created).toBe(7);
    expect(seen.size).toBe(7);
    expect((await webPods()).filter((pod) => (pod.metadata.deletionTimestamp ?? null) === null)).toHaveLength(6);
  }, 3 * failoverTimeoutMs);
});
