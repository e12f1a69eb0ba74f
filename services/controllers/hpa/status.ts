/**
 * The autoscaler's conditions as upstream's setCondition keeps them: one per type, in the order
 * first set; the transition time moves only when the status changes, so a sync that finds the
 * same state rewrites nothing.
 */
import { formatTime } from "../../../libs/api/index.ts";
import type { HorizontalPodAutoscaler } from "../../../libs/api/index.ts";

export type HpaCondition = NonNullable<NonNullable<HorizontalPodAutoscaler["status"]>["conditions"]>[number];

export function setCondition(conditions: readonly HpaCondition[], next: Omit<HpaCondition, "lastTransitionTime">, nowMs: number): HpaCondition[] {
  const existing = conditions.find((condition) => condition.type === next.type);
  const lastTransitionTime = existing !== undefined && existing.status === next.status ? (existing.lastTransitionTime ?? formatTime(nowMs)) : formatTime(nowMs);
  const updated: HpaCondition = { type: next.type, status: next.status, lastTransitionTime, ...(next.reason === undefined ? {} : { reason: next.reason }), ...(next.message === undefined ? {} : { message: next.message }) };
  if (existing === undefined) return [...conditions, updated];
  return conditions.map((condition) => (condition.type === next.type ? updated : condition));
}
