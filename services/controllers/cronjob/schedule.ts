/**
 * Next activation times of a cron schedule (robfig/cron v3's SpecSchedule.Next, which upstream's
 * CronJob controller uses) on top of libs/api's parser: wall-clock fields are matched in the
 * schedule's time zone through Intl, stepping minute, hour or day at a time, so DST and
 * half-hour offsets come out as the zone's own clock says. Day-of-month and day-of-week: when
 * both are restricted either may match, otherwise both must (cron's rule).
 */
import { parseCronSchedule } from "../../../libs/api/index.ts";
import type { CronSchedule } from "../../../libs/api/index.ts";

/** How far ahead a search looks before it says "never" (robfig gives up after five years too). */
export const scheduleSearchHorizonMs = 5 * 366 * 24 * 3600 * 1000;
/** A bound on steps besides the horizon: day steps over five years plus hour and minute steps. */
export const scheduleSearchStepsMax = 20_000;
const minuteMs = 60_000;

interface WallClock {
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const weekdays: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let cached = formatters.get(timeZone);
  if (cached === undefined) {
    cached = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", weekday: "short" });
    formatters.set(timeZone, cached);
  }
  return cached;
}

function wallClock(ms: number, timeZone: string): WallClock {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) parts[part.type] = part.value;
  return { month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour) % 24, minute: Number(parts.minute), weekday: weekdays[parts.weekday ?? ""] ?? 0 };
}

function dayMatches(schedule: CronSchedule, clock: WallClock): boolean {
  const dom = schedule.fields[2]?.has(clock.day) ?? false;
  const dow = schedule.fields[4]?.has(clock.weekday) ?? false;
  if (schedule.dayOfMonthStar || schedule.dayOfWeekStar) return dom && dow;
  return dom || dow;
}

/** The first activation strictly after `afterMs`, or undefined when the schedule never fires. */
export function nextActivationMs(schedule: CronSchedule, timeZone: string, afterMs: number): number | undefined {
  if (schedule.everySeconds !== undefined) return Math.floor(afterMs / 1000) * 1000 + schedule.everySeconds * 1000;
  let at = Math.floor(afterMs / minuteMs) * minuteMs + minuteMs;
  const horizonMs = afterMs + scheduleSearchHorizonMs;
  for (let step = 0; step < scheduleSearchStepsMax && at <= horizonMs; step++) {
    const clock = wallClock(at, timeZone);
    if (!(schedule.fields[3]?.has(clock.month) ?? false) || !dayMatches(schedule, clock)) {
      at += (24 * 60 - (clock.hour * 60 + clock.minute)) * minuteMs;
      continue;
    }
    if (!(schedule.fields[1]?.has(clock.hour) ?? false)) {
      at += (60 - clock.minute) * minuteMs;
      continue;
    }
    if (!(schedule.fields[0]?.has(clock.minute) ?? false)) {
      at += minuteMs;
      continue;
    }
    return at;
  }
  return undefined;
}

export type ParsedSchedule = { ok: true; schedule: CronSchedule; timeZone: string } | { ok: false; error: string };

/** The schedule with its zone: spec.timeZone, else a TZ= prefix, else UTC (the controller's zone). */
export function scheduleOf(text: string, timeZone: string | undefined): ParsedSchedule {
  const parsed = parseCronSchedule(text);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  const zone = timeZone ?? parsed.schedule.timeZone ?? "UTC";
  try {
    formatter(zone);
  } catch {
    return { ok: false, error: `unknown time zone ${zone}` };
  }
  return { ok: true, schedule: parsed.schedule, timeZone: zone };
}
