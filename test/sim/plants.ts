/**
 * Bugs the simulator can plant from outside libs/raft, to prove that the checker catches them
 * (`--plant NAME`). Bugs that need a change inside libs/raft live as patches in ./planted/.
 */

export const plantDescriptions = {
  "forget-vote": "the disk loses the vote on a crash (hard state restored with vote = 0)",
  "grant-votes": "the network rewrites every rejected (pre-)vote response into a grant",
  "ack-before-persist": "messagesAfterPersist are sent before the Ready is persisted",
  "read-before-apply": "a ReadIndex read is served as soon as its ReadState arrives, before the state machine catches up",
  "skip-snapshot-restore": "a snapshot from the leader is persisted but the state machine is not restored from it",
} as const;

export type PlantName = keyof typeof plantDescriptions;

export function isPlantName(name: string): name is PlantName {
  return Object.hasOwn(plantDescriptions, name);
}

/**
 * Ways for the harness to steer clear of known Raft findings (see FINDINGS.md), so that other
 * bugs stay visible while a finding is open (`--workaround NAME`). Off by default.
 */
export const workaroundDescriptions = {
  "prevote": "always run with PreVote on",
  "atomic-persist": "persist a Ready's snapshot, entries and hard state atomically (no crash between them)",
} as const;

export type WorkaroundName = keyof typeof workaroundDescriptions;

export function isWorkaroundName(name: string): name is WorkaroundName {
  return Object.hasOwn(workaroundDescriptions, name);
}
