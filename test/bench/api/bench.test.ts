import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultObject, validateObject, type KubeObject } from "../../../libs/api/index.ts";
import { credentialsFromKubeconfig } from "./http.ts";
import { benchNamespace, podManifest, podName } from "./load.ts";
import { bucketOf } from "./profile-buckets.ts";

describe("the API bench's pods", () => {
  it("pass the API's create validation after defaulting, so no create is refused for its body", () => {
    for (const index of [0, 15, 9999]) {
      const pod = defaultObject(JSON.parse(podManifest(index)) as KubeObject);
      expect(validateObject(pod)).toEqual([]);
      expect(pod.metadata?.namespace).toBe(benchNamespace);
    }
  });

  it("have distinct names that sort in creation order", () => {
    const names = [podName(2), podName(10), podName(9999)];
    expect([...names].sort()).toEqual(names);
    expect(new Set(names).size).toBe(3);
  });
});

describe("credentialsFromKubeconfig()", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("reads inline base64 data and file paths alike", () => {
    dir = mkdtempSync(join(tmpdir(), "bench-api-kubeconfig-"));
    const keyPath = join(dir, "admin.key");
    writeFileSync(keyPath, "KEY-PEM");
    const b64 = (text: string): string => Buffer.from(text).toString("base64");
    const path = join(dir, "admin.kubeconfig");
    writeFileSync(path, [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: c\n  cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${b64("CA-PEM")}}`,
      "users:",
      `- name: admin\n  user: {client-certificate-data: ${b64("CERT-PEM")}, client-key: ${keyPath}}`,
    ].join("\n"));
    expect(credentialsFromKubeconfig(path)).toEqual({ caPem: "CA-PEM", certPem: "CERT-PEM", keyPem: "KEY-PEM" });
  });
});

describe("profile buckets", () => {
  it("put frames into the API path's phases and leave idle out", () => {
    expect(bucketOf("(idle)", "")).toBeUndefined();
    expect(bucketOf("decodeObject", "file:///r/services/apiserver/storage/objects.ts")).toMatch(/^JSON/);
    expect(bucketOf("eventLine", "file:///r/services/apiserver/rest-read.ts")).toBe("watch fan-out");
    expect(bucketOf("makeUnaryRequest", "nm/@grpc/grpc-js/build/src/client.js")).toMatch(/^store round trip/);
    expect(bucketOf("TLSSocket.getPeerCertificate", "node:_tls_wrap")).toMatch(/^TLS/);
    expect(bucketOf("serve", "file:///r/services/apiserver/server.ts")).toMatch(/^API handlers/);
  });
});
