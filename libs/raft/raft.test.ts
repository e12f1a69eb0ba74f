import { describe, expect, it } from "vitest";
import { InvariantError } from "../assert/index.ts";
import { encodeConfChange } from "./conf-change.ts";
import { NotLeaderError, ProposalDroppedError } from "./errors.ts";
import { campaignTransferContext } from "./raft.ts";
import { electedLeader, entriesWithTerms, newTestRaft, persistAll, proposal, takeMessages } from "./test-support.ts";
import { ConfChangeType, EntryType, MessageType, ProgressState, Role } from "./types.ts";
import type { Message } from "./types.ts";
import { entry, message } from "./util.ts";

const hup = (from: number) => message({ type: MessageType.Hup, from });
const text = (s: string) => new TextEncoder().encode(s);

function types(messages: readonly Message[]): [MessageType, number][] {
  return messages.map((m) => [m.type, m.to]);
}

describe("elections (Raft §5.2)", () => {
  it("election timeouts are drawn from [electionTicks+1, 2*electionTicks], past a peer one tick behind in its lease", () => {
    const seen = new Set<number>();
    for (let id = 1; id <= 200; id++) {
      const { raft } = newTestRaft(1, { config: { prng: { nextInt: (n) => (id * 7) % n, nextFloat: () => 0 } } });
      seen.add(raft.randomizedElectionTimeout);
    }
    expect(Math.min(...seen)).toBe(11);
    expect(Math.max(...seen)).toBe(20);
  });

  it("a follower that hears nothing for its election timeout becomes a candidate", () => {
    const { raft } = newTestRaft(1);
    const timeout = raft.randomizedElectionTimeout;
    for (let i = 1; i < timeout; i++) raft.tick();
    expect(raft.role).toBe(Role.Follower);
    raft.tick();
    expect(raft.role).toBe(Role.Candidate);
    expect(raft.term).toBe(1);
  });

  it("a candidate votes for itself and requests votes from every other voter, after persisting", () => {
    const { raft } = newTestRaft(1, { voters: [1, 2, 3], learners: [4] });
    raft.step(hup(1));
    expect(raft.vote).toBe(1);
    expect(raft.msgs).toEqual([]);
    expect(types(raft.msgsAfterPersist)).toEqual([[MessageType.Vote, 2], [MessageType.Vote, 3]]);
    expect(raft.msgsAfterPersist.every((m) => m.term === 1)).toBe(true);
  });

  it("a candidate that receives votes from a majority becomes leader", () => {
    const { raft } = newTestRaft(1, { voters: [1, 2, 3, 4, 5] });
    raft.step(hup(1));
    raft.step(message({ type: MessageType.VoteResp, from: 2, to: 1, term: 1 }));
    expect(raft.role).toBe(Role.Candidate);
    raft.step(message({ type: MessageType.VoteResp, from: 3, to: 1, term: 1 }));
    expect(raft.role).toBe(Role.Leader);
  });

  it("a candidate refused by a majority becomes a follower", () => {
    const { raft } = newTestRaft(1);
    raft.step(hup(1));
    raft.step(message({ type: MessageType.VoteResp, from: 2, to: 1, term: 1, reject: true }));
    raft.step(message({ type: MessageType.VoteResp, from: 3, to: 1, term: 1, reject: true }));
    expect(raft.role).toBe(Role.Follower);
    expect(raft.term).toBe(1);
  });

  it("a candidate that learns of a higher term steps down", () => {
    const { raft } = newTestRaft(1);
    raft.step(hup(1));
    raft.step(message({ type: MessageType.VoteResp, from: 2, to: 1, term: 5, reject: true }));
    expect(raft.role).toBe(Role.Follower);
    expect(raft.term).toBe(5);
    expect(raft.vote).toBe(0);
  });

  it("a candidate that receives an append from a leader of its own term becomes its follower", () => {
    const { raft } = newTestRaft(1);
    raft.step(hup(1));
    raft.step(message({ type: MessageType.App, from: 2, to: 1, term: 1 }));
    expect(raft.role).toBe(Role.Follower);
    expect(raft.lead).toBe(2);
  });

  it("each server votes for at most one candidate in a given term", () => {
    const { raft } = newTestRaft(1);
    raft.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 1 }));
    raft.step(message({ type: MessageType.Vote, from: 3, to: 1, term: 1 }));
    const answers = takeMessages(raft).map((m) => [m.to, m.reject]);
    expect(answers).toEqual([[2, false], [3, true]]);
    expect(raft.vote).toBe(2);
  });

  it("a server grants its vote again to the candidate it already voted for", () => {
    const { raft } = newTestRaft(1);
    raft.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 1 }));
    raft.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 1 }));
    expect(takeMessages(raft).map((m) => m.reject)).toEqual([false, false]);
  });

  it("the voter denies its vote if its own log is more up-to-date than that of the candidate (§5.4.1)", () => {
    // The voter's log has terms 1 2 2: last index 3, last term 2.
    const cases: { index: number; logTerm: number; granted: boolean }[] = [
      { index: 3, logTerm: 1, granted: false }, // lower last term
      { index: 2, logTerm: 2, granted: false }, // same last term, shorter log
      { index: 3, logTerm: 2, granted: true }, // same last term, same length
      { index: 4, logTerm: 2, granted: true }, // same last term, longer log
      { index: 1, logTerm: 3, granted: true }, // higher last term, however short
    ];
    for (const { index, logTerm, granted } of cases) {
      const { raft } = newTestRaft(1, { log: entriesWithTerms(1, 2, 2), term: 2 });
      raft.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 3, index, logTerm }));
      expect(takeMessages(raft)[0]?.reject, `candidate ${logTerm}/${index}`).toBe(!granted);
    }
  });

  it("becoming leader directly from follower is an invalid transition that crashes naming it", () => {
    const { raft } = newTestRaft(1);
    expect(() => raft.becomeLeader()).toThrow(InvariantError);
    expect(() => raft.becomeLeader()).toThrow(/invalid transition \[follower -> leader\]/);
  });

  it("a leader cannot become a candidate or pre-candidate", () => {
    const { raft } = electedLeader();
    expect(() => raft.becomeCandidate()).toThrow(/invalid transition \[leader -> candidate\]/);
    expect(() => raft.becomePreCandidate()).toThrow(/invalid transition \[leader -> pre-candidate\]/);
  });

  it("a new leader appends an entry of its term so that it can commit", () => {
    const { raft } = electedLeader(1, { log: entriesWithTerms(1, 1), term: 1 });
    const last = raft.log.lastIndex();
    expect(last).toBe(3);
    expect(raft.log.term(last)).toBe(raft.term);
  });

  it("a new leader's first entry is an empty one, also for the first leader of a cluster", () => {
    const { raft } = electedLeader(1, { voters: [1, 2], learners: [3] });
    expect(raft.log.allEntries().map((e) => [e.index, e.term, e.type, e.data.length])).toEqual([[1, 1, EntryType.Normal, 0]]);
  });

  it("a candidate whose term lags is told the voter's term by a rejection (§5.1), and steps down to it", () => {
    const { raft: voter } = newTestRaft(2, { term: 7 });
    voter.step(message({ type: MessageType.Vote, from: 1, to: 2, term: 5, index: 9, logTerm: 5 }));
    const [answer] = takeMessages(voter);
    expect(answer).toMatchObject({ type: MessageType.VoteResp, to: 1, term: 7, reject: true });
    expect([voter.term, voter.vote]).toEqual([7, 0]);
    const { raft: candidate } = newTestRaft(1, { term: 4 });
    candidate.step(hup(1));
    expect([candidate.role, candidate.term]).toEqual([Role.Candidate, 5]);
    candidate.step(answer as Message);
    expect([candidate.role, candidate.term, candidate.vote]).toEqual([Role.Follower, 7, 0]);
  });
});

describe("PreVote (thesis §9.6)", () => {
  it("a pre-candidate asks for votes at term+1 without raising its own term", () => {
    const { raft } = newTestRaft(1, { config: { preVote: true } });
    raft.step(hup(1));
    expect(raft.role).toBe(Role.PreCandidate);
    expect(raft.term).toBe(0);
    expect(raft.vote).toBe(0);
    expect(raft.msgsAfterPersist.map((m) => [m.type, m.term])).toEqual([[MessageType.PreVote, 1], [MessageType.PreVote, 1]]);
  });

  it("a pre-vote is granted without changing the voter's term or vote", () => {
    const { raft } = newTestRaft(1);
    raft.step(message({ type: MessageType.PreVote, from: 2, to: 1, term: 1 }));
    const [answer] = takeMessages(raft);
    expect(answer).toMatchObject({ type: MessageType.PreVoteResp, term: 1, reject: false });
    expect(raft.term).toBe(0);
    expect(raft.vote).toBe(0);
  });

  it("a pre-candidate that wins the pre-election starts a real election", () => {
    const { raft } = newTestRaft(1, { config: { preVote: true } });
    raft.step(hup(1));
    raft.step(message({ type: MessageType.PreVoteResp, from: 2, to: 1, term: 1 }));
    expect(raft.role).toBe(Role.Candidate);
    expect(raft.term).toBe(1);
  });

  it("a node answers a stale pre-vote with its own term so the pre-candidate learns it", () => {
    const { raft } = newTestRaft(1, { term: 5 });
    raft.step(message({ type: MessageType.PreVote, from: 2, to: 1, term: 3 }));
    expect(takeMessages(raft)).toMatchObject([{ type: MessageType.PreVoteResp, term: 5, reject: true }]);
  });
});

describe("CheckQuorum and the leader lease (thesis §6.2, §4.2.3)", () => {
  it("a leader that has not heard from a quorum within an election timeout steps down", () => {
    // Votes do not count as activity: only answers to the leader's own messages do.
    const { raft } = electedLeader(1, { config: { checkQuorum: true } });
    for (let i = 0; i < 9; i++) raft.tick();
    expect(raft.role).toBe(Role.Leader);
    raft.tick();
    expect(raft.role).toBe(Role.Follower);
    expect(raft.term).toBe(1);
  });

  it("a leader that hears from a quorum stays leader", () => {
    const { raft } = electedLeader(1, { config: { checkQuorum: true } });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) {
        raft.tick();
        raft.step(message({ type: MessageType.HeartbeatResp, from: 2, to: 1, term: 1 }));
      }
    }
    expect(raft.role).toBe(Role.Leader);
  });

  it("a follower that recently heard from its leader ignores a vote request", () => {
    const { raft } = newTestRaft(1, { config: { checkQuorum: true } });
    raft.step(message({ type: MessageType.Heartbeat, from: 2, to: 1, term: 1 }));
    takeMessages(raft);
    raft.step(message({ type: MessageType.Vote, from: 3, to: 1, term: 2, index: 9, logTerm: 9 }));
    expect(takeMessages(raft)).toEqual([]);
    expect(raft.term).toBe(1);
  });

  it("a transfer campaign overrides the leader lease", () => {
    const { raft } = newTestRaft(1, { config: { checkQuorum: true } });
    raft.step(message({ type: MessageType.Heartbeat, from: 2, to: 1, term: 1 }));
    takeMessages(raft);
    raft.step(message({ type: MessageType.Vote, from: 3, to: 1, term: 2, index: 9, logTerm: 9, context: campaignTransferContext }));
    expect(takeMessages(raft)).toMatchObject([{ type: MessageType.VoteResp, reject: false, term: 2 }]);
  });
});

describe("log replication (Raft §5.3)", () => {
  it("a follower rejects an append whose previous entry does not match", () => {
    const { raft } = newTestRaft(2, { log: entriesWithTerms(1, 1), term: 2 });
    raft.step(message({ type: MessageType.App, from: 1, to: 2, term: 2, index: 2, logTerm: 2, entries: [entry(2, 3)] }));
    const [answer] = takeMessages(raft);
    expect(answer).toMatchObject({ type: MessageType.AppResp, reject: true, index: 2, rejectHint: 2, logTerm: 1 });
    expect(raft.log.lastIndex()).toBe(2);
  });

  it("a follower hints at its last index whose term is at most the leader's, skipping its higher-term entries", () => {
    // Follower log terms: 1 1 3 3 3; the leader probes index 5 with term 2.
    const { raft } = newTestRaft(2, { log: entriesWithTerms(1, 1, 3, 3, 3), term: 3 });
    raft.step(message({ type: MessageType.App, from: 1, to: 2, term: 4, index: 5, logTerm: 2 }));
    expect(takeMessages(raft)).toMatchObject([{ reject: true, index: 5, rejectHint: 2, logTerm: 1 }]);
  });

  it("a leader given a hint skips its own entries of higher terms in one step", () => {
    const { raft } = electedLeader(1, { log: entriesWithTerms(1, 2, 2, 2, 2), term: 2 });
    const progress = raft.tracker.getProgress(2);
    expect(progress.next).toBe(6);
    raft.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: raft.term, index: 5, reject: true, rejectHint: 5, logTerm: 1 }));
    expect(progress.next).toBe(2);
    expect(takeMessages(raft)).toMatchObject([{ type: MessageType.App, to: 2, index: 1, logTerm: 1 }]);
  });

  it("if an existing entry conflicts with a new one, the follower deletes it and all that follow", () => {
    const { raft } = newTestRaft(2, { log: entriesWithTerms(1, 1, 1, 1), term: 1 });
    raft.step(message({ type: MessageType.App, from: 1, to: 2, term: 2, index: 2, logTerm: 1, entries: [entry(2, 3)] }));
    expect(raft.log.allEntries().map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 2]]);
  });

  it("a stale append that the follower already holds does not truncate newer entries", () => {
    const { raft } = newTestRaft(2, { log: entriesWithTerms(1, 1, 1, 1), term: 1 });
    raft.step(message({ type: MessageType.App, from: 1, to: 2, term: 1, index: 1, logTerm: 1, entries: [entry(1, 2)] }));
    expect(raft.log.lastIndex()).toBe(4);
    expect(takeMessages(raft)).toMatchObject([{ type: MessageType.AppResp, index: 2, reject: false }]);
  });

  it("a follower sets its commit index to min(leaderCommit, index of last new entry)", () => {
    const { raft } = newTestRaft(2, { term: 1 });
    raft.step(message({ type: MessageType.App, from: 1, to: 2, term: 1, index: 0, logTerm: 0, entries: [entry(1, 1), entry(1, 2)], commit: 5 }));
    expect(raft.log.committed).toBe(2);
  });

  it("step() ignores an append from a stale term", () => {
    const { raft } = newTestRaft(2, { term: 3 });
    raft.step(message({ type: MessageType.App, from: 1, to: 2, term: 2, index: 0, logTerm: 0, entries: [entry(2, 1)] }));
    expect(raft.log.lastIndex()).toBe(0);
    expect(takeMessages(raft)).toEqual([]);
  });

  it("under CheckQuorum a stale leader's append is answered with the newer term", () => {
    const { raft } = newTestRaft(2, { term: 3, config: { checkQuorum: true } });
    raft.step(message({ type: MessageType.App, from: 1, to: 2, term: 2 }));
    expect(takeMessages(raft)).toMatchObject([{ type: MessageType.AppResp, term: 3, to: 1 }]);
  });

  it("a leader commits an entry of its term once a majority stores it", () => {
    const { raft, storage } = electedLeader();
    raft.step(proposal("x", 1));
    persistAll(raft, storage);
    const index = raft.log.lastIndex();
    expect(raft.log.committed).toBeLessThan(index);
    raft.step(message({ type: MessageType.AppResp, from: 3, to: 1, term: 1, index }));
    expect(raft.log.committed).toBe(index);
  });

  it("a leader never commits an entry from a previous term by counting replicas (§5.4.2)", () => {
    // Leader of term 3 holding an entry of term 1 at index 2 that a majority stores.
    const { raft, storage } = newTestRaft(1, { log: entriesWithTerms(1, 1), term: 2 });
    raft.step(hup(1));
    raft.step(message({ type: MessageType.VoteResp, from: 2, to: 1, term: 3 }));
    expect(raft.role).toBe(Role.Leader);
    takeMessages(raft);
    raft.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 2 }));
    expect(raft.log.committed).toBe(0);
    // Once the leader's own entry of term 3 is on a majority, everything before it commits too.
    persistAll(raft, storage);
    raft.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 3 }));
    expect(raft.log.committed).toBe(3);
  });

  it("a leader counts its own entries toward commitment only once they are persisted", () => {
    const { raft, storage } = electedLeader();
    raft.step(proposal("x", 1));
    const index = raft.log.lastIndex();
    raft.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index }));
    expect(raft.log.committed).toBeLessThan(index);
    persistAll(raft, storage);
    expect(raft.log.committed).toBe(index);
  });

  it("a leader's appends may leave before persisting, but acknowledgements wait for it", () => {
    const { raft } = electedLeader();
    for (const from of [2, 3]) raft.step(message({ type: MessageType.AppResp, from, to: 1, term: 1, index: raft.log.lastIndex() }));
    takeMessages(raft);
    raft.step(proposal("x", 1));
    expect(raft.msgs.map((m) => m.type)).toEqual([MessageType.App, MessageType.App]);
    expect(raft.msgsAfterPersist).toEqual([]);
    const follower = newTestRaft(2).raft;
    follower.step({ ...(raft.msgs[0] as Message) });
    expect(follower.msgs).toEqual([]);
    expect(follower.msgsAfterPersist.map((m) => m.type)).toEqual([MessageType.AppResp]);
  });

  it("a follower in Replicate state is pipelined up to the inflight bound, then paused", () => {
    const { raft } = electedLeader(1, { config: { maxInflightMessages: 2, maxMessageBytes: 1 } });
    raft.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: raft.log.lastIndex() }));
    expect(raft.tracker.getProgress(2).state).toBe(ProgressState.Replicate);
    takeMessages(raft);
    for (const data of ["a", "b", "c"]) raft.step(proposal(data, 1));
    const toFollower2 = takeMessages(raft).filter((m) => m.to === 2 && m.type === MessageType.App);
    expect(toFollower2.map((m) => m.entries.length)).toEqual([1, 1]);
    expect(raft.tracker.getProgress(2).isPaused()).toBe(true);
  });
});

describe("proposals", () => {
  it("a follower forwards a proposal to the leader it knows", () => {
    const { raft } = newTestRaft(2);
    raft.step(message({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1 }));
    takeMessages(raft);
    raft.step(proposal("x", 2));
    expect(takeMessages(raft)).toMatchObject([{ type: MessageType.Prop, to: 1, from: 2, term: 0 }]);
  });

  it("with forwarding disabled, a follower refuses a proposal with the leader as hint", () => {
    const { raft } = newTestRaft(2, { config: { disableProposalForwarding: true } });
    raft.step(message({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1 }));
    let error: unknown;
    try {
      raft.step(proposal("x", 2));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NotLeaderError);
    expect((error as NotLeaderError).leaderHint).toBe(1);
  });

  it("a follower without a leader drops a proposal", () => {
    const { raft } = newTestRaft(2);
    expect(() => raft.step(proposal("x", 2))).toThrow(ProposalDroppedError);
  });

  it("a leader refuses proposals while transferring leadership", () => {
    const { raft } = electedLeader();
    raft.step(message({ type: MessageType.TransferLeader, from: 1, index: 2 }));
    expect(raft.leadTransferee).toBe(2);
    expect(() => raft.step(proposal("x", 1))).toThrow(/leadership is being transferred to 2/);
  });

  it("a leader refuses a second configuration change while one is not yet applied", () => {
    const { raft } = electedLeader();
    raft.log.appliedTo(raft.log.committed);
    const change = (nodeId: number) =>
      message({ type: MessageType.Prop, from: 1, entries: [entry(0, 0, encodeConfChange({ type: ConfChangeType.AddNode, nodeId, context: new Uint8Array() }), EntryType.ConfChange)] });
    // The bootstrap configuration entries are themselves pending until applied.
    expect(() => raft.step(change(4))).toThrow(/already pending/);
  });

  it("a leader refuses proposals past its bound on uncommitted bytes", () => {
    const { raft } = electedLeader(1, { config: { maxUncommittedEntriesBytes: 4 } });
    raft.reduceUncommittedBytes(Number.MAX_SAFE_INTEGER);
    raft.step(proposal("abc", 1));
    expect(() => raft.step(proposal("de", 1))).toThrow(/uncommitted bytes/);
    raft.step(proposal("", 1)); // empty entries cost nothing
  });
});

describe("membership changes", () => {
  it("learners never count for a quorum", () => {
    const { raft, storage } = electedLeader(1, { voters: [1, 2, 3], learners: [4, 5] });
    raft.step(proposal("x", 1));
    persistAll(raft, storage);
    const index = raft.log.lastIndex();
    raft.step(message({ type: MessageType.AppResp, from: 4, to: 1, term: 1, index }));
    raft.step(message({ type: MessageType.AppResp, from: 5, to: 1, term: 1, index }));
    expect(raft.log.committed).toBeLessThan(index);
  });

  it("a learner never campaigns", () => {
    const { raft } = newTestRaft(4, { voters: [1, 2, 3], learners: [4] });
    for (let i = 0; i < 100; i++) raft.tick();
    raft.step(hup(4));
    expect(raft.role).toBe(Role.Follower);
    expect(raft.term).toBe(0);
  });

  it("promoting a learner is an AddNode of an existing learner", () => {
    const { raft } = newTestRaft(1, { voters: [1, 2], learners: [3] });
    const confState = raft.applyConfChange({ type: ConfChangeType.AddNode, nodeId: 3, context: new Uint8Array() });
    expect(confState).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(raft.tracker.getProgress(3).isLearner).toBe(false);
  });

  it("a removed leader steps down once the change is applied", () => {
    const { raft } = electedLeader();
    raft.applyConfChange({ type: ConfChangeType.RemoveNode, nodeId: 1, context: new Uint8Array() });
    expect(raft.role).toBe(Role.Follower);
    expect(raft.promotable()).toBe(false);
  });

  it("a change that would remove the last voter is ignored", () => {
    const { raft } = newTestRaft(1, { voters: [1] });
    const confState = raft.applyConfChange({ type: ConfChangeType.RemoveNode, nodeId: 1, context: new Uint8Array() });
    expect(confState.voters).toEqual([1]);
  });

  it("a restarted node replays the conf changes it had applied after its stored configuration", () => {
    const change = encodeConfChange({ type: ConfChangeType.AddNode, nodeId: 4, context: new Uint8Array() });
    const log = [entry(1, 1), entry(1, 2, change, EntryType.ConfChange)];
    const { storage } = newTestRaft(1, { log, term: 1 });
    storage.setHardState({ term: 1, vote: 0, commit: 2 });
    const restarted = newTestRaft(1, { log, term: 1, config: { storage, appliedIndex: 2 } }).raft;
    expect(restarted.tracker.confState().voters).toEqual([1, 2, 3, 4]);
  });
});

describe("ReadIndex (thesis §6.4)", () => {
  it("a read is answered only after a quorum acknowledges the heartbeat carrying its context", () => {
    const { raft } = electedLeader();
    raft.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: raft.log.lastIndex() }));
    takeMessages(raft);
    raft.step(message({ type: MessageType.ReadIndex, from: 1, context: text("r1") }));
    const heartbeats = takeMessages(raft);
    expect(heartbeats.map((m) => [m.type, new TextDecoder().decode(m.context)])).toEqual([
      [MessageType.Heartbeat, "r1"],
      [MessageType.Heartbeat, "r1"],
    ]);
    expect(raft.readStates).toEqual([]);
    raft.step(message({ type: MessageType.HeartbeatResp, from: 3, to: 1, term: 1, context: text("r1") }));
    expect(raft.readStates).toEqual([{ index: raft.log.committed, requestContext: text("r1") }]);
  });

  it("a new leader holds reads until it has committed an entry of its term", () => {
    const { raft } = electedLeader();
    raft.step(message({ type: MessageType.ReadIndex, from: 1, context: text("early") }));
    expect(takeMessages(raft)).toEqual([]);
    raft.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: raft.log.lastIndex() }));
    const sent = takeMessages(raft);
    expect(sent.some((m) => m.type === MessageType.Heartbeat && new TextDecoder().decode(m.context) === "early")).toBe(true);
  });

  it("a leader that steps down abandons its pending reads", () => {
    const { raft } = electedLeader();
    raft.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: raft.log.lastIndex() }));
    raft.step(message({ type: MessageType.ReadIndex, from: 1, context: text("r") }));
    raft.step(message({ type: MessageType.Heartbeat, from: 2, to: 1, term: 2 }));
    raft.step(message({ type: MessageType.HeartbeatResp, from: 3, to: 1, term: 2, context: text("r") }));
    expect(raft.readStates).toEqual([]);
  });
});

describe("leadership transfer (thesis §3.10)", () => {
  it("the leader sends MsgTimeoutNow once the transferee's log is up to date", () => {
    const { raft, storage } = electedLeader();
    raft.step(proposal("x", 1));
    persistAll(raft, storage);
    // 3 holds only the first entry: the leader must bring it up to date first.
    raft.step(message({ type: MessageType.AppResp, from: 3, to: 1, term: 1, index: 1 }));
    takeMessages(raft);
    raft.step(message({ type: MessageType.TransferLeader, from: 1, index: 3 }));
    expect(takeMessages(raft).map((m) => m.type)).toEqual([MessageType.App]);
    raft.step(message({ type: MessageType.AppResp, from: 3, to: 1, term: 1, index: raft.log.lastIndex() }));
    expect(takeMessages(raft).map((m) => [m.type, m.to])).toContainEqual([MessageType.TimeoutNow, 3]);
  });

  it("a transfer that does not finish within an election timeout is aborted", () => {
    const { raft } = electedLeader();
    raft.step(message({ type: MessageType.TransferLeader, from: 1, index: 3 }));
    for (let i = 0; i < 10; i++) raft.tick();
    expect(raft.leadTransferee).toBe(0);
  });

  it("MsgTimeoutNow makes a follower campaign at once, skipping PreVote and the lease", () => {
    const { raft } = newTestRaft(2, { config: { preVote: true, checkQuorum: true } });
    raft.step(message({ type: MessageType.TimeoutNow, from: 1, to: 2, term: 0 }));
    expect(raft.role).toBe(Role.Candidate);
    expect(raft.msgsAfterPersist.every((m) => m.type === MessageType.Vote && m.context.length > 0)).toBe(true);
  });
});

describe("snapshots", () => {
  it("a follower restores a snapshot ahead of its log and acknowledges its index", () => {
    const { raft } = newTestRaft(2, { term: 1 });
    const snapshot = { data: text("state"), metadata: { index: 10, term: 1, confState: { voters: [1, 2, 3], learners: [] } } };
    raft.step(message({ type: MessageType.Snap, from: 1, to: 2, term: 1, snapshot }));
    expect(raft.log.committed).toBe(10);
    expect(raft.log.unstable.snapshot).toBe(snapshot);
    expect(takeMessages(raft)).toMatchObject([{ type: MessageType.AppResp, index: 10 }]);
  });

  it("a member added after the leader's snapshot restores it, and is promotable once it applies its own addition", () => {
    const { raft } = newTestRaft(4, { voters: [], learners: [] });
    const snapshot = { data: text("state"), metadata: { index: 10, term: 1, confState: { voters: [1, 2, 3], learners: [] } } };
    raft.step(message({ type: MessageType.Snap, from: 1, to: 4, term: 1, snapshot }));
    expect(raft.log.committed).toBe(10);
    expect(raft.promotable()).toBe(false);
    raft.applyConfChange({ type: ConfChangeType.AddNode, nodeId: 4, context: new Uint8Array() });
    expect(raft.tracker.confState().voters).toEqual([1, 2, 3, 4]);
  });

  it("a follower ignores a snapshot at or below its commit index", () => {
    const { raft } = newTestRaft(2, { log: entriesWithTerms(1, 1, 1), term: 1 });
    raft.log.commitTo(3);
    const snapshot = { data: text("state"), metadata: { index: 2, term: 1, confState: { voters: [1, 2, 3], learners: [] } } };
    raft.step(message({ type: MessageType.Snap, from: 1, to: 2, term: 1, snapshot }));
    expect(raft.log.unstable.snapshot).toBeUndefined();
    expect(takeMessages(raft)).toMatchObject([{ type: MessageType.AppResp, index: 3 }]);
  });

  it("a leader sends a snapshot to a follower that needs compacted entries", () => {
    const { raft, storage } = electedLeader();
    raft.step(proposal("x", 1));
    persistAll(raft, storage);
    raft.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: raft.log.lastIndex() }));
    raft.log.appliedTo(raft.log.committed);
    storage.createSnapshot(raft.log.committed, { voters: [1, 2, 3], learners: [] }, text("state"));
    storage.compact(raft.log.committed);
    takeMessages(raft);
    raft.step(message({ type: MessageType.HeartbeatResp, from: 3, to: 1, term: 1 }));
    expect(takeMessages(raft)).toMatchObject([{ type: MessageType.Snap, to: 3 }]);
    expect(raft.tracker.getProgress(3).state).toBe(ProgressState.Snapshot);
  });
});
