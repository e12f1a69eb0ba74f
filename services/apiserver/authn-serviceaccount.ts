/**
 * Service account tokens: signed with the cluster's service account key (D/sa.key, shared by every
 * replica) with upstream's claims, and verified back into the user
 * `system:serviceaccount:<ns>:<name>` in groups system:serviceaccounts,
 * system:serviceaccounts:<ns> and system:authenticated. As for upstream's bound tokens, a token
 * stops working when its service account (or the pod it is bound to) is deleted or replaced: the
 * uid in the token must still be the live object's.
 */
import { JwtError, JwtSigner, JwtVerifier, serviceAccountClaims, type ObjectReference, type ServiceAccountClaims } from "../../libs/pki/index.ts";
import type { Logger } from "../../libs/log/index.ts";
import { authenticatedGroup, type TokenAuthenticator } from "./authn.ts";
import type { UserInfo } from "./context.ts";

/** upstream's default issuer and API audience (`--service-account-issuer`, `--api-audiences`). */
export const serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local";
export const serviceAccountsGroup = "system:serviceaccounts";
/** Clock difference tolerated on a token's exp, nbf and iat. */
export const tokenLeewaySeconds = 60;

/** The uid of a live object, or undefined when it does not exist. */
export type UidLookup = (resource: "serviceaccounts" | "pods", namespace: string, name: string) => Promise<string | undefined>;

export interface IssueRequest {
  readonly namespace: string;
  readonly serviceAccount: ObjectReference;
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  readonly pod?: ObjectReference | undefined;
  readonly node?: ObjectReference | undefined;
}

export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { name: `system:serviceaccount:${namespace}:${name}`, groups: [serviceAccountsGroup, `${serviceAccountsGroup}:${namespace}`, authenticatedGroup] };
}

export class ServiceAccountTokens implements TokenAuthenticator {
  readonly #signer: JwtSigner;
  readonly #verifier: JwtVerifier;
  readonly #lookup: UidLookup;
  readonly #nowMs: () => number;
  readonly #logger: Logger | undefined;

  constructor(options: { privateKeyPem: string; lookup: UidLookup; nowMs: () => number; logger?: Logger | undefined }) {
    this.#signer = new JwtSigner(options.privateKeyPem);
    this.#verifier = new JwtVerifier([this.#signer.publicKeyPem]);
    this.#lookup = options.lookup;
    this.#nowMs = options.nowMs;
    this.#logger = options.logger;
  }

  /** A signed token and the time it expires. */
  issue(request: IssueRequest): { token: string; expiresAtMs: number } {
    const claims = serviceAccountClaims({
      issuer: serviceAccountIssuer,
      audiences: request.audiences,
      namespace: request.namespace,
      serviceAccount: request.serviceAccount,
      nowSeconds: Math.floor(this.#nowMs() / 1000),
      expirationSeconds: request.expirationSeconds,
      ...(request.pod === undefined ? {} : { pod: request.pod }),
      ...(request.node === undefined ? {} : { node: request.node }),
    });
    return { token: this.#signer.sign(claims), expiresAtMs: claims.exp * 1000 };
  }

  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    let claims: ServiceAccountClaims;
    try {
      claims = this.#verifier.verify(token, { nowSeconds: Math.floor(this.#nowMs() / 1000), issuers: [serviceAccountIssuer], audiences: [serviceAccountIssuer], leewaySeconds: tokenLeewaySeconds });
    } catch (error) {
      if (!(error instanceof JwtError)) throw error;
      this.#logger?.debug({ reason: error.reason }, "bearer token refused");
      return undefined;
    }
    const kubernetes = claims["kubernetes.io"];
    const namespace = kubernetes.namespace;
    if ((await this.#lookup("serviceaccounts", namespace, kubernetes.serviceaccount.name)) !== kubernetes.serviceaccount.uid) return undefined;
    if (kubernetes.pod !== undefined && (await this.#lookup("pods", namespace, kubernetes.pod.name)) !== kubernetes.pod.uid) return undefined;
    return serviceAccountUser(namespace, kubernetes.serviceaccount.name);
  }
}
