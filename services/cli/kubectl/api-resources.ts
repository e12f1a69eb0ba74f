/**
 * `flotilla api-resources`: NAME SHORTNAMES APIVERSION NAMESPACED KIND for every resource the
 * server serves (libs/api's registry, preferred versions), sorted as kubectl sorts them;
 * `--namespaced`, `--api-group`, `-o name|wide`.
 */
import { allResources, apiVersionOf, preferredVersion } from "../../../libs/api/index.ts";
import type { ResourceInfo } from "../../../libs/api/index.ts";
import { formatError } from "./context.ts";
import { flagValue, parseArgs, UsageError, type FlagSpec } from "./flags.ts";
import { formatColumns } from "./printers.ts";

export const apiResourcesFlags: FlagSpec = {
  values: ["namespaced", "api-group", "output", "verbs", "sort-by"],
  shorts: { o: "output" },
};

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The rows kubectl prints, before formatting: preferred versions, grouped by group, then by name. */
export function apiResourceRows(namespaced: boolean | undefined, apiGroup: string | undefined): ResourceInfo[] {
  return allResources()
    .filter((resource) => resource.version === preferredVersion(resource.group))
    .filter((resource) => namespaced === undefined || resource.namespaced === namespaced)
    .filter((resource) => apiGroup === undefined || resource.group === apiGroup)
    .sort((a, b) => compare(a.group, b.group) || compare(a.resource, b.resource));
}

export function formatApiResources(resources: readonly ResourceInfo[], output: string | undefined): string {
  if (output === "name") return resources.map((resource) => `${resource.resource}${resource.group === "" ? "" : `.${resource.group}`}\n`).join("");
  const wide = output === "wide";
  const header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", ...(wide ? ["VERBS", "CATEGORIES"] : [])];
  const rows = resources.map((resource) => [
    resource.resource,
    resource.shortNames.join(","),
    apiVersionOf(resource),
    String(resource.namespaced),
    resource.kind,
    ...(wide ? [`[${resource.verbs.join(" ")}]`, resource.categories.join(",")] : []),
  ]);
  return formatColumns([header, ...rows]);
}

export async function main(args: readonly string[]): Promise<number> {
  try {
    const parsed = parseArgs(args, apiResourcesFlags);
    const namespacedText = flagValue(parsed, "namespaced");
    if (namespacedText !== undefined && namespacedText !== "true" && namespacedText !== "false") throw new UsageError(`invalid --namespaced value ${namespacedText}`);
    const namespaced = namespacedText === undefined ? undefined : namespacedText === "true";
    process.stdout.write(formatApiResources(apiResourceRows(namespaced, flagValue(parsed, "api-group")), flagValue(parsed, "output")));
    return await Promise.resolve(0);
  } catch (error) {
    process.stderr.write(`${formatError(error)}\n`);
    return 1;
  }
}
