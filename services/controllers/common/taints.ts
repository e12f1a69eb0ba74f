/**
 * Taints and tolerations (k8s.io/api core/v1 Toleration.ToleratesTaint): a toleration matches a
 * taint when the effects agree (an empty effect matches all), the keys agree (an empty key with
 * Exists matches every key), and the value is equal or the operator is Exists.
 */
import type { Taint, Toleration } from "../../../libs/api/index.ts";

export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false;
  if (toleration.key !== undefined && toleration.key !== "" && toleration.key !== taint.key) return false;
  const operator = toleration.operator ?? "Equal";
  if (operator === "Exists") return true;
  return (toleration.value ?? "") === (taint.value ?? "");
}

export function tolerationsFor(tolerations: readonly Toleration[] | undefined, taint: Taint): Toleration[] {
  return (tolerations ?? []).filter((toleration) => toleratesTaint(toleration, taint));
}
