import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PersistentVolumeClaimSpec, Pod } from "../../../libs/api/index.ts";
import type { EnvSources } from "./env.ts";
import { containerMounts, VolumeError, VolumeManager, writeAtomicDirectory } from "./volumes.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fl-volumes-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const file = (text: string, mode = 0o644) => ({ content: Buffer.from(text), mode });

describe("atomic volume writer", () => {
  it("writes files behind ..data and swaps them whole on change", () => {
    const target = join(dir, "config");
    expect(writeAtomicDirectory(target, new Map([["a", file("1")], ["nested/b", file("2", 0o600)]]))).toBe(true);
    expect(readFileSync(join(target, "a"), "utf8")).toBe("1");
    expect(readFileSync(join(target, "nested/b"), "utf8")).toBe("2");
    expect(statSync(join(target, "nested/b")).mode & 0o777).toBe(0o600);
    const firstGeneration = readlinkSync(join(target, "..data"));
    expect(writeAtomicDirectory(target, new Map([["a", file("1")], ["nested/b", file("2", 0o600)]]))).toBe(false);
    expect(writeAtomicDirectory(target, new Map([["a", file("changed")]]))).toBe(true);
    expect(readFileSync(join(target, "a"), "utf8")).toBe("changed");
    expect(existsSync(join(target, "nested"))).toBe(false);
    expect(existsSync(join(target, firstGeneration))).toBe(false);
  });

  it("refuses paths that leave the volume", () => {
    expect(() => writeAtomicDirectory(join(dir, "bad"), new Map([["../escape", file("x")]]))).toThrow(VolumeError);
  });
});

describe("volume manager", () => {
  const sources: EnvSources = {
    configMap: (_namespace, name) => (name === "site" ? { metadata: { name }, data: { "index.html": "<h1>hi</h1>", other: "x" } } : undefined),
    secret: (_namespace, name) => (name === "tls" ? { metadata: { name }, data: { key: Buffer.from("k").toString("base64") } } : undefined),
    services: () => [],
    nodeIp: "192.168.1.10",
    podIp: "10.244.0.9",
    nodeAllocatable: {},
  };
  const pod: Pod = {
    metadata: { name: "web", namespace: "default", uid: "uid-web", labels: { app: "web", tier: "front" } },
    spec: {
      containers: [{ name: "main", volumeMounts: [{ name: "site", mountPath: "/www" }, { name: "scratch", mountPath: "/data", subPath: "sub/dir" }, { name: "info", mountPath: "/info" }] }],
      volumes: [
        { name: "site", configMap: { name: "site", items: [{ key: "index.html", path: "public/index.html", mode: 0o640 }] } },
        { name: "tls", secret: { secretName: "tls", defaultMode: 0o400 } },
        { name: "scratch", emptyDir: {} },
        { name: "info", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }, { path: "name", fieldRef: { fieldPath: "metadata.name" } }] } },
        { name: "host", hostPath: { path: "", type: "DirectoryOrCreate" } },
        { name: "claim", persistentVolumeClaim: { claimName: "data" } },
      ],
    },
  };

  it("prepares configMap items, secret modes, emptyDir, downwardAPI, hostPath and local-path claims", async () => {
    const manager = new VolumeManager({ podsDir: join(dir, "pods"), localPathDir: join(dir, "local-path"), mountTmpfs: false });
    const hostPath = join(dir, "host", "made");
    const withHost: Pod = { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], volumes: pod.spec?.volumes?.map((volume) => (volume.name === "host" ? { name: "host", hostPath: { path: hostPath, type: "DirectoryOrCreate" } } : volume)) ?? [] } };
    const paths = await manager.prepare(withHost, sources);
    expect(readFileSync(join(paths.get("site") ?? "", "public/index.html"), "utf8")).toBe("<h1>hi</h1>");
    expect(existsSync(join(paths.get("site") ?? "", "other"))).toBe(false);
    expect(statSync(join(paths.get("tls") ?? "", "key")).mode & 0o777).toBe(0o400);
    expect(readFileSync(join(paths.get("info") ?? "", "labels"), "utf8")).toBe('app="web"\ntier="front"');
    expect(existsSync(hostPath)).toBe(true);
    expect(paths.get("claim")).toBe(join(dir, "local-path", "default", "data"));
    const mounts = containerMounts(withHost, withHost.spec?.containers[0] ?? { name: "x" }, paths);
    expect(mounts.map((mount) => [mount.containerPath, mount.readOnly])).toEqual([["/www", true], ["/data", false], ["/info", true]]);
    expect(mounts[1]?.hostPath).toBe(join(paths.get("scratch") ?? "", "sub/dir"));
    expect(existsSync(mounts[1]?.hostPath ?? "")).toBe(true);
    await manager.cleanup("uid-web");
    expect(existsSync(join(dir, "pods", "uid-web"))).toBe(false);
    expect(existsSync(hostPath)).toBe(true);
  });

  it("a claim mounts the hostPath of the PersistentVolume bound to it, and waits while there is none", async () => {
    const manager = new VolumeManager({ podsDir: join(dir, "pods"), localPathDir: join(dir, "lp"), mountTmpfs: false });
    const claimPod: Pod = { metadata: { uid: "u4", namespace: "shop" }, spec: { containers: [], volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-db-0" } }] } };
    const volumePath = join(dir, "storage", "pvc-1_shop_data-db-0");
    let bound = false;
    const withVolumes: EnvSources = {
      ...sources,
      persistentVolume: (namespace, claimName) =>
        bound && namespace === "shop" && claimName === "data-db-0"
          ? { metadata: { name: "pvc-1", annotations: { "pv.kubernetes.io/provisioned-by": "flotilla.dev/local-path" } }, spec: { hostPath: { path: volumePath, type: "DirectoryOrCreate" } } }
          : undefined,
    };
    await expect(manager.prepare(claimPod, withVolumes)).rejects.toThrow('persistentvolumeclaim "data-db-0" is not bound to a volume on this node yet');
    bound = true;
    const paths = await manager.prepare(claimPod, withVolumes);
    expect(paths.get("data")).toBe(volumePath);
    expect(statSync(volumePath).mode & 0o777).toBe(0o777);
    await manager.cleanup("u4");
    expect(existsSync(volumePath)).toBe(true);
  });

  it("a generic ephemeral volume mounts the volume bound to the claim <pod>-<volume>", async () => {
    const manager = new VolumeManager({ podsDir: join(dir, "pods"), localPathDir: join(dir, "lp"), mountTmpfs: false });
    const spec: PersistentVolumeClaimSpec = { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } };
    const pod: Pod = { metadata: { uid: "u5", name: "web", namespace: "shop" }, spec: { containers: [], volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: { spec } } }] } };
    const volumePath = join(dir, "storage", "pvc-2_shop_web-scratch");
    const withVolumes: EnvSources = {
      ...sources,
      persistentVolume: (namespace, claimName) => (namespace === "shop" && claimName === "web-scratch" ? { metadata: { name: "pvc-2" }, spec: { hostPath: { path: volumePath, type: "DirectoryOrCreate" } } } : undefined),
    };
    expect((await manager.prepare(pod, withVolumes)).get("scratch")).toBe(volumePath);
  });

  it("a missing configMap is a VolumeError unless optional", async () => {
    const manager = new VolumeManager({ podsDir: join(dir, "pods"), localPathDir: join(dir, "lp"), mountTmpfs: false });
    const missing: Pod = { metadata: { uid: "u2", namespace: "default" }, spec: { containers: [], volumes: [{ name: "c", configMap: { name: "absent" } }] } };
    await expect(manager.prepare(missing, sources)).rejects.toThrow('configmap "absent" not found');
    const optional: Pod = { metadata: { uid: "u3", namespace: "default" }, spec: { containers: [], volumes: [{ name: "c", configMap: { name: "absent", optional: true } }] } };
    await expect(manager.prepare(optional, sources)).resolves.toBeDefined();
  });
});
