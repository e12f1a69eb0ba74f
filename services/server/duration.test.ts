import { describe, expect, it } from "vitest";
import { parseDurationMs } from "./duration.ts";

describe("parseDurationMs", () => {
  it("reads Go durations with several units", () => {
    expect(parseDurationMs("15s")).toBe(15_000);
    expect(parseDurationMs("500ms")).toBe(500);
    expect(parseDurationMs("1m30s")).toBe(90_000);
    expect(parseDurationMs("1.5s")).toBe(1_500);
  });

  it("refuses text that is not a duration", () => {
    for (const text of ["", "15", "s", "15x", "15s junk", "100h"]) expect(() => parseDurationMs(text)).toThrow();
  });
});
