/**
 * Kubeconfig files, as kubectl reads them: one cluster (server URL and CA), one user (client
 * certificate and key, or a bearer token) and one context joining them, made current. Data is
 * embedded (`*-data`, base64 PEM) so the file stands alone.
 */
import { parse, stringify } from "yaml";

export type KubeconfigCredentials =
  | { readonly kind: "client-certificate"; readonly certificatePem: string; readonly privateKeyPem: string }
  | { readonly kind: "token"; readonly token: string };

export interface KubeconfigParams {
  readonly clusterName: string;
  readonly serverUrl: string;
  readonly caCertificatePem: string;
  readonly userName: string;
  readonly credentials: KubeconfigCredentials;
  /** Defaults to `<userName>@<clusterName>`. */
  readonly contextName?: string;
  readonly namespace?: string;
}

/** A kubeconfig larger than this is not one we wrote or should parse. */
export const kubeconfigBytesMax = 1024 * 1024;

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

function checkParams(params: KubeconfigParams): void {
  let url: URL;
  try {
    url = new URL(params.serverUrl);
  } catch (cause) {
    throw new Error(`kubeconfig server URL ${JSON.stringify(params.serverUrl)} is not a URL`, { cause });
  }
  if (url.protocol !== "https:") throw new Error(`kubeconfig server URL must be https (Flotilla serves TLS only), got ${url.protocol}`);
  for (const [what, name] of [["cluster", params.clusterName], ["user", params.userName]] as const) {
    if (name.length === 0) throw new Error(`kubeconfig ${what} name is empty`);
  }
  if (!params.caCertificatePem.includes("-----BEGIN CERTIFICATE-----")) throw new Error("kubeconfig CA is not a PEM certificate");
}

/** The kubeconfig as an object in kubectl's `v1` Config shape. */
export function kubeconfigObject(params: KubeconfigParams): Record<string, unknown> {
  checkParams(params);
  const contextName = params.contextName ?? `${params.userName}@${params.clusterName}`;
  const user =
    params.credentials.kind === "token"
      ? { token: params.credentials.token }
      : {
          "client-certificate-data": base64(params.credentials.certificatePem),
          "client-key-data": base64(params.credentials.privateKeyPem),
        };
  return {
    apiVersion: "v1",
    kind: "Config",
    preferences: {},
    clusters: [{ name: params.clusterName, cluster: { server: params.serverUrl, "certificate-authority-data": base64(params.caCertificatePem) } }],
    users: [{ name: params.userName, user }],
    contexts: [
      {
        name: contextName,
        context: { cluster: params.clusterName, user: params.userName, ...(params.namespace === undefined ? {} : { namespace: params.namespace }) },
      },
    ],
    "current-context": contextName,
  };
}

/** The kubeconfig as YAML text. It holds credentials: write it with mode 0600. */
export function buildKubeconfig(params: KubeconfigParams): string {
  return stringify(kubeconfigObject(params));
}

function namedEntry(list: unknown, name: string, key: string): Record<string, unknown> {
  if (!Array.isArray(list)) throw new Error(`kubeconfig has no ${key}s list`);
  const entry = (list as unknown[]).find((item) => (item as { name?: unknown } | null)?.name === name) as Record<string, unknown> | undefined;
  const body = entry?.[key];
  if (typeof body !== "object" || body === null) throw new Error(`kubeconfig has no ${key} named ${JSON.stringify(name)}`);
  return body as Record<string, unknown>;
}

function decodeData(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) throw new Error(`kubeconfig: ${what} is missing (only embedded *-data is read)`);
  return Buffer.from(value, "base64").toString("utf8");
}

/** Reads the current context of a kubeconfig back into parameters (embedded data only). */
export function parseKubeconfig(text: string): KubeconfigParams {
  if (text.length > kubeconfigBytesMax) throw new Error(`kubeconfig is larger than ${kubeconfigBytesMax} bytes`);
  const config = parse(text) as Record<string, unknown> | null;
  if (typeof config !== "object" || config === null) throw new Error("kubeconfig is not a YAML mapping");
  const contextName = config["current-context"];
  if (typeof contextName !== "string" || contextName.length === 0) throw new Error("kubeconfig has no current-context");
  const context = namedEntry(config["contexts"], contextName, "context");
  const clusterName = String(context["cluster"]);
  const userName = String(context["user"]);
  const cluster = namedEntry(config["clusters"], clusterName, "cluster");
  const user = namedEntry(config["users"], userName, "user");
  const credentials: KubeconfigCredentials =
    typeof user["token"] === "string"
      ? { kind: "token", token: user["token"] }
      : {
          kind: "client-certificate",
          certificatePem: decodeData(user["client-certificate-data"], "client-certificate-data"),
          privateKeyPem: decodeData(user["client-key-data"], "client-key-data"),
        };
  return {
    clusterName,
    serverUrl: String(cluster["server"]),
    caCertificatePem: decodeData(cluster["certificate-authority-data"], "certificate-authority-data"),
    userName,
    credentials,
    contextName,
    ...(typeof context["namespace"] === "string" ? { namespace: context["namespace"] } : {}),
  };
}
