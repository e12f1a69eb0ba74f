/**
 * One-line descriptions of Raft values for logs, traces and the scripted tests, in the style of
 * etcd's DescribeMessage: `1->2 MsgApp Term:1 Log:1/2 Commit:2 Entries:[1/3 EntryNormal "x"]`.
 */
import { decodeConfChange } from "./conf-change.ts";
import { ConfChangeType, EntryType, MessageType } from "./types.ts";
import type { ConfState, Entry, HardState, Message, Ready, Snapshot, SoftState } from "./types.ts";

/** Printable ASCII is shown quoted; anything else as hex. */
export function describeData(data: Uint8Array): string {
  let text = "";
  for (const byte of data) {
    if (byte < 0x20 || byte > 0x7e || byte === 0x22 || byte === 0x5c) return `0x${hex(data)}`;
    text += String.fromCharCode(byte);
  }
  return `"${text}"`;
}

function hex(data: Uint8Array): string {
  return Array.from(data, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function describeEntry(e: Entry): string {
  if (e.type === EntryType.ConfChange) {
    let change: string;
    try {
      const decoded = decodeConfChange(e.data);
      change = `${ConfChangeType[decoded.type]} ${decoded.nodeId}`;
    } catch {
      change = `malformed ${describeData(e.data)}`;
    }
    return `${e.term}/${e.index} EntryConfChange ${change}`;
  }
  return `${e.term}/${e.index} EntryNormal ${describeData(e.data)}`;
}

export function describeEntries(entries: readonly Entry[]): string {
  return entries.map(describeEntry).join(", ");
}

export function describeConfState(confState: ConfState): string {
  const voters = `voters=(${confState.voters.join(" ")})`;
  return confState.learners.length === 0 ? voters : `${voters} learners=(${confState.learners.join(" ")})`;
}

export function describeSnapshot(snapshot: Snapshot): string {
  const { index, term, confState } = snapshot.metadata;
  return `Index:${index} Term:${term} ConfState:${describeConfState(confState)}`;
}

export function describeHardState(hardState: HardState): string {
  return `Term:${hardState.term} Vote:${hardState.vote} Commit:${hardState.commit}`;
}

export function describeSoftState(softState: SoftState): string {
  return `Lead:${softState.lead} Role:${softState.role}`;
}

export function describeMessage(m: Message): string {
  let text = `${m.from}->${m.to} Msg${MessageType[m.type]} Term:${m.term}`;
  text += m.type === MessageType.TransferLeader ? ` Transferee:${m.index}` : ` Log:${m.logTerm}/${m.index}`;
  if (m.reject) text += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) text += ` Commit:${m.commit}`;
  if (m.entries.length > 0) text += ` Entries:[${describeEntries(m.entries)}]`;
  if (m.context.length > 0) text += ` Context:${describeData(m.context)}`;
  if (m.snapshot !== undefined) text += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  return text;
}

/** A Ready as indented lines (no trailing newline). */
export function describeReady(ready: Ready): string {
  const lines: string[] = [`Ready MustSync=${ready.mustSync}:`];
  if (ready.softState !== undefined) lines.push(describeSoftState(ready.softState));
  if (ready.hardState !== undefined) lines.push(`HardState ${describeHardState(ready.hardState)}`);
  if (ready.readStates.length > 0) {
    lines.push("ReadStates:");
    for (const rs of ready.readStates) lines.push(`  Index:${rs.index} Context:${describeData(rs.requestContext)}`);
  }
  const section = (title: string, items: readonly string[]) => {
    if (items.length === 0) return;
    lines.push(`${title}:`);
    for (const item of items) lines.push(`  ${item}`);
  };
  section("Entries", ready.entries.map(describeEntry));
  if (ready.snapshot !== undefined) lines.push(`Snapshot ${describeSnapshot(ready.snapshot)}`);
  section("CommittedEntries", ready.committedEntries.map(describeEntry));
  section("Messages", ready.messages.map(describeMessage));
  section("MessagesAfterPersist", ready.messagesAfterPersist.map(describeMessage));
  return lines.join("\n");
}
