import { describe, expect, it } from "vitest";
import { jsonPath } from "./jsonpath.ts";

const list = {
  items: [
    { metadata: { name: "a", labels: { "app.kubernetes.io/name": "web" } }, spec: { replicas: 2 } },
    { metadata: { name: "b", labels: {} }, spec: { replicas: 0 } },
  ],
};

describe("jsonPath", () => {
  it("evaluates fields, indexes, wildcards and escaped dots", () => {
    expect(jsonPath("{.items[0].metadata.name}", list)).toBe("a");
    expect(jsonPath("{.items[*].spec.replicas}", list)).toBe("2 0");
    expect(jsonPath("{.items[-1].metadata.name}", list)).toBe("b");
    expect(jsonPath("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}", list)).toBe("web");
    expect(jsonPath("{.items[0].metadata.labels['app.kubernetes.io/name']}", list)).toBe("web");
    expect(jsonPath("{.items[0].metadata}", list)).toBe('{"name":"a","labels":{"app.kubernetes.io/name":"web"}}');
  });

  it("runs range blocks with string literals", () => {
    expect(jsonPath('{range .items[*]}{.metadata.name}={.spec.replicas}{"\\n"}{end}', list)).toBe("a=2\nb=0\n");
    expect(jsonPath("names: {.items[*].metadata.name}", list)).toBe("names: a b");
  });

  it("refuses an unclosed action or range", () => {
    expect(() => jsonPath("{.items", list)).toThrow("unclosed action");
    expect(() => jsonPath("{range .items[*]}{.x}", list)).toThrow("unclosed range");
  });
});
