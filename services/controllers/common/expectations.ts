/**
 * Controller expectations (pkg/controller ControllerExpectations): after a controller asks for N
 * creations or deletions it waits until its informer has seen them before it counts pods again,
 * so that a burst of events against a stale cache never creates or deletes extra pods. An
 * expectation older than `expectationsTimeoutMs` is treated as met, so a lost event only delays.
 * Deletions are tracked by pod UID (UIDTrackingControllerExpectations): a graceful delete shows
 * up twice (deletionTimestamp set, then gone) and must count once.
 */
import { assert } from "../../../libs/assert/index.ts";

/** Upstream's ExpectationsTimeout: 5 minutes. */
export const expectationsTimeoutMs = 5 * 60 * 1000;

interface Expectation {
  adds: number;
  deletes: Set<string>;
  setAtMs: number;
}

export class Expectations {
  readonly #byKey = new Map<string, Expectation>();
  readonly #nowMs: () => number;

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs;
  }

  /** True when the controller may count what its cache holds and act on it. */
  satisfied(key: string): boolean {
    const expectation = this.#byKey.get(key);
    if (expectation === undefined) return true;
    if (expectation.adds <= 0 && expectation.deletes.size === 0) return true;
    return this.#nowMs() - expectation.setAtMs > expectationsTimeoutMs;
  }

  expect(key: string, adds: number, deletedUids: readonly string[]): void {
    assert(adds >= 0, "expected creations are non-negative");
    this.#byKey.set(key, { adds, deletes: new Set(deletedUids), setAtMs: this.#nowMs() });
  }

  /** One expected creation was seen (or will never happen because the create failed). */
  creationObserved(key: string): void {
    const expectation = this.#byKey.get(key);
    if (expectation !== undefined) expectation.adds--;
  }

  /** The pod with this UID was seen going (or its delete failed and it will not go). */
  deletionObserved(key: string, uid: string): void {
    this.#byKey.get(key)?.deletes.delete(uid);
  }

  forget(key: string): void {
    this.#byKey.delete(key);
  }

  /** Adds and deletes still awaited, for tests and logs. */
  pending(key: string): { adds: number; deletes: number } {
    const expectation = this.#byKey.get(key);
    return { adds: expectation?.adds ?? 0, deletes: expectation?.deletes.size ?? 0 };
  }
}
