/** API versions as upstream parses them (schema.ParseGroupVersion): `v1`, `apps/v1`. */

export interface GroupVersion {
  readonly group: string;
  readonly version: string;
}

/** `v1` is the core group; `apps/v1` names a group; anything with two slashes is not an API version. */
export function parseApiVersion(apiVersion: string): GroupVersion | undefined {
  if (apiVersion === "" || apiVersion === "/") return { group: "", version: "" };
  const parts = apiVersion.split("/");
  if (parts.length === 1) return { group: "", version: apiVersion };
  if (parts.length === 2) return { group: parts[0] ?? "", version: parts[1] ?? "" };
  return undefined;
}

/** The apiVersion string of a group and version: `v1` for the core group, `apps/v1` otherwise. */
export function formatApiVersion(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}
