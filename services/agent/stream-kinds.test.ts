import { describe, expect, it } from "vitest";
import { consumedOptionalKinds } from "./stream-kinds.ts";

describe("consumedOptionalKinds", () => {
  it("asks for no optional kind when the agent runs neither network nor ingress", () => {
    expect(consumedOptionalKinds({ network: false, ingress: false })).toEqual([]);
  });

  it("asks for Nodes and EndpointSlices for the overlay, proxy and DNS", () => {
    expect(consumedOptionalKinds({ network: true, ingress: false })).toEqual(["ENDPOINT_SLICE", "NODE"]);
  });

  it("asks for Ingresses, IngressClasses and EndpointSlices for the ingress proxy", () => {
    expect(consumedOptionalKinds({ network: false, ingress: true })).toEqual(["ENDPOINT_SLICE", "INGRESS", "INGRESS_CLASS"]);
  });

  it("asks for every optional kind, each once, when both run", () => {
    expect(consumedOptionalKinds({ network: true, ingress: true })).toEqual(["ENDPOINT_SLICE", "INGRESS", "INGRESS_CLASS", "NODE"]);
  });
});
