import { describe, expect, it } from "vitest";
import { EntryType } from "../../libs/raft/index.ts";
import type { Entry } from "../../libs/raft/index.ts";
import { Checker, InvariantViolation, emptyDigest, extendDigest, invariants } from "./checker.ts";
import type { LogView } from "./checker.ts";

const encoder = new TextEncoder();

function entry(index: number, term: number, value = `v${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: encoder.encode(value) };
}

/** A log of the given terms starting at `first` (values default to "v<index>"). */
function log(first: number, terms: number[], values: Record<number, string> = {}): Entry[] {
  return terms.map((term, i) => entry(first + i, term, values[first + i]));
}

let version = 0;
function view(label: string, entries: Entry[], options: Partial<Pick<LogView, "commit" | "term" | "isLeader">> = {}): LogView {
  return { label, nodeId: Number(label.slice(1, 2)), version: ++version, entries, commit: options.commit ?? 0, term: options.term ?? 1, isLeader: options.isLeader ?? false };
}

function violation(run: () => void): string {
  try {
    run();
  } catch (error) {
    if (error instanceof InvariantViolation) return error.invariant;
    throw error;
  }
  return "no violation";
}

describe("Checker leaders", () => {
  it("accepts the same leader reported for a term many times, and different leaders in different terms", () => {
    const checker = new Checker();
    checker.leader(1, 3, 1);
    checker.leader(2, 3, 1);
    checker.leader(3, 4, 2);
    expect(violation(() => checker.leader(4, 5, 3))).toBe("no violation");
  });

  it("rejects a second leader in the same term", () => {
    const checker = new Checker();
    checker.leader(1, 3, 1);
    expect(violation(() => checker.leader(2, 3, 2))).toBe(invariants.oneLeaderPerTerm);
  });
});

describe("Checker votes", () => {
  it("accepts a vote granted twice to the same candidate (a duplicate or a retry)", () => {
    const checker = new Checker();
    checker.voteGranted(1, 2, 5, 1);
    expect(violation(() => checker.voteGranted(2, 2, 5, 1))).toBe("no violation");
  });

  it("rejects a replica granting its vote to two candidates in one term", () => {
    const checker = new Checker();
    checker.voteGranted(1, 2, 5, 1);
    expect(violation(() => checker.voteGranted(2, 2, 5, 3))).toBe(invariants.oneVotePerTerm);
  });
});

describe("Checker log matching", () => {
  it("accepts logs that share a prefix and diverge only after it", () => {
    const checker = new Checker();
    const a = view("n1/mem", log(1, [1, 1, 2, 2]));
    const b = view("n2/mem", log(1, [1, 1, 3]));
    const c = view("n3/disk", log(3, [2, 2, 2]));
    expect(violation(() => checker.logs(1, [a, b, c]))).toBe("no violation");
  });

  it("rejects two entries with the same index and term but different data", () => {
    const checker = new Checker();
    const a = view("n1/mem", log(1, [1, 1, 2]));
    const b = view("n2/mem", log(1, [1, 1, 2], { 3: "other" }));
    expect(violation(() => checker.logs(1, [a, b]))).toBe(invariants.logMatching);
  });

  it("rejects logs that agree at an index but differ below it", () => {
    const checker = new Checker();
    const a = view("n1/mem", log(1, [1, 1, 3]));
    const b = view("n2/mem", log(1, [1, 2, 3]));
    expect(violation(() => checker.logs(1, [a, b]))).toBe(invariants.logMatching);
  });

  it("compares a changed log against logs that did not change", () => {
    const checker = new Checker();
    const a = view("n1/mem", log(1, [1, 1]));
    checker.logs(1, [a, view("n2/mem", log(1, [1, 1]))]);
    const b = view("n2/mem", log(1, [1, 1], { 2: "rewritten" }));
    expect(violation(() => checker.logs(2, [a, b]))).toBe(invariants.logMatching);
  });
});

describe("Checker committed entries", () => {
  it("rejects a replica that holds a committed index with a different entry", () => {
    const checker = new Checker();
    checker.logs(1, [view("n1/mem", log(1, [1, 1, 1]), { commit: 3 })]);
    // n2 has since been overwritten at index 3 by a later term and claims it committed.
    const overwritten = view("n2/mem", log(1, [1, 1, 2]), { commit: 3, term: 2 });
    expect(violation(() => checker.logs(2, [overwritten]))).toBe(invariants.committedUnchanged);
  });

  it("accepts an uncommitted stale entry on a lagging follower at a committed index", () => {
    const checker = new Checker();
    checker.logs(1, [view("n1/mem", log(1, [1, 2, 2]), { commit: 3, term: 2 })]);
    const lagging = view("n3/mem", log(1, [1, 1, 1]), { commit: 1, term: 1 });
    expect(violation(() => checker.logs(2, [lagging]))).toBe("no violation");
  });

  it("rejects a leader of a later term that lacks an entry committed earlier", () => {
    const checker = new Checker();
    checker.logs(1, [view("n1/mem", log(1, [1, 1, 1]), { commit: 3, term: 1 })]);
    const leader = view("n2/mem", log(1, [1, 1]), { term: 2, isLeader: true });
    expect(violation(() => checker.logs(2, [leader]))).toBe(invariants.committedNotLost);
  });

  it("accepts a deposed leader of an older term that never saw a later commit", () => {
    const checker = new Checker();
    checker.logs(1, [view("n1/mem", log(1, [1, 2, 2]), { commit: 3, term: 2 })]);
    const stale = view("n3/mem", log(1, [1]), { term: 1, isLeader: true });
    expect(violation(() => checker.logs(2, [stale]))).toBe("no violation");
  });

  it("rejects a leader that raises its commit index to an entry of an earlier term", () => {
    const checker = new Checker();
    const entries = log(1, [1, 1, 2, 2, 3]);
    checker.logs(1, [view("n1/mem", entries, { commit: 2, term: 3, isLeader: true })]);
    expect(violation(() => checker.logs(2, [view("n1/mem", entries, { commit: 4, term: 3, isLeader: true })]))).toBe(invariants.leaderCommitsOwnTerm);
  });

  it("accepts a leader that commits an entry of its own term, and earlier entries with it", () => {
    const checker = new Checker();
    const entries = log(1, [1, 1, 2, 2, 3]);
    checker.logs(1, [view("n1/mem", entries, { commit: 2, term: 3, isLeader: true })]);
    expect(violation(() => checker.logs(2, [view("n1/mem", entries, { commit: 5, term: 3, isLeader: true })]))).toBe("no violation");
  });

  it("rejects two replicas applying different entries at one index", () => {
    const checker = new Checker();
    checker.applied(1, 1, 1, entry(1, 1, "a"), extendDigest(emptyDigest, "a"));
    expect(violation(() => checker.applied(2, 2, 1, entry(1, 1, "b"), extendDigest(emptyDigest, "b")))).toBe(invariants.sameApplied);
  });

  it("rejects a snapshot whose state differs from what replicas applied at its index", () => {
    const checker = new Checker();
    checker.applied(1, 1, 1, entry(1, 1, "a"), extendDigest(emptyDigest, "a"));
    expect(violation(() => checker.snapshotRestored(2, 2, 1, emptyDigest))).toBe(invariants.stateDigest);
  });
});

describe("Checker progress", () => {
  it("accepts commit and applied indexes that only grow", () => {
    const checker = new Checker();
    checker.progress(1, 1, 3, 2);
    expect(violation(() => checker.progress(2, 1, 5, 5))).toBe("no violation");
  });

  it("rejects a commit index that goes backwards", () => {
    const checker = new Checker();
    checker.progress(1, 1, 5, 2);
    expect(violation(() => checker.progress(2, 1, 4, 2))).toBe(invariants.commitMonotonic);
  });

  it("rejects an applied index that goes backwards", () => {
    const checker = new Checker();
    checker.progress(1, 1, 5, 4);
    expect(violation(() => checker.progress(2, 1, 5, 3))).toBe(invariants.appliedMonotonic);
  });

  it("rejects an applied index beyond the commit index", () => {
    const checker = new Checker();
    expect(violation(() => checker.progress(1, 1, 3, 4))).toBe(invariants.appliedWithinCommit);
  });

  it("lets a restarted replica fall back to what it persisted, but not below", () => {
    const checker = new Checker();
    checker.persisted(1, 1, 4, 3);
    checker.progress(1, 1, 9, 8);
    checker.restarted(1);
    expect(violation(() => checker.progress(2, 1, 4, 3))).toBe("no violation");
    checker.restarted(1);
    expect(violation(() => checker.progress(3, 1, 3, 3))).toBe(invariants.commitMonotonic);
  });

  it("rejects a durable commit index that goes backwards", () => {
    const checker = new Checker();
    checker.persisted(1, 1, 4, 3);
    expect(violation(() => checker.persisted(2, 1, 2, 3))).toBe(invariants.commitMonotonic);
  });

  it("rejects a restarted replica whose membership differs from the one it applied", () => {
    const checker = new Checker();
    const applied = { voters: [1, 2, 3, 4], learners: [] };
    expect(violation(() => checker.membershipRestored(1, 1, applied, { voters: [4, 3, 2, 1], learners: [] }))).toBe("no violation");
    expect(violation(() => checker.membershipRestored(1, 1, applied, { voters: [1, 2, 3], learners: [4] }))).toBe(invariants.membershipRestored);
  });
});

describe("Checker reads", () => {
  it("rejects a read that misses a write acknowledged before it began", () => {
    const checker = new Checker();
    checker.writeAcknowledged("c1-1");
    checker.readStarted("r1");
    expect(violation(() => checker.readServed(1, "r1", 2, (value) => value !== "c1-1"))).toBe(invariants.readLinearizable);
  });

  it("accepts a read that misses a write acknowledged after it began", () => {
    const checker = new Checker();
    checker.writeAcknowledged("c1-1");
    checker.readStarted("r1");
    checker.writeAcknowledged("c1-2");
    expect(violation(() => checker.readServed(1, "r1", 2, (value) => value === "c1-1"))).toBe("no violation");
    expect(checker.readsServed).toBe(1);
  });
});

describe("Checker liveness", () => {
  it("livenessFailed() always reports the liveness invariant", () => {
    expect(violation(() => new Checker().livenessFailed(9, "no leader"))).toBe(invariants.liveness);
  });
});
