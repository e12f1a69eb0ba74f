/** Go-style durations for flags (`15s`, `500ms`, `1m30s`), as upstream's --leader-elect-* flags take. */

const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
/** A duration flag longer than this is a typo. */
export const durationFlagMsMax = 24 * 3_600_000;

/** Milliseconds of a duration like `15s`, `1m30s` or `250ms`; throws on anything else. */
export function parseDurationMs(text: string): number {
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let totalMs = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    totalMs += Number(match[1]) * (unitMs[match[2] ?? ""] ?? Number.NaN);
    consumed = pattern.lastIndex;
  }
  if (text === "" || consumed !== text.length || !Number.isFinite(totalMs)) throw new Error(`${JSON.stringify(text)} is not a duration (like 15s, 500ms, 1m30s)`);
  if (totalMs > durationFlagMsMax) throw new Error(`${text} is longer than ${durationFlagMsMax / 3_600_000} h`);
  return Math.round(totalMs);
}
