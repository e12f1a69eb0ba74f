/**
 * The initial log of a founding cluster member, as etcd's RawNode.Bootstrap writes it: one
 * conf change per founding member at term 1, indexes 1..N, already committed.
 *
 * Why in the log and not only in the index-0 ConfState: a member that joins later starts empty
 * and learns the configuration by replaying the log from index 1, so the founding members must
 * be there. Why committed from the start and identical everywhere: no leader may ever overwrite
 * them (a first leader that wrote them itself could lose leadership with only some of them
 * replicated; the next leader would overwrite the rest and joiners would learn only part of the
 * founding voters).
 */
import { encodeConfChange } from "./conf-change.ts";
import { ConfChangeType, EntryType } from "./types.ts";
import type { ConfChange, ConfState, Entry, HardState } from "./types.ts";
import { emptyBytes, entry } from "./util.ts";

/** The term of the bootstrap entries; the first election is for term 2. */
export const bootstrapTerm = 1;

export interface BootstrapLog {
  /** AddNode per founding voter, then AddLearnerNode per founding learner, each in id order. */
  readonly entries: readonly Entry[];
  /** Term 1, no vote, commit = the last bootstrap entry (or all zero for a joiner). */
  readonly hardState: HardState;
}

/**
 * What a founding member with initial configuration `confState` holds before it ever ran:
 * byte-identical on every founding member given the same configuration (in any order). An empty
 * configuration (a member that joins an existing cluster) yields an empty log.
 */
export function bootstrapLog(confState: ConfState): BootstrapLog {
  const byId = (a: number, b: number) => a - b;
  const changes: ConfChange[] = [
    ...[...confState.voters].sort(byId).map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId, context: emptyBytes })),
    ...[...confState.learners].sort(byId).map((nodeId) => ({ type: ConfChangeType.AddLearnerNode, nodeId, context: emptyBytes })),
  ];
  if (changes.length === 0) return { entries: [], hardState: { term: 0, vote: 0, commit: 0 } };
  const entries = changes.map((change, offset) => entry(bootstrapTerm, offset + 1, encodeConfChange(change), EntryType.ConfChange));
  return { entries, hardState: { term: bootstrapTerm, vote: 0, commit: entries.length } };
}
