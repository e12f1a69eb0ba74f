import { describe, expect, it } from "vitest";
import { ProgressTracker, VoteResult } from "./tracker.ts";

function tracker(voters: number[], learners: number[] = []): ProgressTracker {
  const t = new ProgressTracker(4);
  t.setConfState({ voters, learners }, 1);
  return t;
}

describe("ProgressTracker", () => {
  it("the committed index is the highest index a majority of voters holds", () => {
    const t = tracker([1, 2, 3, 4, 5], [6]);
    const matches: Record<number, number> = { 1: 9, 2: 7, 3: 7, 4: 2, 5: 1, 6: 100 };
    for (const [id, match] of Object.entries(matches)) t.getProgress(Number(id)).match = match;
    expect(t.committedIndex()).toBe(7);
  });

  it("an election is won with a majority of voters, lost once a majority is out of reach", () => {
    const t = tracker([1, 2, 3, 4]);
    t.recordVote(1, true);
    t.recordVote(2, true);
    expect(t.tallyVotes().result).toBe(VoteResult.Pending);
    t.recordVote(3, true);
    expect(t.tallyVotes().result).toBe(VoteResult.Won);
    // With 4 voters the quorum is 3: a second refusal leaves at most 2 grants.
    const u = tracker([1, 2, 3, 4]);
    u.recordVote(1, true);
    u.recordVote(2, false);
    expect(u.tallyVotes().result).toBe(VoteResult.Pending);
    u.recordVote(3, false);
    expect(u.tallyVotes().result).toBe(VoteResult.Lost);
  });

  it("a voter's first answer counts; a learner's vote never does", () => {
    const t = tracker([1, 2, 3], [4]);
    t.recordVote(2, false);
    t.recordVote(2, true);
    t.recordVote(4, true);
    expect(t.tallyVotes()).toEqual({ granted: 0, rejected: 1, result: VoteResult.Pending });
  });

  it("the quorum is active when a majority of voters (the leader included) were heard from", () => {
    const t = tracker([1, 2, 3], [4]);
    for (const id of [2, 3, 4]) t.getProgress(id).recentActive = false;
    t.getProgress(4).recentActive = true;
    expect(t.quorumActive(1)).toBe(false);
    t.getProgress(3).recentActive = true;
    expect(t.quorumActive(1)).toBe(true);
  });

  it("adding a learner as a voter promotes it and keeps its progress", () => {
    const t = tracker([1, 2], [3]);
    t.getProgress(3).match = 5;
    t.addMember(3, false, 10);
    expect(t.confState()).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(t.getProgress(3).match).toBe(5);
  });
});
