/** Flotilla's PKI: the cluster CA, certificates, join and bearer tokens, service account JWTs, kubeconfigs. */
export type { KeyAlgorithm, KeyPairPem } from "./keys.ts";
export { generateKeyPairPem } from "./keys.ts";
export type { CertificateInfo } from "./certificate.ts";
export { certificateInfo, certificateSha256Hex, needsRenewal, splitPemCertificates } from "./certificate.ts";
export type {
  CertificateProfile,
  CertificateUsage,
  CreateCaOptions,
  IssuedCertificate,
  SignedCertificate,
} from "./ca.ts";
export {
  ClusterCa,
  adminClientProfile,
  caValidityMsDefault,
  clockSkewBackdateMs,
  createCa,
  leafValidityMsDefault,
  nodeClientProfile,
  servingProfile,
} from "./ca.ts";
export { createCertificateRequest } from "./csr.ts";
export type { WriteFileOptions } from "./files.ts";
export {
  caCertificateFileName,
  caKeyFileName,
  loadCa,
  loadOrCreateCa,
  publicFileMode,
  readPemFile,
  saveCa,
  secretFileMode,
  writeFileAtomic,
} from "./files.ts";
export type { JoinToken, NewTokenOptions, TokenCheck, TokenCredential, TokenRecord, TokenUsage, TokenUser } from "./token.ts";
export {
  CaHashMismatchError,
  TokenFormatError,
  caHashOf,
  checkToken,
  createToken,
  formatJoinToken,
  parseBearerToken,
  parseJoinToken,
  verifyCaHash,
} from "./token.ts";
export type { BootstrapTrustOptions, PeerChainReader, TrustTarget } from "./trust.ts";
export { ServerVerificationError, bootstrapServerCa, readPeerChainUnverified, verifyPeerChainAgainstCaHash } from "./trust.ts";
export type {
  JwtAlgorithm,
  JwtErrorReason,
  KubernetesClaims,
  ObjectReference,
  ServiceAccountClaims,
  ServiceAccountTokenRequest,
  VerifyOptions,
} from "./jwt.ts";
export { JwtError, JwtSigner, JwtVerifier, keyIdOf, serviceAccountClaims } from "./jwt.ts";
export type { KubeconfigCredentials, KubeconfigParams } from "./kubeconfig.ts";
export { buildKubeconfig, kubeconfigObject, parseKubeconfig } from "./kubeconfig.ts";
