import { describe, expect, it } from "vitest";
import { podClaimNames } from "../../libs/api/index.ts";
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from "../../libs/api/index.ts";
import { defaultClassAnnotation, pickDefaultStorageClass, resolvePodVolumes, type VolumeLookups } from "./volumes.ts";

function podWithClaims(...claimNames: string[]): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-0", namespace: "default" },
    spec: { containers: [{ name: "app", image: "nginx" }], volumes: claimNames.map((claimName, index) => ({ name: `v${index}`, persistentVolumeClaim: { claimName } })) },
  };
}

function claim(name: string, spec: NonNullable<PersistentVolumeClaim["spec"]>): PersistentVolumeClaim {
  return { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name, namespace: "default" }, spec };
}

function pinnedVolume(name: string, nodeName: string): PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [nodeName] }] }] } } },
  };
}

function lookups(claims: PersistentVolumeClaim[], volumes: PersistentVolume[], classes: StorageClass[]): VolumeLookups {
  return {
    claim: (namespace, name) => claims.find((c) => c.metadata.namespace === namespace && c.metadata.name === name),
    volume: (name) => volumes.find((v) => v.metadata.name === name),
    storageClass: (name) => classes.find((c) => c.metadata.name === name),
    defaultStorageClass: () => pickDefaultStorageClass(classes),
  };
}

const waitForConsumer: StorageClass = { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "local-path" }, provisioner: "flotilla.io/local-path", volumeBindingMode: "WaitForFirstConsumer" };
const immediate: StorageClass = { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "fast" }, provisioner: "example.com/fast", volumeBindingMode: "Immediate" };

describe("resolvePodVolumes", () => {
  it("passes the PV a bound claim names, so its node affinity can pin the pod", () => {
    const volume = pinnedVolume("pv-1", "node-b");
    const inputs = resolvePodVolumes(podWithClaims("data"), lookups([claim("data", { volumeName: "pv-1", storageClassName: "local-path" })], [volume], [waitForConsumer]));
    expect(inputs).toEqual({ boundVolumes: [volume], unboundImmediateClaims: false });
  });

  it("does not block on an unbound claim whose class waits for the first consumer", () => {
    const inputs = resolvePodVolumes(podWithClaims("data"), lookups([claim("data", { storageClassName: "local-path" })], [], [waitForConsumer]));
    expect(inputs).toEqual({ boundVolumes: [], unboundImmediateClaims: false });
  });

  it("reports an unbound claim of an Immediate class, an unknown class or the empty class as unbound immediate", () => {
    expect(resolvePodVolumes(podWithClaims("data"), lookups([claim("data", { storageClassName: "fast" })], [], [immediate])).unboundImmediateClaims).toBe(true);
    expect(resolvePodVolumes(podWithClaims("data"), lookups([claim("data", { storageClassName: "missing" })], [], [immediate])).unboundImmediateClaims).toBe(true);
    expect(resolvePodVolumes(podWithClaims("data"), lookups([claim("data", { storageClassName: "" })], [], [waitForConsumer])).unboundImmediateClaims).toBe(true);
  });

  it("gives a claim that names no class the default class's binding mode, WaitForFirstConsumer without one", () => {
    const defaultImmediate: StorageClass = { ...immediate, metadata: { name: "fast", annotations: { [defaultClassAnnotation]: "true" } } };
    expect(resolvePodVolumes(podWithClaims("data"), lookups([claim("data", {})], [], [defaultImmediate, waitForConsumer])).unboundImmediateClaims).toBe(true);
    expect(resolvePodVolumes(podWithClaims("data"), lookups([claim("data", {})], [], [immediate])).unboundImmediateClaims).toBe(false);
  });

  it("holds the pod with upstream's reason when its claim or the claim's PV is not known, and looks only in the pod's namespace", () => {
    const elsewhere: PersistentVolumeClaim = { ...claim("data", { storageClassName: "fast" }), metadata: { name: "data", namespace: "other" } };
    expect(resolvePodVolumes(podWithClaims("data"), lookups([elsewhere], [], [immediate]))).toEqual({ missingVolumeReason: 'persistentvolumeclaim "data" not found' });
    const pointsAtNothing = resolvePodVolumes(podWithClaims("logs"), lookups([claim("logs", { volumeName: "pv-gone" })], [], [immediate]));
    expect(pointsAtNothing).toEqual({ missingVolumeReason: "pvc(s) bound to non-existent pv(s)" });
  });

  it("names the claim of a generic ephemeral volume <pod>-<volume>", () => {
    const pod: Pod = { ...podWithClaims("data"), spec: { containers: [], volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: { spec: {} } } }, { name: "data", persistentVolumeClaim: { claimName: "data" } }] } };
    expect(podClaimNames(pod)).toEqual(["web-0-scratch", "data"]);
  });

  it("uses an ephemeral volume's claim only when the pod controls it, with upstream's reason otherwise", () => {
    const pod: Pod = { ...podWithClaims(), metadata: { name: "web-0", namespace: "default", uid: "pod-uid" }, spec: { containers: [], volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: { spec: {} } } }] } };
    const owner = { apiVersion: "v1", kind: "Pod", name: "web-0", uid: "pod-uid", controller: true };
    const foreign = claim("web-0-scratch", { volumeName: "pv-1" });
    expect(resolvePodVolumes(pod, lookups([foreign], [pinnedVolume("pv-1", "node-a")], [waitForConsumer]))).toEqual({
      missingVolumeReason: "PVC default/web-0-scratch was not created for pod default/web-0 (pod is not owner)",
    });
    const notController: PersistentVolumeClaim = { ...foreign, metadata: { ...foreign.metadata, ownerReferences: [{ ...owner, controller: false }] } };
    expect(resolvePodVolumes(pod, lookups([notController], [pinnedVolume("pv-1", "node-a")], [waitForConsumer])).missingVolumeReason).toContain("pod is not owner");
    const owned: PersistentVolumeClaim = { ...foreign, metadata: { ...foreign.metadata, ownerReferences: [owner] } };
    expect(resolvePodVolumes(pod, lookups([owned], [pinnedVolume("pv-1", "node-a")], [waitForConsumer])).boundVolumes?.map((v) => v.metadata.name)).toEqual(["pv-1"]);
  });
});
