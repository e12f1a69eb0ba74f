import { describe, expect, it } from "vitest";
import { registerCleanup, sweepAll } from "./cleanup.ts";

describe("cleanup registry", () => {
  it("runs steps newest first, keeps going past a failing step, and runs each once", () => {
    const ran: string[] = [];
    const logged: string[] = [];
    registerCleanup("namespace", () => ran.push("namespace"));
    registerCleanup("broken", () => {
      throw new Error("boom");
    });
    registerCleanup("process", () => ran.push("process"));
    sweepAll((line) => logged.push(line));
    sweepAll((line) => logged.push(line));
    expect(ran).toEqual(["process", "namespace"]);
    expect(logged).toEqual(["cleanup: broken failed: boom"]);
  });

  it("skips a step that was unregistered after a normal cleanup", () => {
    const ran: string[] = [];
    const unregister = registerCleanup("lab", () => ran.push("lab"));
    unregister();
    sweepAll(() => undefined);
    expect(ran).toEqual([]);
  });
});
