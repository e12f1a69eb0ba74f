/**
 * The standard cron syntax upstream's CronJob controller accepts (robfig/cron v3 ParseStandard):
 * five fields (minute hour day-of-month month day-of-week), each a comma list of `*`, `?`, `N`,
 * `N-M`, with an optional `/step`; month and weekday names; descriptors (`@hourly`, `@every 1h`)
 * and a `TZ=` / `CRON_TZ=` prefix. Errors carry robfig's texts, which upstream shows verbatim.
 */

export interface CronFieldBounds {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const monthNames: Readonly<Record<string, number>> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const weekdayNames: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

export const cronFields: readonly CronFieldBounds[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "dayOfMonth", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: monthNames },
  { name: "dayOfWeek", min: 0, max: 6, names: weekdayNames },
];

/** The five standard fields a descriptor stands for. */
const descriptors: ReadonlyMap<string, string> = new Map([
  ["@yearly", "0 0 1 1 *"],
  ["@annually", "0 0 1 1 *"],
  ["@monthly", "0 0 1 * *"],
  ["@weekly", "0 0 * * 0"],
  ["@daily", "0 0 * * *"],
  ["@midnight", "0 0 * * *"],
  ["@hourly", "0 * * * *"],
]);

/** A parsed schedule: the allowed values of each field, or a fixed interval for `@every`. */
export interface CronSchedule {
  readonly timeZone: string | undefined;
  /** Allowed values per field, in cronFields order; empty for an `@every` schedule. */
  readonly fields: readonly ReadonlySet<number>[];
  /** Whether day-of-month / day-of-week was `*` or `?` (cron's either-day rule uses this). */
  readonly dayOfMonthStar: boolean;
  readonly dayOfWeekStar: boolean;
  readonly everySeconds: number | undefined;
}

export type CronParseResult = { readonly ok: true; readonly schedule: CronSchedule } | { readonly ok: false; readonly error: string };

function failure(error: string): CronParseResult {
  return { ok: false, error };
}

// strconv.Atoi, then robfig's negative check, with their error texts.
function parseInteger(text: string): number | string {
  if (!/^[+-]?[0-9]+$/.test(text)) return `failed to parse int from ${text}: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`;
  const value = Number(text);
  return value < 0 ? `negative number (${value}) not allowed: ${text}` : value;
}

function parseIntegerOrName(text: string, bounds: CronFieldBounds): number | string {
  const named = bounds.names?.[text.toLowerCase()];
  return named ?? parseInteger(text);
}

interface RangeResult {
  readonly values: number[];
  readonly star: boolean;
}

function parseRange(expression: string, bounds: CronFieldBounds): RangeResult | string {
  const rangeAndStep = expression.split("/");
  const lowAndHigh = (rangeAndStep[0] ?? "").split("-");
  const star = lowAndHigh[0] === "*" || lowAndHigh[0] === "?";
  let start = bounds.min;
  let end = bounds.max;
  if (!star) {
    if (lowAndHigh.length > 2) return `too many hyphens: ${expression}`;
    const low = parseIntegerOrName(lowAndHigh[0] ?? "", bounds);
    if (typeof low === "string") return low;
    start = low;
    end = low;
    if (lowAndHigh.length === 2) {
      const high = parseIntegerOrName(lowAndHigh[1] ?? "", bounds);
      if (typeof high === "string") return high;
      end = high;
    }
  }
  let step = 1;
  if (rangeAndStep.length > 2) return `too many slashes: ${expression}`;
  if (rangeAndStep.length === 2) {
    const parsed = parseInteger(rangeAndStep[1] ?? "");
    if (typeof parsed === "string") return parsed;
    step = parsed;
    // `N/step` means from N to the field's maximum.
    if (lowAndHigh.length === 1) end = bounds.max;
  }
  if (start < bounds.min) return `beginning of range (${start}) below minimum (${bounds.min}): ${expression}`;
  if (end > bounds.max) return `end of range (${end}) above maximum (${bounds.max}): ${expression}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expression}`;
  if (step === 0) return `step of range should be a positive number: ${expression}`;
  const values: number[] = [];
  for (let value = start; value <= end; value += step) values.push(value);
  return { values, star: star && step === 1 };
}

function parseField(text: string, bounds: CronFieldBounds): { values: Set<number>; star: boolean } | string {
  const values = new Set<number>();
  let star = false;
  for (const expression of text.split(",")) {
    const range = parseRange(expression, bounds);
    if (typeof range === "string") return range;
    range.values.forEach((value) => values.add(value));
    star ||= range.star;
  }
  return { values, star };
}

const durationUnitsSeconds: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

// Go's time.ParseDuration for the positive forms `@every` takes (`1h30m`, `90s`, `1.5h`).
function parseDurationSeconds(text: string): number | undefined {
  if (!/^([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))*$/.test(text)) return undefined;
  let seconds = 0;
  for (const match of text.matchAll(/([0-9.]+)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(match[1]) * (durationUnitsSeconds[match[2] ?? "s"] ?? 1);
  return seconds;
}

function parseDescriptor(descriptor: string, timeZone: string | undefined): CronParseResult {
  const expansion = descriptors.get(descriptor);
  if (expansion !== undefined) return parseFields(expansion.split(" "), timeZone);
  if (descriptor.startsWith("@every ")) {
    const text = descriptor.slice("@every ".length);
    const seconds = parseDurationSeconds(text);
    if (seconds === undefined) return failure(`failed to parse duration ${descriptor}: time: invalid duration ${JSON.stringify(text)}`);
    return { ok: true, schedule: { timeZone, fields: [], dayOfMonthStar: false, dayOfWeekStar: false, everySeconds: seconds } };
  }
  return failure(`unrecognized descriptor: ${descriptor}`);
}

function parseFields(fields: readonly string[], timeZone: string | undefined): CronParseResult {
  if (fields.length !== cronFields.length) return failure(`expected exactly ${cronFields.length} fields, found ${fields.length}: [${fields.join(" ")}]`);
  const parsed: Set<number>[] = [];
  const stars: boolean[] = [];
  for (const [index, bounds] of cronFields.entries()) {
    const field = parseField(fields[index] ?? "", bounds);
    if (typeof field === "string") return failure(field);
    parsed.push(field.values);
    stars.push(field.star);
  }
  return { ok: true, schedule: { timeZone, fields: parsed, dayOfMonthStar: stars[2] ?? false, dayOfWeekStar: stars[4] ?? false, everySeconds: undefined } };
}

/** Parses a standard cron schedule; the error text is robfig/cron's. */
export function parseCronSchedule(text: string): CronParseResult {
  let spec = text.trim();
  if (spec.length === 0) return failure("empty spec string");
  let timeZone: string | undefined;
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const space = spec.indexOf(" ");
    const end = space < 0 ? spec.length : space;
    timeZone = spec.slice(spec.indexOf("=") + 1, end);
    spec = spec.slice(end).trim();
  }
  if (spec.startsWith("@")) return parseDescriptor(spec, timeZone);
  return parseFields(spec.split(/\s+/).filter((field) => field.length > 0), timeZone);
}

/** Whether `zone` names an IANA time zone this runtime knows (Go's LoadLocation, by Intl). */
export function isKnownTimeZone(zone: string): boolean {
  if (zone === "UTC" || zone === "") return true;
  if (zone.toLowerCase() === "local" || !/^[A-Za-z0-9_+\-./]+$/.test(zone) || zone.includes("..")) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
