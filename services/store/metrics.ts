/** The store's Prometheus metrics, under etcd's metric names so existing dashboards work. */
import { Gauge, type Registry } from "../../libs/metrics/index.ts";
import type { StoreContext } from "./context.ts";

export function registerStoreMetrics(registry: Registry, context: StoreContext): void {
  const { node, stateMachine } = context;
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  gauge("etcd_server_has_leader", "Whether a leader exists (1) or not (0).", () => (node.leaderId === 0 ? 0 : 1));
  gauge("etcd_server_is_leader", "Whether this member is the leader (1) or not (0).", () => (node.isLeader ? 1 : 0));
  gauge("etcd_server_is_learner", "Whether this member is a learner (1) or not (0).", () => (node.confState.learners.includes(node.id) ? 1 : 0));
  gauge("etcd_server_proposals_committed_total", "Entries applied by this member.", () => node.appliedIndex);
  gauge("etcd_server_proposals_applied_total", "Entries applied by this member.", () => node.appliedIndex);
  gauge("etcd_mvcc_db_total_size_in_bytes", "Bytes of stored key-space records.", () => stateMachine.sizeBytes);
  gauge("etcd_debugging_mvcc_current_revision", "The key space's current revision.", () => stateMachine.mvcc.currentRevision);
  gauge("etcd_debugging_mvcc_compact_revision", "The key space's compacted revision.", () => stateMachine.mvcc.compactRevision);
  gauge("etcd_debugging_mvcc_watcher_total", "Watchers registered on this member.", () => stateMachine.watchHub.stats.watchers);
  gauge("etcd_debugging_mvcc_slow_watcher_total", "Watchers reading history because they fell behind.", () => stateMachine.watchHub.stats.unsynced);
  gauge("flotilla_store_raft_persist_batches_total", "Fsynced batches written by the Raft loop.", () => node.counters.persistBatches);
  gauge("flotilla_store_raft_snapshots_total", "Snapshots this member created.", () => node.counters.snapshotsCreated);
}
