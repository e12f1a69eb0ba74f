import { describe, expect, test } from "vitest";
import { isKnownTimeZone, parseCronSchedule } from "./cron.ts";

function fieldValues(schedule: string): number[][] {
  const parsed = parseCronSchedule(schedule);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.schedule.fields.map((values) => [...values].sort((left, right) => left - right));
}

describe("parseCronSchedule()", () => {
  test("steps, ranges, lists and names expand to the allowed values", () => {
    expect(fieldValues("*/15 9-17/4 1,15 jan-mar MON-FRI")).toEqual([[0, 15, 30, 45], [9, 13, 17], [1, 15], [1, 2, 3], [1, 2, 3, 4, 5]]);
  });

  test("N/step runs from N to the field's maximum", () => {
    expect(fieldValues("50/5 * * * *")[0]).toEqual([50, 55]);
  });

  test("descriptors expand to their five fields", () => {
    expect(fieldValues("@weekly")).toEqual(fieldValues("0 0 * * 0"));
    expect(fieldValues("@hourly")[0]).toEqual([0]);
    expect(fieldValues("@hourly")[1]).toHaveLength(24);
  });

  test("a star in day-of-month or day-of-week is remembered; a stepped star is not", () => {
    const plain = parseCronSchedule("0 0 * * 1");
    const stepped = parseCronSchedule("0 0 */2 * ?");
    expect(plain.ok && plain.schedule.dayOfMonthStar && !plain.schedule.dayOfWeekStar).toBe(true);
    expect(stepped.ok && !stepped.schedule.dayOfMonthStar && stepped.schedule.dayOfWeekStar).toBe(true);
  });

  test("@every takes a Go duration", () => {
    const parsed = parseCronSchedule("@every 1h30m");
    expect(parsed.ok && parsed.schedule.everySeconds).toBe(5400);
    expect(parseCronSchedule("@every soon")).toEqual({ ok: false, error: 'failed to parse duration @every soon: time: invalid duration "soon"' });
  });

  test("a TZ prefix is split off", () => {
    const parsed = parseCronSchedule("CRON_TZ=Europe/Paris 0 6 * * *");
    expect(parsed.ok && parsed.schedule.timeZone).toBe("Europe/Paris");
  });

  test.each([
    ["", "empty spec string"],
    ["1-2-3 * * * *", "too many hyphens: 1-2-3"],
    ["1/2/3 * * * *", "too many slashes: 1/2/3"],
    ["* * 0 * *", "beginning of range (0) below minimum (1): 0"],
    ["* * * 13 *", "end of range (13) above maximum (12): 13"],
    ["* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"],
  ])("%j fails with robfig's message", (schedule, error) => {
    expect(parseCronSchedule(schedule)).toEqual({ ok: false, error });
  });
});

describe("isKnownTimeZone()", () => {
  test.each(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])("%s is known", (zone) => {
    expect(isKnownTimeZone(zone)).toBe(true);
  });
  test.each(["Local", "local", "Nowhere/Special", "../etc/passwd", "Europe Berlin"])("%s is refused", (zone) => {
    expect(isKnownTimeZone(zone)).toBe(false);
  });
});
