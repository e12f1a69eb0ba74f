/**
 * Authentication by client certificate (the TLS layer verified it against the cluster CA): the
 * subject's CN is the user, each O a group. Everyone else is anonymous, and anonymous requests
 * reach only the health and version endpoints. Authorization for now: system:masters may do
 * everything, other users nothing (RBAC comes later).
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { UserInfo } from "./context.ts";

export const mastersGroup = "system:masters";
export const authenticatedGroup = "system:authenticated";

/** Paths anonymous clients may read, as upstream's system:public-info-viewer allows. */
const publicPaths = new Set(["/healthz", "/livez", "/readyz", "/version"]);

export function isPublicPath(path: string): boolean {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return publicPaths.has(trimmed);
}

/** The user of a request from its verified client certificate, or undefined (anonymous). */
export function authenticate(request: IncomingMessage): UserInfo | undefined {
  const socket = request.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== "function" || socket.authorized !== true) return undefined;
  const certificate = socket.getPeerCertificate();
  const subject = certificate.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  if (subject === undefined) return undefined;
  return userFromSubject(subject);
}

/** CN the user name, every O a group, plus system:authenticated. Undefined without a CN. */
export function userFromSubject(subject: Readonly<Record<string, string | readonly string[] | undefined>>): UserInfo | undefined {
  const commonName = subject["CN"];
  const name = Array.isArray(commonName) ? commonName[0] : commonName;
  if (typeof name !== "string" || name === "") return undefined;
  const organizations = subject["O"];
  const groups = organizations === undefined ? [] : Array.isArray(organizations) ? [...(organizations as string[])] : [organizations as string];
  return { name, groups: [...groups, authenticatedGroup] };
}

export function isAuthorized(user: UserInfo): boolean {
  return user.groups.includes(mastersGroup);
}
