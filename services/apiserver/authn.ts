/**
 * Authentication, in upstream's order: a client certificate the TLS layer verified against the
 * cluster CA (CN the user, each O a group: admins `O=system:masters`, nodes `CN=system:node:<n>,
 * O=system:nodes`), else a bearer token (service account JWTs signed by the cluster). A request
 * with neither is anonymous and reaches only the health and version endpoints; a request with a
 * token that does not verify is refused (401), never treated as anonymous.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { UserInfo } from "./context.ts";

export const mastersGroup = "system:masters";
export const authenticatedGroup = "system:authenticated";
export const unauthenticatedGroup = "system:unauthenticated";
export const anonymousUser: UserInfo = { name: "system:anonymous", groups: [unauthenticatedGroup] };

/** Paths anonymous clients may read, as upstream's system:public-info-viewer allows. */
const publicPaths = new Set(["/healthz", "/livez", "/readyz", "/version"]);

export function isPublicPath(path: string): boolean {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return publicPaths.has(trimmed);
}

/** Verifies a bearer token: the user it stands for, or undefined when it is not valid. */
export interface TokenAuthenticator {
  authenticateToken(token: string): Promise<UserInfo | undefined>;
}

export type Authentication = { readonly kind: "user"; readonly user: UserInfo } | { readonly kind: "anonymous" } | { readonly kind: "invalid" };

/** The user of a request from its verified client certificate, or undefined. */
export function authenticate(request: IncomingMessage): UserInfo | undefined {
  const socket = request.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== "function" || socket.authorized !== true) return undefined;
  const certificate = socket.getPeerCertificate();
  const subject = certificate.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  if (subject === undefined) return undefined;
  return userFromSubject(subject);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

/** Certificate first, then the bearer token; anonymous when the request carries neither. */
export async function authenticateRequest(request: IncomingMessage, tokens: TokenAuthenticator | undefined): Promise<Authentication> {
  const certificateUser = authenticate(request);
  if (certificateUser !== undefined) return { kind: "user", user: certificateUser };
  const token = bearerTokenOf(request.headers.authorization);
  if (token === undefined) return { kind: "anonymous" };
  const tokenUser = tokens === undefined ? undefined : await tokens.authenticateToken(token);
  return tokenUser === undefined ? { kind: "invalid" } : { kind: "user", user: tokenUser };
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
