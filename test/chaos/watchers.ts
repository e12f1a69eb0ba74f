/**
 * Watch streams on the scenario's key prefix, recorded for libs/lincheck's watch checker. A
 * stream follows one logical watcher: when its member dies or the stream breaks, it reconnects
 * to another live member from the revision after the last event it got, as a real client
 * resumes. The concatenated events must still be ordered, gap-free and duplicate-free.
 */
import type { WatchEvent, WatchStream } from "../../libs/lincheck/index.ts";
import type { Prng } from "../../libs/prng/index.ts";
import type { Watch } from "../../libs/etcd-client/index.ts";
import { errorText } from "./admin.ts";
import { sleepMs, type ScenarioClock } from "./clock.ts";
import type { Target } from "./workload.ts";

/** Bound on reconnects of one watcher per scenario. */
export const watchReconnectsMax = 500;
const reconnectBackoffMs = 200;
/** A watcher that does not reach the wanted revision in this long is moved to another member. */
const catchUpStallMs = 5000;
const catchUpPollMs = 50;

export class WatchRecorder {
  readonly name: string;
  readonly #prefix: string;
  readonly #rangeEnd: string;
  readonly #startRevision: number;
  readonly #pickTarget: (prng: Prng) => Target | undefined;
  readonly #prng: Prng;
  readonly #clock: ScenarioClock;
  readonly events: WatchEvent[] = [];
  /** When each event arrived (scenario ms), beside `events`. */
  readonly arrivalMs: number[] = [];
  readonly reconnectLog: string[] = [];
  #watch: Watch | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(options: { name: string; prefix: string; rangeEnd: string; startRevision: number; pickTarget: (prng: Prng) => Target | undefined; prng: Prng; clock: ScenarioClock }) {
    this.name = options.name;
    this.#prefix = options.prefix;
    this.#rangeEnd = options.rangeEnd;
    this.#startRevision = options.startRevision;
    this.#pickTarget = options.pickTarget;
    this.#prng = options.prng;
    this.#clock = options.clock;
  }

  get lastRevision(): number {
    return this.events.at(-1)?.modRevision ?? this.#startRevision - 1;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    for (let attempt = 0; attempt < watchReconnectsMax && !this.#stopped; attempt++) {
      const target = this.#pickTarget(this.#prng);
      if (target === undefined) {
        await sleepMs(reconnectBackoffMs);
        continue;
      }
      const from = this.lastRevision + 1;
      const watch = target.client.watch({ key: Buffer.from(this.#prefix), range_end: Buffer.from(this.#rangeEnd), start_revision: from }, undefined);
      this.#watch = watch;
      const ending = await this.#consume(watch);
      this.reconnectLog.push(`${this.#clock.nowMs().toFixed(0)}ms ${target.name} from ${from}: ${ending}`);
      if (!this.#stopped) await sleepMs(reconnectBackoffMs);
    }
  }

  /** Reads one stream until it ends; says why it ended. */
  async #consume(watch: Watch): Promise<string> {
    try {
      for await (const response of watch) {
        if (response.canceled) return `canceled by the store: ${response.cancel_reason}`;
        for (const event of response.events) {
          if (event.kv === null) continue;
          const kv = event.kv;
          this.events.push({
            type: event.type === "DELETE" ? "delete" : "put",
            key: kv.key.toString("utf8"),
            modRevision: Number(kv.mod_revision),
            ...(event.type === "DELETE" ? {} : { value: kv.value.toString("utf8") }),
          });
          this.arrivalMs.push(this.#clock.nowMs());
        }
      }
      return "stream ended";
    } catch (error) {
      return `stream failed: ${errorText(error)}`;
    }
  }

  /** Waits until the stream has delivered `revision`, moving it to another member when it stalls. */
  async waitForRevision(revision: number, timeoutMs: number): Promise<boolean> {
    const deadline = this.#clock.nowMs() + timeoutMs;
    let stallDeadline = this.#clock.nowMs() + catchUpStallMs;
    while (this.#clock.nowMs() < deadline) {
      if (this.lastRevision >= revision) return true;
      if (this.#clock.nowMs() > stallDeadline) {
        this.#watch?.cancel(); // the loop reconnects elsewhere, from the last revision it has
        stallDeadline = this.#clock.nowMs() + catchUpStallMs;
      }
      await sleepMs(catchUpPollMs);
    }
    return this.lastRevision >= revision;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.cancel();
    await this.#loop;
  }

  toStream(): WatchStream {
    return { name: this.name, key: this.#prefix, rangeEnd: this.#rangeEnd, startRevision: this.#startRevision, events: this.events };
  }
}
