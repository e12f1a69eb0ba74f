import { describe, expect, it } from "vitest";
import { ProgressState, type ProgressStatus } from "../../libs/raft/index.ts";
import { etcdErrors } from "./errors.ts";
import {
  PeerActivity,
  answeringPeers,
  checkAddMember,
  checkPromoteMember,
  checkRemoveMember,
  healthIntervalMs,
  readyToAddVoter,
  type ClusterView,
} from "./reconfig.ts";

const nowMs = 100_000;
const longAgoMs = nowMs - healthIntervalMs - 1;

/** Three voters (1 leads), all started and connected for longer than etcd's health interval. */
function healthyView(overrides: Partial<ClusterView> = {}): ClusterView {
  return {
    selfId: 1,
    voters: [1, 2, 3],
    learners: [],
    started: new Set([1, 2, 3]),
    connectedSinceMs: new Map([
      [2, longAgoMs],
      [3, longAgoMs],
    ]),
    nowMs,
    ...overrides,
  };
}

describe("strict reconfiguration checks", () => {
  it("checkAddMember() lets a healthy cluster add a voter or a learner", () => {
    expect(checkAddMember(healthyView(), false)).toBeUndefined();
    expect(checkAddMember(healthyView(), true)).toBeUndefined();
  });

  it("checkAddMember() refuses a voter when the started voters would not be a quorum of the bigger cluster", () => {
    // 3 voters, only 2 started: 4 members need 3 started.
    const view = healthyView({ started: new Set([1, 2]) });
    expect(checkAddMember(view, false)).toBe(etcdErrors.memberNotEnoughStarted);
    // A learner does not count toward the quorum, so it may still be added.
    expect(checkAddMember(view, true)).toBeUndefined();
  });

  it("readyToAddVoter() lets a single started member add a second one, as etcd does", () => {
    expect(readyToAddVoter(healthyView({ voters: [1], started: new Set([1]), connectedSinceMs: new Map() }))).toBe(true);
  });

  it("checkAddMember() says the cluster is unhealthy until every voter has been connected for the health interval", () => {
    const fresh = healthyView({ connectedSinceMs: new Map([[2, longAgoMs], [3, nowMs - 1000]]) });
    expect(checkAddMember(fresh, true)).toBe(etcdErrors.unhealthy);
    const missing = healthyView({ connectedSinceMs: new Map([[2, longAgoMs]]) });
    expect(checkAddMember(missing, false)).toBe(etcdErrors.unhealthy);
  });

  it("checkAddMember() allows one learner at most", () => {
    expect(checkAddMember(healthyView({ learners: [4] }), true)).toBe(etcdErrors.tooManyLearners);
    expect(checkAddMember(healthyView({ learners: [4] }), false)).toBeUndefined();
  });

  it("checkRemoveMember() removes a learner without any quorum check", () => {
    const view = healthyView({ learners: [4], started: new Set([1]), connectedSinceMs: new Map() });
    expect(checkRemoveMember(view, 4)).toBeUndefined();
  });

  it("checkRemoveMember() refuses when the remaining started voters are not a quorum of the remaining voters", () => {
    // Removing 3 leaves {1, 2} with only 1 started: 2 members need 2.
    expect(checkRemoveMember(healthyView({ started: new Set([1, 3]) }), 3)).toBe(etcdErrors.memberNotEnoughStarted);
  });

  it("checkRemoveMember() removes a member that is down, which holds no part of the active quorum", () => {
    const view = healthyView({ connectedSinceMs: new Map([[2, longAgoMs]]) });
    expect(checkRemoveMember(view, 3)).toBeUndefined();
  });

  it("checkRemoveMember() refuses to remove a connected voter when another voter is down", () => {
    // 1 and 3 connected, 2 down: removing 3 leaves only 1 active of the 2 remaining.
    const view = healthyView({ connectedSinceMs: new Map([[3, longAgoMs]]) });
    expect(checkRemoveMember(view, 3)).toBe(etcdErrors.unhealthy);
  });

  it("checkRemoveMember() says member not found for an id that is not in the cluster", () => {
    expect(checkRemoveMember(healthyView(), 9)).toBe(etcdErrors.memberNotFound);
  });

  it("checkPromoteMember() promotes only learners, and only with a started quorum", () => {
    expect(checkPromoteMember(healthyView({ learners: [4] }), 4)).toBeUndefined();
    expect(checkPromoteMember(healthyView(), 2)).toBe(etcdErrors.memberNotLearner);
    expect(checkPromoteMember(healthyView(), 9)).toBe(etcdErrors.memberNotFound);
    // 3 voters + the learner = 4 need 3 started; the learner counts, 1 voter started is 2.
    expect(checkPromoteMember(healthyView({ learners: [4], started: new Set([1]) }), 4)).toBe(etcdErrors.memberNotEnoughStarted);
  });
});

describe("peer activity", () => {
  const progress = (entries: [number, Partial<ProgressStatus>][]): Map<number, ProgressStatus> =>
    new Map(entries.map(([id, status]) => [id, { match: 0, next: 1, state: ProgressState.Replicate, isLearner: false, recentActive: true, ...status }]));

  it("answeringPeers() counts followers heard from and not probing, never the leader itself", () => {
    const answering = answeringPeers(1, progress([[1, {}], [2, {}], [3, { recentActive: false }], [4, { state: ProgressState.Probe }]]));
    expect([...(answering ?? [])]).toEqual([2]);
    expect(answeringPeers(1, undefined)).toBeUndefined();
  });

  it("PeerActivity keeps the start of an unbroken run of answers", () => {
    const activity = new PeerActivity(1000);
    activity.observe(0, new Set([2]));
    activity.observe(100, new Set([2, 3]));
    activity.observe(900, new Set([2])); // 3 missed one sample: shorter than the gap, run goes on
    activity.observe(1000, new Set([2, 3]));
    expect(activity.connectedSince()).toEqual(new Map([[2, 0], [3, 100]]));
  });

  it("PeerActivity starts a new run for a peer silent for longer than the gap", () => {
    const activity = new PeerActivity(1000);
    activity.observe(0, new Set([2]));
    activity.observe(500, new Set());
    activity.observe(1600, new Set());
    expect(activity.connectedSince().has(2)).toBe(false);
    activity.observe(1700, new Set([2]));
    expect(activity.connectedSince().get(2)).toBe(1700);
  });

  it("PeerActivity forgets everything when this member stops leading", () => {
    const activity = new PeerActivity(1000);
    activity.observe(0, new Set([2, 3]));
    activity.observe(100, undefined);
    expect(activity.connectedSince().size).toBe(0);
  });
});
