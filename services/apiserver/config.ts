/** `flotilla apiserver` flags and the configuration run() takes. */
import { FlagError, flagsHelp, parseFlags, type FlagSpecs } from "../../libs/flags/index.ts";
import { parsePortRange, parseServiceCidr } from "./allocator/range.ts";

export interface ApiServerConfig {
  /** etcd v3 client URLs (Flotilla's store or a real etcd). */
  readonly storeEndpoints: readonly string[];
  readonly listenAddress: string;
  /** 0 picks a free port (tests read it back from run's `ready`). */
  readonly port: number;
  /** Holds ca.crt/ca.key, apiserver.crt/apiserver.key and admin.kubeconfig. */
  readonly dataDir: string;
  /** Extra names and addresses for the serving certificate (127.0.0.1, localhost and the host name are always in). */
  readonly certificateNames: readonly string[];
  /** Requests (watches excluded) served at once; more get 429. */
  readonly maxRequestsInflight: number;
  /** A request that is not a watch gets 504 after this long. */
  readonly requestTimeoutSeconds: number;
  /** Services' cluster IPs come from here (default 10.96.0.0/12). */
  readonly serviceClusterIpRange?: string | undefined;
  /** NodePorts come from here (default 30000-32767). */
  readonly serviceNodePortRange?: string | undefined;
  /** The address other machines reach this server at, for the `kubernetes` Endpoints (default 127.0.0.1). */
  readonly advertiseAddress?: string | undefined;
  /**
   * Lifetime of the serving certificate and of the admin kubeconfig's client certificate (the
   * first one and its renewals; default one year); each is renewed when a third remains. Tests
   * shorten it.
   */
  readonly servingCertificateValidityMs?: number | undefined;
}

export const serviceClusterIpRangeDefault = "10.96.0.0/12";
export const serviceNodePortRangeDefault = "30000-32767";

export const apiServerFlags = {
  "store-endpoints": { type: "list", default: ["http://127.0.0.1:2379"], help: "etcd v3 client URLs of the store (Flotilla's store or etcd)" },
  "listen-address": { type: "string", default: "0.0.0.0", help: "address the HTTPS API listens on" },
  port: { type: "integer", default: 6443, min: 0, max: 65535, help: "HTTPS API port" },
  "data-dir": { type: "string", default: "/var/lib/flotilla/apiserver", help: "directory for the cluster CA, the serving certificate and admin.kubeconfig (made on first start)" },
  "tls-san": { type: "list", default: [], help: "extra DNS names or IP addresses for the serving certificate" },
  "max-requests-inflight": { type: "integer", default: 400, min: 1, max: 100_000, help: "requests (not watches) served at once; more get 429" },
  "request-timeout": { type: "integer", default: 60, min: 1, max: 3600, help: "seconds before a request (not a watch) times out with 504" },
  "service-cluster-ip-range": { type: "string", default: "10.96.0.0/12", help: "IPv4 CIDR services' cluster IPs are allocated from (at most a /12)" },
  "service-node-port-range": { type: "string", default: "30000-32767", help: "port range NodePort services are allocated from" },
  "advertise-address": { type: "string", default: "127.0.0.1", help: "address listed in the kubernetes Service's Endpoints" },
} as const satisfies FlagSpecs;

export const apiServerUsage = "flotilla apiserver [flags]\n\nThe Kubernetes-compatible REST API over a store reached through the etcd v3 API.";

function checkRange(flag: string, parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    throw new FlagError(flag, (error as Error).message);
  }
}

/** Parses argv; `{ help }` when --help was given. Throws FlagError on bad flags. */
export function parseApiServerFlags(argv: readonly string[]): { config: ApiServerConfig } | { help: string } {
  const parsed = parseFlags(apiServerFlags, argv);
  if (parsed.help) return { help: flagsHelp(apiServerUsage, apiServerFlags) };
  const values = parsed.values;
  if (values["store-endpoints"].length === 0) throw new FlagError("store-endpoints", "at least one endpoint is required");
  checkRange("service-cluster-ip-range", () => parseServiceCidr(values["service-cluster-ip-range"]));
  checkRange("service-node-port-range", () => parsePortRange(values["service-node-port-range"]));
  return {
    config: {
      storeEndpoints: values["store-endpoints"],
      listenAddress: values["listen-address"],
      port: values.port,
      dataDir: values["data-dir"],
      certificateNames: values["tls-san"],
      maxRequestsInflight: values["max-requests-inflight"],
      requestTimeoutSeconds: values["request-timeout"],
      serviceClusterIpRange: values["service-cluster-ip-range"],
      serviceNodePortRange: values["service-node-port-range"],
      advertiseAddress: values["advertise-address"],
    },
  };
}
