/**
 * Finding the victims and healing: the store leader (Maintenance.Status on each server's client
 * URL: etcdctl `endpoint status` gets a protocol error from Flotilla's store, so the store chaos
 * harness's gRPC AdminClient asks instead), the replica holding the kube-controller-manager
 * Lease, and nftables partitions inside the server namespaces.
 */
import { execFileSync } from "node:child_process";
import { findResource } from "../../../libs/api/index.ts";
import type { HttpApiClient } from "../../../libs/client/index.ts";
import { waitFor } from "../../harness/wait.ts";
import type { AdminClient } from "../admin.ts";
import { servers, storeClientUrl, type Testbed, type TestbedHost } from "./testbed.ts";

const chaosTable = "flotilla_cluster_chaos";
/** How long the store may take to agree on a leader again after a fault is healed. */
export const storeRecoveryTimeoutMs = 60_000;

/** Each server's view: its member id and the leader it knows (undefined when it did not answer). */
async function statuses(admin: AdminClient, testbed: Testbed): Promise<{ host: TestbedHost; memberId: string; leader: string }[]> {
  const answers = await Promise.all(servers(testbed).map(async (host) => {
    try {
      const status = await admin.status(storeClientUrl(host));
      return { host, memberId: String(status.header?.member_id ?? ""), leader: String(status.leader) };
    } catch {
      return undefined;
    }
  }));
  return answers.filter((answer) => answer !== undefined);
}

/** The server whose store member leads, as a majority of answering members says. */
export async function storeLeader(admin: AdminClient, testbed: Testbed): Promise<TestbedHost | undefined> {
  const answers = await statuses(admin, testbed);
  for (const answer of answers) {
    const agreeing = answers.filter((other) => other.leader === answer.memberId).length;
    if (answer.leader === answer.memberId && agreeing * 2 > servers(testbed).length) return answer.host;
  }
  return undefined;
}

/** Every server answers and all name the same leader. */
export async function waitStoreHealthy(admin: AdminClient, testbed: Testbed): Promise<void> {
  await waitFor(async () => {
    const answers = await statuses(admin, testbed);
    const leaders = new Set(answers.map((answer) => answer.leader));
    return answers.length === servers(testbed).length && leaders.size === 1 && !leaders.has("0") ? true : undefined;
  }, { timeoutMs: storeRecoveryTimeoutMs, intervalMs: 250, description: "every store member up, agreeing on one leader" });
}

/** The server named in the kube-controller-manager Lease's holderIdentity (`host_<name>_suffix`). */
export async function controllerHolder(client: HttpApiClient, testbed: Testbed): Promise<TestbedHost | undefined> {
  const leases = findResource("coordination.k8s.io", "v1", "leases");
  if (leases === undefined) throw new Error("leases is not a known resource");
  const lease = (await client.get(leases, "kube-system", "kube-controller-manager")) as { spec?: { holderIdentity?: string } };
  const holder = lease.spec?.holderIdentity ?? "";
  return servers(testbed).find((host) => holder.includes(`_${host.name}_`));
}

function nft(host: TestbedHost, script: string): void {
  execFileSync("nsenter", [`--net=/var/run/netns/${host.namespace}`, "nft", "-f", "-"], { input: script, stdio: ["pipe", "ignore", "pipe"] });
}

/** Drops all traffic between `hosts` and `others`, in both directions, inside each of `hosts`. */
export function partition(hosts: readonly TestbedHost[], others: readonly TestbedHost[]): void {
  const set = (group: readonly TestbedHost[]): string => `{ ${group.map((host) => host.ip).join(", ")} }`;
  const rules = (blocked: string): string => [
    `add table inet ${chaosTable}`,
    `add chain inet ${chaosTable} in { type filter hook input priority -10; policy accept; }`,
    `add chain inet ${chaosTable} out { type filter hook output priority -10; policy accept; }`,
    `add rule inet ${chaosTable} in ip saddr ${blocked} drop`,
    `add rule inet ${chaosTable} out ip daddr ${blocked} drop`,
  ].join("\n");
  for (const host of hosts) nft(host, rules(set(others)));
  for (const host of others) nft(host, rules(set(hosts)));
}

export function heal(testbed: Testbed): void {
  for (const host of testbed.hosts) {
    try {
      nft(host, `delete table inet ${chaosTable}`);
    } catch {
      // No table: nothing to heal on this host.
    }
  }
}
