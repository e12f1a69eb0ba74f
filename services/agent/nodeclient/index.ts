/** The agent's node-API half: join, credentials in --data-dir, and the ControlPlane over gRPC. */
export { NodeClient, backoffInitialMs, backoffMaxMs, callAttemptsMax, callTimeoutMs, leaseDurationSeconds } from "./client.ts";
export { JoinError, joinOrLoad, loadCredentials, nodeApiTarget, saveCredentials, type JoinOptions, type NodeCredentials } from "./credentials.ts";
export { startNodeCertificateRenewal, type RenewalOptions } from "./renewal.ts";
export { ClientStreamSession } from "./session.ts";
