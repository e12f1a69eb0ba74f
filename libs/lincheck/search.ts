/**
 * Wing & Gong's linearizability search with Lowe's improvements, over one key's operations:
 *
 * - The history is a doubly linked list of call and return events in time order. The search
 *   walks it from the front: at a call it tries to linearize that operation now (the model must
 *   accept its result), lifting its events out of the list; at the return of an operation not
 *   yet linearized it is stuck and backtracks to the last choice.
 * - Just-in-time linearization: only calls before the first pending return are candidates, so
 *   real-time order is respected by construction.
 * - A cache of explored (linearized set, model state) pairs prunes every revisit: two paths that
 *   linearized the same operations into the same state have the same future.
 *
 * Operations without a deadline (unknown outcome) have no return event: they stay candidates for
 * the rest of the walk, and once only they remain the search succeeds (the rest did not take
 * effect, or took effect after everything observed). "Definite" below means "has a deadline":
 * an acknowledged operation, or an unknown write pinned by what was observed (see pin.ts), and
 * "unknown" means "without a deadline". On top of that, sound reductions that drop only choices
 * another choice dominates (see also explored.ts):
 * - A definite operation that never changes the value (a read, a CAS reported failed, a delete
 *   that deleted nothing) and fits the current value is placed at once, with no alternatives:
 *   wherever a completion places it later, it can move here instead, as it changes nothing for
 *   the others and its pending return only narrows the window.
 * - Definite candidates are tried before unknown ones, and an unknown operation that would not
 *   change the value is never placed: leaving it unplaced keeps the same value and more options.
 */
import { assert } from "../assert/index.ts";
import { EventList, hasDeadline, headNode, LinearizedSet } from "./events.ts";
import { ExploredStates, ValueCanon } from "./explored.ts";
import type { PartitionOperation } from "./history.ts";
import { alwaysPreservesValue, rejected, stepRegister } from "./model.ts";
import type { RegisterValue } from "./types.ts";

export type SearchOutcome =
  | { readonly status: "linearizable"; readonly statesExplored: number }
  | { readonly status: "budget-exceeded"; readonly statesExplored: number; readonly deepest: StuckPoint | undefined }
  | { readonly status: "violation"; readonly statesExplored: number; readonly deepest: StuckPoint };

/** The deepest point the search reached before it had to give up on every order. */
export interface StuckPoint {
  /** Operation ids, in the order they were linearized. */
  readonly prefix: readonly number[];
  readonly stateAfterPrefix: RegisterValue;
  /** The operation whose return the walk reached without having linearized it. */
  readonly blockingId: number;
  /** Not-yet-linearized operations invoked before that return: the ones that had to fit next. */
  readonly candidateIds: readonly number[];
}

/** Runs the search; stops with budget-exceeded after `maxStatesExplored` distinct states. */
export function searchLinearization(
  operations: readonly PartitionOperation[],
  initialState: RegisterValue,
  maxStatesExplored: number,
): SearchOutcome {
  return new Search(operations, initialState, maxStatesExplored).run();
}

/** The walk tries all definite candidates of the window first, then unknown ones. */
type Phase = "definite" | "unknown";

interface Frame {
  readonly id: number;
  readonly stateBefore: RegisterValue;
  /** Placed without alternatives (a dominant choice): undoing it means its parent fails too. */
  readonly forced: boolean;
}

type PlaceOutcome = "placed" | "covered" | "budget";

class Search {
  readonly #operations: readonly PartitionOperation[];
  readonly #maxStates: number;
  readonly #events: EventList;
  readonly #linearized: LinearizedSet;
  readonly #canon: ValueCanon;
  readonly #explored = new ExploredStates();
  /** Per operation: its interchangeability class if its outcome is unknown, else -1. */
  readonly #effectClass: Int32Array;
  /** Classes of unknown candidates the current unknown-phase scan has met. */
  readonly #classesSeen = new Set<number>();
  readonly #stack: Frame[] = [];
  /** Unknown operations placed so far, per class, as flattened sorted [class, count] pairs. */
  readonly #placedCounts: number[] = [];
  #definiteLeft: number;
  #state: RegisterValue;
  #deepest: StuckPoint | undefined;

  constructor(operations: readonly PartitionOperation[], initialState: RegisterValue, maxStates: number) {
    this.#operations = operations;
    this.#maxStates = maxStates;
    this.#events = new EventList(operations);
    this.#linearized = new LinearizedSet(operations.length);
    this.#canon = new ValueCanon(operations, initialState);
    const classIds = new Map<string, number>();
    this.#effectClass = Int32Array.from(operations, (operation) => {
      if (hasDeadline(operation)) return -1;
      const name = this.#canon.effectClass(operation.entry.operation);
      if (!classIds.has(name)) classIds.set(name, classIds.size);
      return classIds.get(name) as number;
    });
    this.#definiteLeft = operations.filter(hasDeadline).length;
    this.#state = initialState;
  }

  run(): SearchOutcome {
    let phase: Phase = "definite";
    let node = headNode;
    let fresh = true;
    while (this.#definiteLeft > 0) {
      if (fresh) {
        fresh = false;
        const forced = this.#placeForced();
        if (forced === "budget") return this.#budgetExceeded();
        if (this.#definiteLeft === 0) break;
        // A dominant placement that leads where the search has been means this state fails too.
        [phase, node] = forced === "covered" ? ["unknown", this.#windowEnd()] : ["definite", this.#events.first()];
      }
      // A definite return is still listed, so the walk meets one before the end of the list.
      assert(node !== headNode, "the walk ends at a return");
      if ((node & 1) === 1) {
        if (phase === "definite") {
          [phase, node] = ["unknown", this.#events.first()];
          this.#classesSeen.clear();
          continue;
        }
        const resume = this.#backtrack(node >> 1);
        if (resume === undefined) return this.#violation();
        [phase, node] = resume;
        continue;
      }
      const placed = this.#tryPlace(node >> 1, phase);
      if (placed === "budget") return this.#budgetExceeded();
      if (placed === "placed") fresh = true;
      else node = this.#events.after(node);
    }
    return { status: "linearizable", statesExplored: this.#explored.size };
  }

  #operation(id: number): PartitionOperation {
    const operation = this.#operations[id];
    assert(operation !== undefined, "ids name operations of the partition");
    return operation;
  }

  /** Places dominant value-preserving operations until none fits; "covered" if one led to an explored state. */
  #placeForced(): "none" | PlaceOutcome {
    // Placing one changes no value, so calls already passed over stay unfit: resume after them.
    let previous = headNode;
    let node = this.#events.first();
    while (node !== headNode && (node & 1) === 0) {
      const { entry, result } = this.#operation(node >> 1);
      if (!alwaysPreservesValue(entry.operation, result) || stepRegister(this.#state, entry.operation, result) === rejected) {
        previous = node;
        node = this.#events.after(node);
        continue;
      }
      const outcome = this.#place(node >> 1, this.#state, true);
      if (outcome !== "placed") return outcome;
      if (this.#definiteLeft === 0) return "none";
      node = previous === headNode ? this.#events.first() : this.#events.after(previous);
    }
    return "none";
  }

  /** The first return in the list: reaching it in the unknown phase means backtracking. */
  #windowEnd(): number {
    let node = this.#events.first();
    while (node !== headNode && (node & 1) === 0) node = this.#events.after(node);
    return node;
  }

  #tryPlace(id: number, phase: Phase): "placed" | "skipped" | "budget" {
    const operation = this.#operation(id);
    const definite = hasDeadline(operation);
    if (definite !== (phase === "definite")) return "skipped";
    if (!definite) {
      const effectClass = this.#effectClass[id] as number;
      if (this.#classesSeen.has(effectClass)) return "skipped";
      this.#classesSeen.add(effectClass);
    }
    const next = stepRegister(this.#state, operation.entry.operation, operation.result);
    if (next === rejected || (!definite && next === this.#state)) return "skipped";
    const outcome = this.#place(id, next, false);
    return outcome === "covered" ? "skipped" : outcome;
  }

  #place(id: number, next: RegisterValue, forced: boolean): PlaceOutcome {
    const definite = hasDeadline(this.#operation(id));
    if (definite) this.#linearized.add(id);
    else addCount(this.#placedCounts, this.#effectClass[id] as number, 1);
    if (!this.#explored.visit(`${this.#linearized.encode()}|${this.#canon.key(next)}`, this.#placedCounts)) {
      if (definite) this.#linearized.remove(id);
      else addCount(this.#placedCounts, this.#effectClass[id] as number, -1);
      return "covered";
    }
    if (this.#explored.size > this.#maxStates) return "budget";
    this.#stack.push({ id, stateBefore: this.#state, forced });
    this.#state = next;
    this.#events.lift(id);
    if (definite) this.#definiteLeft--;
    return "placed";
  }

  /**
   * Every candidate before the return of `blockingId` failed: undo placements up to one with
   * alternatives left, and say where the walk resumes. undefined when nothing is left to undo.
   */
  #backtrack(blockingId: number): [Phase, number] | undefined {
    if (this.#deepest === undefined || this.#stack.length > this.#deepest.prefix.length) {
      this.#deepest = stuckPoint(this.#events, this.#stack.map((frame) => frame.id), this.#state, blockingId);
    }
    for (;;) {
      const frame = this.#stack.pop();
      if (frame === undefined) return undefined;
      const definite = hasDeadline(this.#operation(frame.id));
      this.#events.unlift(frame.id);
      if (definite) {
        this.#linearized.remove(frame.id);
        this.#definiteLeft++;
      } else {
        addCount(this.#placedCounts, this.#effectClass[frame.id] as number, -1);
      }
      this.#state = frame.stateBefore;
      if (frame.forced) continue;
      const resumeNode = this.#events.after(2 * frame.id);
      if (!definite) this.#rememberClassesBefore(resumeNode);
      return [definite ? "definite" : "unknown", resumeNode];
    }
  }

  /** Resuming an unknown-phase scan mid-window: the classes of the candidates before it were tried. */
  #rememberClassesBefore(resumeNode: number): void {
    this.#classesSeen.clear();
    for (let node = this.#events.first(); node !== resumeNode && node !== headNode; node = this.#events.after(node)) {
      const effectClass = this.#effectClass[node >> 1] as number;
      if ((node & 1) === 0 && effectClass >= 0) this.#classesSeen.add(effectClass);
    }
  }

  #violation(): SearchOutcome {
    assert(this.#deepest !== undefined, "a violation has a deepest point");
    return { status: "violation", statesExplored: this.#explored.size, deepest: this.#deepest };
  }

  #budgetExceeded(): SearchOutcome {
    return { status: "budget-exceeded", statesExplored: this.#maxStates, deepest: this.#deepest };
  }
}

/** Adds `delta` to the count of `effectClass` in flattened sorted [class, count] pairs, dropping zeros. */
function addCount(pairs: number[], effectClass: number, delta: number): void {
  let index = 0;
  while (index < pairs.length && (pairs[index] as number) < effectClass) index += 2;
  if (index < pairs.length && pairs[index] === effectClass) {
    const count = (pairs[index + 1] as number) + delta;
    assert(count >= 0, "placed counts stay non-negative");
    if (count === 0) pairs.splice(index, 2);
    else pairs[index + 1] = count;
    return;
  }
  assert(delta > 0, "a class absent from the counts has none placed");
  pairs.splice(index, 0, effectClass, delta);
}

function stuckPoint(events: EventList, prefix: readonly number[], state: RegisterValue, blockingId: number): StuckPoint {
  const candidateIds: number[] = [];
  for (let node = events.first(); node !== headNode && node !== 2 * blockingId + 1; node = events.after(node)) {
    if ((node & 1) === 0) candidateIds.push(node >> 1);
  }
  return { prefix: [...prefix], stateAfterPrefix: state, blockingId, candidateIds };
}
