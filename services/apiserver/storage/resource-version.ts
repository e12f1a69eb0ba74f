/**
 * resourceVersion parameters. On the wire they are opaque strings; here they are store revisions.
 * "" (or absent) means "unset" (most recent, linearizable), "0" means "any", anything else must
 * be a revision.
 */
import { BadRequestError } from "./errors.ts";

/** undefined for "" or absent, else the revision (0 for "0"); BadRequestError for anything else. */
export function parseResourceVersion(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^[0-9]{1,16}$/.test(value)) throw new BadRequestError(`invalid resource version: ${JSON.stringify(value)}`);
  const revision = Number(value);
  if (!Number.isSafeInteger(revision)) throw new BadRequestError(`invalid resource version: ${JSON.stringify(value)}`);
  return revision;
}

/** resourceVersionMatch values (metav1.ResourceVersionMatch). */
export type ResourceVersionMatch = "NotOlderThan" | "Exact";
