import { describe, expect, test } from "vitest";
import { formatMicroTime, formatTime, humanDuration, shortHumanDuration, translateTimestampSince } from "./duration.ts";

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;
const year = 365 * day;

describe("humanDuration", () => {
  // upstream's TestHumanDuration table.
  test.each([
    [-2 * second, "<invalid>"],
    [-2 * second + 1, "0s"],
    [0, "0s"],
    [second - 1, "0s"],
    [2 * minute - 1, "119s"],
    [2 * minute, "2m"],
    [2 * minute + second, "2m1s"],
    [10 * minute - 1, "9m59s"],
    [10 * minute, "10m"],
    [10 * minute + second, "10m"],
    [3 * hour - 1, "179m"],
    [3 * hour, "3h"],
    [3 * hour + minute, "3h1m"],
    [8 * hour - 1, "7h59m"],
    [8 * hour, "8h"],
    [8 * hour + 59 * minute, "8h"],
    [2 * day - 1, "47h"],
    [2 * day, "2d"],
    [2 * day + hour, "2d1h"],
    [8 * day - 1, "7d23h"],
    [8 * day, "8d"],
    [8 * day + 23 * hour, "8d"],
    [2 * year - 1, "729d"],
    [2 * year, "2y"],
    [2 * year + 23 * hour + 59 * minute, "2y"],
    [2 * year + day, "2y1d"],
    [8 * year - 1, "7y364d"],
    [8 * year, "8y"],
    [9 * year, "9y"],
    [190 * second, "3m10s"],
    [49 * hour, "2d1h"],
  ])("%d ms is %s", (durationMs, expected) => {
    expect(humanDuration(durationMs)).toBe(expected);
  });
});

describe("shortHumanDuration", () => {
  test.each([
    [-2 * second, "<invalid>"],
    [second, "1s"],
    [2 * minute - 1, "1m"],
    [hour, "1h"],
    [2 * day - 1, "1d"],
    [year - 1, "364d"],
    [2 * year, "2y"],
  ])("%d ms is %s", (durationMs, expected) => {
    expect(shortHumanDuration(durationMs)).toBe(expected);
  });
});

describe("timestamps", () => {
  test("ages count from an RFC 3339 time to the given now, unknown when unset", () => {
    const now = Date.parse("2024-05-01T12:00:00Z");
    expect(translateTimestampSince("2024-05-01T11:56:50Z", now)).toBe("3m10s");
    expect(translateTimestampSince(null, now)).toBe("<unknown>");
    expect(translateTimestampSince(undefined, now)).toBe("<unknown>");
  });

  test("formats times as metav1.Time and MicroTime serialise", () => {
    const epoch = Date.parse("2024-05-01T12:00:00.987Z");
    expect(formatTime(epoch)).toBe("2024-05-01T12:00:00Z");
    expect(formatMicroTime(epoch, 654)).toBe("2024-05-01T12:00:00.987654Z");
  });
});
