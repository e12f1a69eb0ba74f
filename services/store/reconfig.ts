/**
 * etcd's strict reconfiguration checks (its --strict-reconfig-check, on by default) and the peer
 * connectivity they rest on. A membership change is refused when it could leave the cluster
 * without a quorum of started, connected voters:
 *  - "started" is etcd's IsStarted: the member has published its name through the log;
 *  - "connected" is etcd's transport ActiveSince: the peer has answered continuously for at least
 *    HealthInterval (5 s). Flotilla runs these checks on the leader (membership changes are
 *    forwarded there), whose Raft progress says which followers are answering.
 * Pure: no clock, no I/O; the caller samples Raft and passes the time.
 */
import { ProgressState, type NodeId, type ProgressStatus } from "../../libs/raft/index.ts";
import { etcdErrors, type EtcdError } from "./errors.ts";

/** etcd's HealthInterval: a peer must have been connected this long to count toward a quorum. */
export const healthIntervalMs = 5000;
/** etcd's default --max-learners. */
export const learnersMax = 1;

/** What the checks need to know about the cluster, as seen by the member that decides. */
export interface ClusterView {
  readonly selfId: NodeId;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Members that have published their name (etcd's IsStarted). */
  readonly started: ReadonlySet<NodeId>;
  /** Since when (ms) each peer has been continuously connected; absent when it is not. */
  readonly connectedSinceMs: ReadonlyMap<NodeId, number>;
  readonly nowMs: number;
}

const quorumOf = (members: number): number => Math.floor(members / 2) + 1;

function connectedLongEnough(view: ClusterView, id: NodeId): boolean {
  if (id === view.selfId) return true;
  const since = view.connectedSinceMs.get(id);
  return since !== undefined && since <= view.nowMs - healthIntervalMs;
}

/** etcd's IsReadyToAddVotingMember: the started voters would still be a quorum with one more voter. */
export function readyToAddVoter(view: ClusterView): boolean {
  const started = view.voters.filter((id) => view.started.has(id)).length;
  const members = view.voters.length + 1;
  // A single member may add a second one even though two need both to commit (etcd's exception).
  if (started === 1 && members === 2) return true;
  return started >= quorumOf(members);
}

/** etcd's IsReadyToRemoveVotingMember: the other voters' started members are a quorum of them. */
export function readyToRemoveVoter(view: ClusterView, id: NodeId): boolean {
  const others = view.voters.filter((voter) => voter !== id);
  const started = others.filter((voter) => view.started.has(voter)).length;
  return started >= quorumOf(others.length);
}

/** etcd's IsReadyToPromoteMember: counting the learner as a started voter, the started voters are a quorum. */
export function readyToPromote(view: ClusterView): boolean {
  const started = 1 + view.voters.filter((id) => view.started.has(id)).length;
  return started >= quorumOf(view.voters.length + 1);
}

/** etcd's mayAddMember plus its learner limit; undefined when the member may be added. */
export function checkAddMember(view: ClusterView, isLearner: boolean): EtcdError | undefined {
  if (!isLearner && !readyToAddVoter(view)) return etcdErrors.memberNotEnoughStarted;
  if (!view.voters.every((id) => connectedLongEnough(view, id))) return etcdErrors.unhealthy;
  if (isLearner && view.learners.length >= learnersMax) return etcdErrors.tooManyLearners;
  return undefined;
}

/** etcd's mayRemoveMember; undefined when the member may be removed. */
export function checkRemoveMember(view: ClusterView, id: NodeId): EtcdError | undefined {
  if (view.learners.includes(id)) return undefined; // a learner holds no part of the quorum
  if (!view.voters.includes(id)) return etcdErrors.memberNotFound;
  if (!readyToRemoveVoter(view, id)) return etcdErrors.memberNotEnoughStarted;
  // A member that is down is not part of the active quorum: removing it is safe.
  if (id !== view.selfId && !view.connectedSinceMs.has(id)) return undefined;
  const active = view.voters.filter((voter) => connectedLongEnough(view, voter)).length;
  if (active - 1 < quorumOf(view.voters.length - 1)) return etcdErrors.unhealthy;
  return undefined;
}

/** etcd's checks before a promotion (the learner's catch-up is checked by Raft's driver). */
export function checkPromoteMember(view: ClusterView, id: NodeId): EtcdError | undefined {
  if (view.voters.includes(id)) return etcdErrors.memberNotLearner;
  if (!view.learners.includes(id)) return etcdErrors.memberNotFound;
  if (!readyToPromote(view)) return etcdErrors.memberNotEnoughStarted;
  return undefined;
}

/**
 * Which followers answer the leader right now, from its Raft progress (undefined when this member
 * does not lead). A follower counts while Raft has heard from it in the current CheckQuorum window
 * and is not probing: the transport's unreachable reports move a lost follower to probe at once,
 * while the window alone would keep it "active" for up to an election timeout.
 */
export function answeringPeers(selfId: NodeId, progress: ReadonlyMap<NodeId, ProgressStatus> | undefined): ReadonlySet<NodeId> | undefined {
  if (progress === undefined) return undefined;
  const answering = new Set<NodeId>();
  for (const [id, status] of progress) {
    if (id !== selfId && status.recentActive && status.state !== ProgressState.Probe) answering.add(id);
  }
  return answering;
}

/**
 * Since when each peer has been answering without a break. Fed one sample per heartbeat; a peer
 * not seen for `gapMs` (an election timeout: Raft's activity window) starts a new run when it
 * comes back, so a restarted member must again wait out healthIntervalMs.
 */
export class PeerActivity {
  readonly #gapMs: number;
  readonly #runs = new Map<NodeId, { sinceMs: number; lastSeenMs: number }>();

  constructor(gapMs: number) {
    this.#gapMs = gapMs;
  }

  /** One sample: the peers answering now, or undefined when this member does not lead (forget all). */
  observe(nowMs: number, answering: ReadonlySet<NodeId> | undefined): void {
    if (answering === undefined) {
      this.#runs.clear();
      return;
    }
    for (const id of answering) {
      const run = this.#runs.get(id);
      if (run === undefined || nowMs - run.lastSeenMs > this.#gapMs) this.#runs.set(id, { sinceMs: nowMs, lastSeenMs: nowMs });
      else run.lastSeenMs = nowMs;
    }
    for (const [id, run] of this.#runs) if (nowMs - run.lastSeenMs > this.#gapMs) this.#runs.delete(id);
  }

  /** The start of each peer's current run of answers. */
  connectedSince(): ReadonlyMap<NodeId, number> {
    return new Map([...this.#runs].map(([id, run]) => [id, run.sinceMs]));
  }
}
