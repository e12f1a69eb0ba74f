import { describe, expect, it } from "vitest";
import { encodeEnvelope } from "./codec.ts";
import { ProposalTracker, ReadBatcher, type Proposal, type Waiter } from "./requests.ts";

interface Outcome {
  resolved: unknown[];
  rejected: Error[];
}

function proposal(tracker: ProposalTracker, deadlineMs: number, outcome: Outcome, payload = "p"): Proposal {
  const requestId = tracker.nextRequestId();
  const created: Proposal = {
    requestId,
    envelope: encodeEnvelope(requestId, new TextEncoder().encode(payload)),
    deadlineMs,
    resolve: (value) => outcome.resolved.push(value),
    reject: (error) => outcome.rejected.push(error),
  };
  tracker.add(created);
  return created;
}

function reader(deadlineMs: number, outcome: Outcome): Waiter<void> {
  return { deadlineMs, resolve: () => outcome.resolved.push("read"), reject: (error) => outcome.rejected.push(error) };
}

describe("ProposalTracker", () => {
  it("gives members different request ids even when their clocks agree", () => {
    const one = new ProposalTracker(1, 1_000_000);
    const two = new ProposalTracker(2, 1_000_000);
    expect(one.nextRequestId()).not.toBe(two.nextRequestId());
    expect(one.nextRequestId()).not.toBe(one.nextRequestId());
  });

  it("complete() does not let an entry with the same request id but other bytes complete a proposal, and rejects it as displaced", () => {
    const tracker = new ProposalTracker(1, 0);
    const outcome: Outcome = { resolved: [], rejected: [] };
    const waiting = proposal(tracker, 100, outcome);
    tracker.noteAppended(7, waiting.requestId, waiting.envelope);
    const forgedEnvelope = encodeEnvelope(waiting.requestId, new TextEncoder().encode("another member's request"));
    expect(tracker.complete(7, waiting.requestId, forgedEnvelope, () => new Error("displaced"))).toBeUndefined();
    expect(outcome.rejected.map((error) => error.message)).toEqual(["displaced"]);
    expect(tracker.size).toBe(0);
  });

  it("complete() completes a proposal applied where it was appended, and rejects nothing", () => {
    const tracker = new ProposalTracker(1, 0);
    const outcome: Outcome = { resolved: [], rejected: [] };
    const waiting = proposal(tracker, 100, outcome);
    tracker.noteAppended(3, waiting.requestId, waiting.envelope);
    expect(tracker.complete(3, waiting.requestId, waiting.envelope, () => new Error("displaced"))).toBe(waiting);
    expect(outcome.rejected).toEqual([]);
  });

  it("rejects a proposal whose index was taken by an entry without a request id (a new leader's empty entry)", () => {
    const tracker = new ProposalTracker(1, 0);
    const outcome: Outcome = { resolved: [], rejected: [] };
    const waiting = proposal(tracker, 100, outcome);
    tracker.noteAppended(5, waiting.requestId, waiting.envelope);
    tracker.complete(5, undefined, undefined, () => new Error("displaced"));
    expect(outcome.rejected).toHaveLength(1);
    expect(tracker.isPending(waiting.requestId)).toBe(false);
  });

  it("expire() removes overdue proposals oldest first and keeps the rest", () => {
    const tracker = new ProposalTracker(1, 0);
    const outcome: Outcome = { resolved: [], rejected: [] };
    const early = proposal(tracker, 10, outcome);
    const late = proposal(tracker, 50, outcome);
    expect(tracker.expire(20)).toEqual([early]);
    expect(tracker.isPending(late.requestId)).toBe(true);
  });

  it("rejectThrough() rejects only proposals whose entries a snapshot covers", () => {
    const tracker = new ProposalTracker(1, 0);
    const outcome: Outcome = { resolved: [], rejected: [] };
    const covered = proposal(tracker, 100, outcome);
    const after = proposal(tracker, 100, outcome);
    const unplaced = proposal(tracker, 100, outcome);
    tracker.noteAppended(4, covered.requestId, covered.envelope);
    tracker.noteAppended(9, after.requestId, after.envelope);
    tracker.rejectThrough(5, () => new Error("snapshot"));
    expect(outcome.rejected).toHaveLength(1);
    expect(tracker.isPending(covered.requestId)).toBe(false);
    expect(tracker.isPending(after.requestId)).toBe(true);
    expect(tracker.isPending(unplaced.requestId)).toBe(true);
  });
});

describe("ReadBatcher", () => {
  it("sends one request for the reads waiting, and a new batch only after it is answered", () => {
    const batcher = new ReadBatcher(100, 1);
    const outcome: Outcome = { resolved: [], rejected: [] };
    batcher.add(reader(1000, outcome));
    batcher.add(reader(1000, outcome));
    const first = batcher.nextRequest(0, 500);
    expect(first).toBeDefined();
    batcher.add(reader(1000, outcome));
    expect(batcher.nextRequest(10, 500)).toBeUndefined();
    batcher.onReadStates([{ index: 7, requestContext: first as Uint8Array }]);
    expect(batcher.nextRequest(20, 500)).toBeDefined();
    batcher.resolveApplied(6);
    expect(outcome.resolved).toHaveLength(0);
    batcher.resolveApplied(7);
    expect(outcome.resolved).toHaveLength(2);
  });

  it("re-sends an unanswered request after the retry interval and accepts an answer to either", () => {
    const batcher = new ReadBatcher(100, 1);
    const outcome: Outcome = { resolved: [], rejected: [] };
    batcher.add(reader(10_000, outcome));
    const first = batcher.nextRequest(0, 500) as Uint8Array;
    expect(batcher.nextRequest(499, 500)).toBeUndefined();
    const retry = batcher.nextRequest(500, 500) as Uint8Array;
    expect(Buffer.from(retry).equals(Buffer.from(first))).toBe(false);
    batcher.onReadStates([{ index: 3, requestContext: first }]);
    batcher.resolveApplied(3);
    expect(outcome.resolved).toHaveLength(1);
  });

  it("makes contexts that differ between members, since the leader refuses a repeated one", () => {
    const one = new ReadBatcher(10, 1);
    const two = new ReadBatcher(10, 2);
    one.add(reader(10, { resolved: [], rejected: [] }));
    two.add(reader(10, { resolved: [], rejected: [] }));
    expect(Buffer.from(one.nextRequest(0, 500) as Uint8Array).equals(Buffer.from(two.nextRequest(0, 500) as Uint8Array))).toBe(false);
  });

  it("refuses reads past its bound and rejects overdue ones", () => {
    const batcher = new ReadBatcher(2, 1);
    const outcome: Outcome = { resolved: [], rejected: [] };
    expect(batcher.add(reader(10, outcome))).toBe(true);
    expect(batcher.add(reader(100, outcome))).toBe(true);
    expect(batcher.add(reader(100, outcome))).toBe(false);
    batcher.nextRequest(0, 500);
    batcher.expire(50, () => new Error("timeout"));
    expect(outcome.rejected.map((error) => error.message)).toEqual(["timeout"]);
    expect(batcher.size).toBe(1);
  });
});
