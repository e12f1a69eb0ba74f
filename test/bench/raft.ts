/**
 * Throughput of the Raft core alone: entries committed per second through an in-memory
 * 3-replica cluster with instant delivery and no faults. Each round proposes a batch of entries
 * on the leader, then pumps Readys and messages until the leader has committed all of them.
 * Persistence is a MemoryStorage (no disk), so this measures the algorithm and its bookkeeping.
 *   node --import tsx test/bench/raft.ts
 */
import { createPrng } from "../../libs/prng/index.ts";
import { EntryType, MemoryStorage, RawNode, Role, defaultRaftBounds } from "../../libs/raft/index.ts";
import type { Message, NodeId } from "../../libs/raft/index.ts";

/** Message hops pumped per batch before the benchmark gives up (a stuck cluster is a bug). */
const pumpRoundsMax = 10_000;
/** Compact each log once it holds this many applied entries, so memory stays flat. */
const compactEveryEntries = 4_096;
const replicas = 3;

interface BenchCase {
  readonly entryBytes: number;
  readonly batchEntries: number;
  readonly totalEntries: number;
}

const cases: readonly BenchCase[] = [
  { entryBytes: 64, batchEntries: 1, totalEntries: 20_000 },
  { entryBytes: 64, batchEntries: 16, totalEntries: 100_000 },
  { entryBytes: 64, batchEntries: 256, totalEntries: 300_000 },
  { entryBytes: 1024, batchEntries: 1, totalEntries: 20_000 },
  { entryBytes: 1024, batchEntries: 16, totalEntries: 100_000 },
  { entryBytes: 1024, batchEntries: 256, totalEntries: 200_000 },
];
/** Run first and not reported, so the JIT has compiled the hot paths before measuring. */
const warmUpCases: readonly BenchCase[] = [
  { entryBytes: 64, batchEntries: 1, totalEntries: 5_000 },
  { entryBytes: 64, batchEntries: 256, totalEntries: 50_000 },
];

interface BenchNode {
  readonly id: NodeId;
  readonly raw: RawNode;
  readonly storage: MemoryStorage;
  applied: number;
  committedValues: number;
}

function newCluster(): BenchNode[] {
  const voters = Array.from({ length: replicas }, (_, i) => i + 1);
  return voters.map((id) => {
    const storage = new MemoryStorage({ voters, learners: [] });
    const raw = new RawNode({
      ...defaultRaftBounds,
      id,
      storage,
      preVote: true,
      checkQuorum: true,
      disableProposalForwarding: false,
      prng: createPrng(id),
    });
    return { id, raw, storage, applied: 0, committedValues: 0 };
  });
}

/** Handles every node's Ready (persist to memory, send, apply, advance) and delivers at once. */
function pump(nodes: readonly BenchNode[]): void {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  for (let round = 0; round < pumpRoundsMax; round++) {
    const outbox: Message[] = [];
    for (const node of nodes) handleReady(node, outbox);
    if (outbox.length === 0) return;
    for (const message of outbox) byId.get(message.to)?.raw.step(message);
  }
  throw new Error(`cluster did not settle within ${pumpRoundsMax} rounds`);
}

function handleReady(node: BenchNode, outbox: Message[]): void {
  if (!node.raw.hasReady()) return;
  const ready = node.raw.ready();
  outbox.push(...ready.messages);
  if (ready.snapshot !== undefined) node.storage.applySnapshot(ready.snapshot);
  node.storage.append(ready.entries);
  if (ready.hardState !== undefined) node.storage.setHardState(ready.hardState);
  outbox.push(...ready.messagesAfterPersist);
  for (const entry of ready.committedEntries) {
    if (entry.type === EntryType.Normal && entry.data.length > 0) node.committedValues++;
    node.applied = entry.index;
  }
  node.raw.advance();
  if (node.applied - node.storage.firstIndex() >= compactEveryEntries) {
    node.storage.createSnapshot(node.applied, node.raw.status().confState, new Uint8Array(0));
    node.storage.compact(node.applied);
  }
}

function electLeader(nodes: readonly BenchNode[]): BenchNode {
  const first = nodes[0];
  if (first === undefined) throw new Error("no nodes");
  // Founding members apply their committed bootstrap entries first; until then none may campaign.
  pump(nodes);
  first.raw.campaign();
  pump(nodes);
  const leader = nodes.find((node) => node.raw.status().softState.role === Role.Leader);
  if (leader === undefined) throw new Error("no leader after campaigning");
  return leader;
}

interface Timing {
  readonly wallSeconds: number;
  /** CPU time of this process: on a shared machine it says more than wall time. */
  readonly cpuSeconds: number;
}

/** Measures how long it takes to commit `totalEntries` entries on the leader. */
function runCase(benchCase: BenchCase): Timing {
  const nodes = newCluster();
  const leader = electLeader(nodes);
  const payload = new Uint8Array(benchCase.entryBytes).fill(0x61);
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  let proposed = 0;
  while (proposed < benchCase.totalEntries) {
    const batch = Math.min(benchCase.batchEntries, benchCase.totalEntries - proposed);
    for (let i = 0; i < batch; i++) leader.raw.propose(payload);
    proposed += batch;
    pump(nodes);
    if (leader.committedValues !== proposed) throw new Error(`leader committed ${leader.committedValues} of ${proposed} entries`);
  }
  const cpu = process.cpuUsage(cpuStarted);
  return { wallSeconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function main(): void {
  for (const warmUp of warmUpCases) runCase(warmUp);
  const header = ["entry bytes", "batch", "entries", "wall s", "cpu s", "entries/s", "entries/cpu-s", "MiB/s"];
  const rows = cases.map((benchCase) => {
    const { wallSeconds, cpuSeconds } = runCase(benchCase);
    const perSecond = benchCase.totalEntries / wallSeconds;
    return [
      String(benchCase.entryBytes),
      String(benchCase.batchEntries),
      String(benchCase.totalEntries),
      wallSeconds.toFixed(2),
      cpuSeconds.toFixed(2),
      Math.round(perSecond).toLocaleString("en-US"),
      Math.round(benchCase.totalEntries / cpuSeconds).toLocaleString("en-US"),
      ((perSecond * benchCase.entryBytes) / (1024 * 1024)).toFixed(1),
    ];
  });
  console.log(`Raft core, ${replicas} replicas in one process, instant delivery, MemoryStorage, committed on the leader:`);
  printTable(header, rows);
}

function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padStart(widths[column] ?? 0)).join("  ");
  console.log(line(header));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const row of rows) console.log(line(row));
}

main();
