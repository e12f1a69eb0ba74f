/**
 * What an authorizer decides on (upstream's authorizer.Attributes): who asks, which verb, and
 * either a resource (group, resource, subresource, namespace, name) or a non-resource path.
 */

export interface UserIdentity {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface ResourceAttributes {
  readonly kind: "resource";
  readonly user: UserIdentity;
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string;
  /** "" for the main resource; "status", "log", "token", ... */
  readonly subresource: string;
  /** "" at the cluster scope. */
  readonly namespace: string;
  /** "" for list, watch, create without a name, deletecollection. */
  readonly name: string;
  /** The request's field selector (parsed as key=value pairs), for the node authorizer's list/watch rules. */
  readonly fieldSelector: Readonly<Record<string, string>>;
}

export interface NonResourceAttributes {
  readonly kind: "nonResource";
  readonly user: UserIdentity;
  readonly verb: string;
  readonly path: string;
}

export type Attributes = ResourceAttributes | NonResourceAttributes;

/** allow: served; deny: refused at once; noOpinion: the next authorizer decides (none left: refused). */
export type Decision = { readonly decision: "allow"; readonly reason: string } | { readonly decision: "deny" | "noOpinion"; readonly reason: string };

export const allow = (reason: string): Decision => ({ decision: "allow", reason });
export const noOpinion = (reason = ""): Decision => ({ decision: "noOpinion", reason });

/**
 * Equality terms of a field selector (`spec.nodeName=n1,metadata.name=x`); set-based or negated
 * terms are left out, so they never satisfy an authorizer's "only with this selector" rule.
 */
export function fieldSelectorTerms(selector: string | null): Record<string, string> {
  const terms: Record<string, string> = {};
  if (selector === null || selector === "") return terms;
  for (const term of selector.split(",")) {
    if (term.includes("!=")) continue;
    const [key = "", value = ""] = term.split(/==?/, 2);
    if (key.trim() !== "") terms[key.trim()] = value.trim();
  }
  return terms;
}
