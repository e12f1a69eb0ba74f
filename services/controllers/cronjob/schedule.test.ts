import { describe, expect, it } from "vitest";
import { nextActivationMs, scheduleOf } from "./schedule.ts";

function next(text: string, after: string, timeZone?: string): string | undefined {
  const parsed = scheduleOf(text, timeZone);
  if (!parsed.ok) throw new Error(parsed.error);
  const at = nextActivationMs(parsed.schedule, parsed.timeZone, Date.parse(after));
  return at === undefined ? undefined : new Date(at).toISOString();
}

describe("cron schedule", () => {
  it("steps, ranges and names", () => {
    expect(next("*/15 * * * *", "2026-01-01T00:07:00Z")).toBe("2026-01-01T00:15:00.000Z");
    // 9-17/4 is 9, 13 and 17; 2026-01-02 is a Friday.
    expect(next("0 9-17/4 * * MON-FRI", "2026-01-02T14:00:00Z")).toBe("2026-01-02T17:00:00.000Z");
    expect(next("0 9-17/4 * * MON-FRI", "2026-01-02T17:00:00Z")).toBe("2026-01-05T09:00:00.000Z");
    expect(next("30 2 * JAN,jul *", "2026-02-01T00:00:00Z")).toBe("2026-07-01T02:30:00.000Z");
    expect(next("@hourly", "2026-01-01T00:00:00Z")).toBe("2026-01-01T01:00:00.000Z");
  });

  it("either day field matches when both are restricted", () => {
    // 2026-01-13 is a Tuesday; the 15th comes later.
    expect(next("0 0 15 * 2", "2026-01-12T00:00:00Z")).toBe("2026-01-13T00:00:00.000Z");
  });

  it("runs in the schedule's time zone, through a DST change", () => {
    expect(next("0 9 * * *", "2026-01-01T00:00:00Z", "America/New_York")).toBe("2026-01-01T14:00:00.000Z");
    // New York moves to EDT on 2026-03-08: 09:00 is then 13:00 UTC.
    expect(next("0 9 * * *", "2026-03-08T00:00:00Z", "America/New_York")).toBe("2026-03-08T13:00:00.000Z");
    expect(next("TZ=Asia/Kolkata 0 0 * * *", "2026-01-01T00:00:00Z")).toBe("2026-01-01T18:30:00.000Z");
  });

  it("never fires for a date that does not exist", () => {
    expect(next("0 0 30 2 *", "2026-01-01T00:00:00Z")).toBeUndefined();
  });
});
