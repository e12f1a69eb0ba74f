import { describe, expect, it } from "vitest";
import { ingressSecretReferences, podReferences } from "./references.ts";

describe("podReferences", () => {
  it("finds configmaps and secrets in volumes, projected volumes, env, envFrom and image pull secrets", () => {
    const pod = {
      metadata: { namespace: "apps", name: "web" },
      spec: {
        imagePullSecrets: [{ name: "registry" }],
        volumes: [
          { name: "a", configMap: { name: "cm-volume" } },
          { name: "b", secret: { secretName: "s-volume" } },
          { name: "c", projected: { sources: [{ configMap: { name: "cm-projected" } }, { secret: { name: "s-projected" } }] } },
          { name: "d", emptyDir: {} },
        ],
        initContainers: [{ name: "init", envFrom: [{ configMapRef: { name: "cm-envfrom" } }, { secretRef: { name: "s-envfrom" } }] }],
        containers: [
          {
            name: "main",
            env: [
              { name: "A", valueFrom: { configMapKeyRef: { name: "cm-env", key: "k" } } },
              { name: "B", valueFrom: { secretKeyRef: { name: "s-env", key: "k" } } },
              { name: "C", value: "plain" },
            ],
          },
        ],
      },
    };
    const references = podReferences(pod);
    expect([...references.configMaps].sort()).toEqual(["apps/cm-env", "apps/cm-envfrom", "apps/cm-projected", "apps/cm-volume"]);
    expect([...references.secrets].sort()).toEqual(["apps/registry", "apps/s-env", "apps/s-envfrom", "apps/s-projected", "apps/s-volume"]);
  });

  it("finds nothing in a pod without a spec or with malformed fields", () => {
    expect(podReferences({ metadata: { namespace: "apps", name: "bare" } })).toEqual({ configMaps: new Set(), secrets: new Set() });
    const malformed = podReferences({ metadata: { namespace: "apps" }, spec: { volumes: "nope", containers: [{ env: [{ valueFrom: 3 }] }] } });
    expect(malformed.configMaps.size + malformed.secrets.size).toBe(0);
  });
});

describe("ingressSecretReferences", () => {
  it("names the TLS secrets of an Ingress in its own namespace and skips entries without one", () => {
    const ingress = { metadata: { namespace: "shop", name: "front" }, spec: { tls: [{ hosts: ["a.test"], secretName: "a-cert" }, { hosts: ["b.test"] }, { secretName: "b-cert" }] } };
    expect([...ingressSecretReferences(ingress)].sort()).toEqual(["shop/a-cert", "shop/b-cert"]);
    expect(ingressSecretReferences({ metadata: { namespace: "shop" }, spec: { rules: [] } }).size).toBe(0);
  });
});
