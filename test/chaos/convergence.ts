/**
 * After a scenario: do all members hold the same data? Every member must reach the final
 * revision; then HashKV at that revision (a hash of the key space with its history) must agree,
 * and a serializable range of the scenario's prefix at that revision, read from each member's
 * own copy, must be identical. A store without HashKV is judged on the contents alone.
 */
import { prefixEnd } from "../../libs/etcd-client/index.ts";
import { waitFor } from "../harness/wait.ts";
import { errorText } from "./admin.ts";
import type { ClientPool } from "./client-pool.ts";
import type { LabCluster, LabMember } from "./lab-cluster.ts";

export interface Convergence {
  readonly ok: boolean;
  readonly detail: string;
}

const catchUpTimeoutMs = 30_000;

async function memberRevision(cluster: LabCluster, member: LabMember): Promise<number> {
  const status = await cluster.admin.status(member.clientUrl);
  return Number(status.header?.revision ?? 0);
}

async function hashes(cluster: LabCluster, members: readonly LabMember[], revision: number): Promise<Map<string, string> | string> {
  const byMember = new Map<string, string>();
  for (const member of members) {
    try {
      const response = await cluster.admin.hashKv(member.clientUrl, revision);
      byMember.set(member.name, response.hash.toString(16));
    } catch (error) {
      return `HashKV unavailable on ${member.name} (${errorText(error)})`;
    }
  }
  return byMember;
}

async function contents(pool: ClientPool, members: readonly LabMember[], prefix: string, revision: number): Promise<Map<string, string>> {
  const byMember = new Map<string, string>();
  for (const member of members) {
    const response = await pool.clientFor(member).range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), revision, serializable: true });
    const lines = response.kvs.map((kv) => `${kv.key.toString("utf8")}=${kv.value.toString("utf8")}@${kv.mod_revision}`);
    byMember.set(member.name, lines.join("\n"));
  }
  return byMember;
}

function allEqual(values: Iterable<string>): boolean {
  return new Set(values).size <= 1;
}

export async function checkConvergence(cluster: LabCluster, pool: ClientPool, prefix: string, revision: number): Promise<Convergence> {
  const members = cluster.members.filter((member) => cluster.isRunning(member) && !member.removed);
  try {
    await waitFor(
      async () => ((await Promise.all(members.map(async (member) => memberRevision(cluster, member)))).every((seen) => seen >= revision) ? true : undefined),
      { timeoutMs: catchUpTimeoutMs, intervalMs: 100, description: `every member to reach revision ${revision}` },
    );
  } catch (error) {
    return { ok: false, detail: errorText(error) };
  }
  const hashed = await hashes(cluster, members, revision);
  let byContent: Map<string, string>;
  try {
    byContent = await contents(pool, members, prefix, revision);
  } catch (error) {
    return { ok: false, detail: `could not read every member's copy: ${errorText(error)}` };
  }
  const contentOk = allEqual(byContent.values());
  const keyCount = (byContent.values().next().value ?? "").split("\n").filter((line) => line !== "").length;
  const contentText = contentOk ? `contents equal (${keyCount} keys)` : `CONTENTS DIFFER: ${[...byContent.entries()].map(([name, text]) => `${name}: ${text.split("\n").length} keys`).join("; ")}`;
  if (typeof hashed === "string") return { ok: contentOk, detail: `${members.length} members at revision ${revision}: ${hashed}; ${contentText}` };
  const hashOk = allEqual(hashed.values());
  const hashText = hashOk ? `HashKV ${hashed.values().next().value ?? "?"} equal` : `HASHKV DIFFERS: ${[...hashed.entries()].map(([name, hash]) => `${name}=${hash}`).join(" ")}`;
  return { ok: contentOk && hashOk, detail: `${members.length} members at revision ${revision}: ${hashText}; ${contentText}` };
}
