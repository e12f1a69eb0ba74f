/**
 * Registry credentials for a pull from the pod's imagePullSecrets (kubernetes.io/dockerconfigjson
 * or the older dockercfg), matched by registry host as the kubelet's keyring does.
 */
import type { Pod, Secret } from "../../../libs/api/index.ts";
import type { RegistryAuth } from "../cri/index.ts";

/** The registry host of an image reference; Docker Hub for names without one. */
export function registryHost(image: string): string {
  const first = image.split("/")[0] ?? "";
  const hasHost = image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return hasHost ? first : "docker.io";
}

function hostOf(key: string): string {
  const withoutScheme = key.replace(/^https?:\/\//, "");
  const host = withoutScheme.split("/")[0] ?? "";
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

interface DockerAuthEntry {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
}

function entries(secret: Secret): Record<string, DockerAuthEntry> {
  const data = secret.data ?? {};
  const decode = (value: string): unknown => JSON.parse(Buffer.from(value, "base64").toString("utf8"));
  try {
    if (data[".dockerconfigjson"] !== undefined) return ((decode(data[".dockerconfigjson"]) as { auths?: Record<string, DockerAuthEntry> }).auths ?? {});
    if (data[".dockercfg"] !== undefined) return decode(data[".dockercfg"]) as Record<string, DockerAuthEntry>;
  } catch {
    return {};
  }
  return {};
}

/** The first imagePullSecret entry whose registry matches the image's, or undefined. */
export function registryAuthFor(image: string, pod: Pod, secret: (name: string) => Secret | undefined): RegistryAuth | undefined {
  const host = registryHost(image);
  for (const reference of pod.spec?.imagePullSecrets ?? []) {
    const found = reference.name === undefined ? undefined : secret(reference.name);
    if (found === undefined) continue;
    for (const [key, entry] of Object.entries(entries(found))) {
      if (hostOf(key) !== host) continue;
      return {
        serverAddress: key,
        ...(entry.username === undefined ? {} : { username: entry.username }),
        ...(entry.password === undefined ? {} : { password: entry.password }),
        ...(entry.auth === undefined ? {} : { auth: entry.auth }),
        ...(entry.identitytoken === undefined ? {} : { identityToken: entry.identitytoken }),
      };
    }
  }
  return undefined;
}
