/**
 * The configmaps and secrets a pod references (volumes, projected volumes, env, envFrom, image
 * pull secrets), as `namespace/name`: what the node API sends a node besides its pods, and what
 * upstream's node authorizer lets a node read; and the TLS secrets an Ingress names (its
 * `spec.tls[].secretName`), which every node's ingress proxy needs.
 */
import type { StoredObject } from "../apiserver/storage/index.ts";

export interface PodReferences {
  readonly configMaps: Set<string>;
  readonly secrets: Set<string>;
}

type Json = Record<string, unknown>;

const recordsIn = (value: unknown): Json[] => (Array.isArray(value) ? value.filter((item): item is Json => typeof item === "object" && item !== null) : []);
const record = (value: unknown): Json | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined);
const stringIn = (value: Json | undefined, field: string): string => (typeof value?.[field] === "string" ? (value[field] as string) : "");

function addName(set: Set<string>, namespace: string, name: string): void {
  if (name !== "") set.add(`${namespace}/${name}`);
}

function addVolumes(spec: Json, namespace: string, references: PodReferences): void {
  for (const volume of recordsIn(spec["volumes"])) {
    addName(references.configMaps, namespace, stringIn(record(volume["configMap"]), "name"));
    addName(references.secrets, namespace, stringIn(record(volume["secret"]), "secretName"));
    for (const source of recordsIn(record(volume["projected"])?.["sources"])) {
      addName(references.configMaps, namespace, stringIn(record(source["configMap"]), "name"));
      addName(references.secrets, namespace, stringIn(record(source["secret"]), "name"));
    }
  }
}

function addContainers(spec: Json, namespace: string, references: PodReferences): void {
  const containers = [...recordsIn(spec["initContainers"]), ...recordsIn(spec["containers"]), ...recordsIn(spec["ephemeralContainers"])];
  for (const container of containers) {
    for (const env of recordsIn(container["env"])) {
      const from = record(env["valueFrom"]);
      addName(references.configMaps, namespace, stringIn(record(from?.["configMapKeyRef"]), "name"));
      addName(references.secrets, namespace, stringIn(record(from?.["secretKeyRef"]), "name"));
    }
    for (const source of recordsIn(container["envFrom"])) {
      addName(references.configMaps, namespace, stringIn(record(source["configMapRef"]), "name"));
      addName(references.secrets, namespace, stringIn(record(source["secretRef"]), "name"));
    }
  }
}

export function podReferences(pod: StoredObject): PodReferences {
  const references: PodReferences = { configMaps: new Set(), secrets: new Set() };
  const namespace = stringIn(record(pod["metadata"]), "namespace");
  const spec = record(pod["spec"]);
  if (spec === undefined) return references;
  addVolumes(spec, namespace, references);
  addContainers(spec, namespace, references);
  for (const pullSecret of recordsIn(spec["imagePullSecrets"])) addName(references.secrets, namespace, stringIn(pullSecret, "name"));
  return references;
}

/** The TLS secrets an Ingress names, as `namespace/name` (its own namespace only, as upstream). */
export function ingressSecretReferences(ingress: StoredObject): Set<string> {
  const secrets = new Set<string>();
  const namespace = stringIn(record(ingress["metadata"]), "namespace");
  for (const tls of recordsIn(record(ingress["spec"])?.["tls"])) addName(secrets, namespace, stringIn(tls, "secretName"));
  return secrets;
}
