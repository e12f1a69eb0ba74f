/**
 * Deadlines inferred for unknown-outcome writes. An unknown write has no completion, so the
 * search may place it anywhere after its invocation, and every such freedom multiplies the work
 * of proving a violation. But when it is the only operation on the key that writes some value,
 * and an acknowledged read returned that value (or an acknowledged CAS succeeded against it),
 * the write must have taken effect before that observer completed. It then gets the earliest
 * such completion as its deadline: still any result, but it must be placed by then.
 */
import type { PartitionOperation } from "./history.ts";
import type { RegisterValue } from "./types.ts";

export function pinObservedUnknownWrites(operations: readonly PartitionOperation[], initial: RegisterValue): PartitionOperation[] {
  const writerCounts = new Map<string, number>();
  const earliestObserved = new Map<string, number>();
  for (const { entry, result, completeTime } of operations) {
    const request = entry.operation;
    if (request.kind === "put" || request.kind === "cas") writerCounts.set(request.value, (writerCounts.get(request.value) ?? 0) + 1);
    let observed: string | null = null;
    if (result?.kind === "get") observed = result.value;
    if (result?.kind === "cas" && result.succeeded && request.kind === "cas") observed = request.expected;
    if (observed !== null) earliestObserved.set(observed, Math.min(completeTime, earliestObserved.get(observed) ?? Number.POSITIVE_INFINITY));
  }
  return operations.map((operation) => {
    const request = operation.entry.operation;
    if (operation.result !== undefined || (request.kind !== "put" && request.kind !== "cas")) return operation;
    if (request.value === initial || writerCounts.get(request.value) !== 1) return operation;
    const deadline = earliestObserved.get(request.value);
    // An observer done before the write began cannot be explained by it; the search will say so.
    if (deadline === undefined || deadline < operation.invokeTime) return operation;
    return { ...operation, completeTime: deadline };
  });
}
