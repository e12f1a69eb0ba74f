/**
 * A bounded ring of the simulator's most recent events, formatted only when someone reads it, so
 * that recording every delivery costs almost nothing on seeds that pass.
 */
import { MessageType } from "../../libs/raft/index.ts";
import type { Message } from "../../libs/raft/index.ts";

/** How many events the ring keeps; the CLI prints the last few of them. */
export const traceEventsMax = 400;

interface TraceEvent {
  tick: number;
  text: string;
  message: Message | undefined;
}

export class Trace {
  readonly #events: TraceEvent[] = [];
  #next = 0;
  #tick = 0;

  setTick(tick: number): void {
    this.#tick = tick;
  }

  note(text: string): void {
    this.#push(text, undefined);
  }

  /** `verb` is what happened to the message: "deliver", "drop", "duplicate"... */
  message(verb: string, message: Message): void {
    this.#push(verb, message);
  }

  /** The last `count` events, oldest first, one line each. */
  lines(count: number): string[] {
    const ordered = this.#events.length < traceEventsMax
      ? this.#events
      : [...this.#events.slice(this.#next), ...this.#events.slice(0, this.#next)];
    return ordered.slice(-count).map(formatEvent);
  }

  #push(text: string, message: Message | undefined): void {
    const event = { tick: this.#tick, text, message };
    if (this.#events.length < traceEventsMax) this.#events.push(event);
    else this.#events[this.#next] = event;
    this.#next = (this.#next + 1) % traceEventsMax;
  }
}

function formatEvent(event: TraceEvent): string {
  const tick = `t=${String(event.tick).padStart(5)}`;
  if (event.message === undefined) return `${tick} ${event.text}`;
  return `${tick} ${event.text.padEnd(9)} ${describeMessage(event.message)}`;
}

/** One line per message, naming the fields that matter for its type. */
export function describeMessage(message: Message): string {
  const head = `${MessageType[message.type] ?? message.type} ${message.from}->${message.to} term=${message.term}`;
  switch (message.type) {
    case MessageType.App:
      return `${head} prev=${message.index}/${message.logTerm} ${describeEntries(message)} commit=${message.commit}`;
    case MessageType.AppResp:
      return `${head} index=${message.index}${message.reject ? ` REJECT hint=${message.rejectHint}` : ""}`;
    case MessageType.Vote:
    case MessageType.PreVote:
      return `${head} last=${message.index}/${message.logTerm}`;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      return `${head} ${message.reject ? "REJECT" : "GRANT"}`;
    case MessageType.Heartbeat:
      return `${head} commit=${message.commit}`;
    case MessageType.Snap: {
      const metadata = message.snapshot?.metadata;
      return `${head} snapshot=${metadata?.index ?? "?"}/${metadata?.term ?? "?"} voters=[${metadata?.confState.voters.join(",") ?? ""}]`;
    }
    case MessageType.Prop:
      return `${head} ${describeEntries(message)}`;
    default:
      return head;
  }
}

function describeEntries(message: Message): string {
  const first = message.entries[0];
  const last = message.entries.at(-1);
  if (first === undefined || last === undefined) return "entries=[]";
  return first === last ? `entries=[${first.index}]` : `entries=[${first.index}..${last.index}]`;
}
