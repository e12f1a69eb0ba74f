/**
 * Human ages as kubectl shows them (k8s.io/apimachinery pkg/util/duration): `5s`, `3m10s`,
 * `70m`, `3h1m`, `2d3h`, `2y1d`. Pure: the caller passes the current time.
 */

const secondMs = 1000;
const minuteMs = 60 * secondMs;
const hourMs = 60 * minuteMs;
const dayHours = 24;
const yearDays = 365;

/** upstream's HumanDuration; negative durations beyond -2s print `<invalid>`. */
export function humanDuration(durationMs: number): string {
  const seconds = Math.trunc(durationMs / secondMs);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(durationMs / minuteMs);
  if (minutes < 10) {
    const rest = seconds % 60;
    return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(durationMs / hourMs);
  if (hours < 8) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours}h` : `${hours}h${rest}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / dayHours);
  if (hours < 8 * dayHours) {
    const rest = hours % dayHours;
    return rest === 0 ? `${days}d` : `${days}d${rest}h`;
  }
  if (hours < 2 * yearDays * dayHours) return `${days}d`;
  const years = Math.trunc(days / yearDays);
  if (hours < 8 * yearDays * dayHours) {
    const rest = days % yearDays;
    return rest === 0 ? `${years}y` : `${years}y${rest}d`;
  }
  return `${years}y`;
}

/** upstream's ShortHumanDuration: one unit only (`5m`, `2d`). */
export function shortHumanDuration(durationMs: number): string {
  const seconds = Math.trunc(durationMs / secondMs);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(durationMs / minuteMs);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(durationMs / hourMs);
  if (hours < dayHours) return `${hours}h`;
  if (hours < yearDays * dayHours) return `${Math.trunc(hours / dayHours)}d`;
  return `${Math.trunc(hours / dayHours / yearDays)}y`;
}

/** Milliseconds since the epoch of an RFC 3339 time; undefined for a missing or zero time. */
export function parseTime(time: string | null | undefined): number | undefined {
  if (time === undefined || time === null || time === "") return undefined;
  const parsed = Date.parse(time);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** upstream's translateTimestampSince: the age of a time, `<unknown>` when it is unset. */
export function translateTimestampSince(time: string | null | undefined, nowMs: number): string {
  const thenMs = parseTime(time);
  return thenMs === undefined ? "<unknown>" : humanDuration(nowMs - thenMs);
}

/** A time as RFC 3339 with second precision in UTC, as metav1.Time serialises. */
export function formatTime(epochMs: number): string {
  return new Date(Math.floor(epochMs / secondMs) * secondMs).toISOString().replace(".000Z", "Z");
}

/** A time as metav1.MicroTime serialises: six fractional digits, UTC. */
export function formatMicroTime(epochMs: number, microsecondsPart = 0): string {
  const iso = new Date(Math.floor(epochMs)).toISOString();
  const millis = iso.slice(20, 23);
  const micros = String(Math.trunc(microsecondsPart) % 1000).padStart(3, "0");
  return `${iso.slice(0, 19)}.${millis}${micros}Z`;
}
