import { describe, expect, test } from "vitest";
import { canonicalQuantity, parseQuantity, Quantity, quantityFromJson } from "./quantity.ts";
import { QuantityParseError, quantityErrors } from "./quantity-parse.ts";

// Upstream's decQuantity(value, scale, format): value × 10^scale.
const dec = (value: number | bigint, scale: number, format: "DecimalSI" | "BinarySI" | "DecimalExponent") => ({ value: BigInt(value), scale, format });

function expectValue(text: string, expected: { value: bigint; scale: number; format: string }): void {
  const quantity = parseQuantity(text);
  expect(quantity.compare(Quantity.fromScaled(expected.value, expected.scale)), `${text} value`).toBe(0);
  expect(quantity.format, `${text} format`).toBe(expected.format);
}

describe("parseQuantity", () => {
  // From upstream's TestQuantityParse.
  const table: [string, ReturnType<typeof dec>][] = [
    ["0", dec(0, 0, "DecimalSI")],
    ["0Ki", dec(0, 0, "BinarySI")],
    ["0M", dec(0, 0, "DecimalSI")],
    ["1", dec(1, 0, "DecimalSI")],
    ["1Ki", dec(1024, 0, "BinarySI")],
    ["7Mi", dec(7 * 1024 * 1024, 0, "BinarySI")],
    ["3Ei", dec(3n * 1024n ** 6n, 0, "BinarySI")],
    ["100Ti", dec(100n * 1024n ** 4n, 0, "BinarySI")],
    ["5n", dec(5, -9, "DecimalSI")],
    ["4u", dec(4, -6, "DecimalSI")],
    ["3m", dec(3, -3, "DecimalSI")],
    ["50k", dec(5, 4, "DecimalSI")],
    ["300T", dec(3, 14, "DecimalSI")],
    ["1E", dec(1, 18, "DecimalSI")],
    ["1E-3", dec(1, -3, "DecimalExponent")],
    ["1e3", dec(1, 3, "DecimalExponent")],
    ["1E18", dec(1, 18, "DecimalExponent")],
    ["100.035k", dec(100035, 0, "DecimalSI")],
    ["0.001", dec(1, -3, "DecimalSI")],
    ["0.0005k", dec(5, -1, "DecimalSI")],
    ["0.50000", dec(5, -1, "DecimalSI")],
    ["0.5e-2", dec(5, -3, "DecimalExponent")],
    ["10.035M", dec(10035, 3, "DecimalSI")],
    ["1.3E+6", dec(13, 5, "DecimalExponent")],
    ["1.53E12", dec(153, 10, "DecimalExponent")],
    ["6.987654321G", dec(6987654321, 0, "DecimalSI")],
    ["1.01E", dec(101, 16, "DecimalSI")],
    ["3.001n", dec(4, -9, "DecimalSI")],
    ["1.1E-9", dec(2, -9, "DecimalExponent")],
    ["0.0000000001", dec(1, -9, "DecimalSI")],
    ["0.5e-9", dec(1, -9, "DecimalExponent")],
    ["0.00000012345", dec(124, -9, "DecimalSI")],
    ["9Ei", dec(2n ** 63n - 1n, 0, "BinarySI")],
    ["9223372036854775807Ki", dec(2n ** 63n - 1n, 0, "BinarySI")],
    ["12E", dec(12, 18, "DecimalSI")],
    ["100.035Ki", dec(10243584, -2, "BinarySI")],
    ["0.5Mi", dec(512 * 1024, 0, "BinarySI")],
    ["0.05Gi", dec(536870912, -1, "BinarySI")],
    ["0.000000000001Ki", dec(2, -9, "DecimalSI")],
    [".001", dec(1, -3, "DecimalSI")],
    [".0001k", dec(100, -3, "DecimalSI")],
    ["1.", dec(1, 0, "DecimalSI")],
    ["1.G", dec(1, 9, "DecimalSI")],
  ];

  test.each(table)("%s has upstream's value and format, also with a sign", (text, expected) => {
    expectValue(text, expected);
    expectValue(`+${text}`, expected);
    const negative = parseQuantity(`-${text}`);
    expect(negative.compare(Quantity.fromScaled(-expected.value, expected.scale))).toBe(0);
    expect(negative.format).toBe(expected.format);
  });

  test.each(["1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1", "1 ", ""])("%j is refused", (text) => {
    expect(() => parseQuantity(text)).toThrow(QuantityParseError);
  });

  test("errors carry upstream's texts", () => {
    expect(() => parseQuantity("1 ")).toThrow(quantityErrors.formatWrong);
    expect(quantityErrors.formatWrong).toBe("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    expect(() => parseQuantity("1i")).toThrow("unable to parse quantity's suffix");
    expect(() => parseQuantity("1e5000")).toThrow("unable to parse numeric part of quantity");
  });
});

describe("Quantity.toString", () => {
  // From upstream's TestQuantityString: [value, scale, format, canonical, alternate spelling].
  const table: [bigint, number, "DecimalSI" | "BinarySI" | "DecimalExponent", string, string][] = [
    [1024n ** 3n, 0, "BinarySI", "1Gi", "1024Mi"],
    [300n * 1024n * 1024n, 0, "BinarySI", "300Mi", "307200Ki"],
    [5n, 0, "BinarySI", "5", "5000m"],
    [500n, -3, "BinarySI", "500m", "0.5"],
    [1n, 9, "DecimalSI", "1G", "1000M"],
    [1000n, 6, "DecimalSI", "1G", "0.001T"],
    [1n, -3, "DecimalSI", "1m", "1000u"],
    [1080n, -3, "DecimalSI", "1080m", "1.08"],
    [108n, -2, "DecimalSI", "1080m", "1080000000n"],
    [1234567n, -3, "BinarySI", "1234567m", ""],
    [1025n, 0, "BinarySI", "1025", ""],
    [1n, 9, "DecimalExponent", "1e9", ".001e12"],
    [1n, -3, "DecimalExponent", "1e-3", "0.001e0"],
    [1n, -9, "DecimalExponent", "1e-9", "1000e-12"],
    [80n, -3, "DecimalExponent", "80e-3", ""],
    [0n, 0, "DecimalExponent", "0", "00"],
    [10800n, -10, "DecimalSI", "1080n", ""],
  ];

  test.each(table)("%s×10^%s (%s) prints %j; so does its alternate spelling %j", (value, scale, format, canonical, alternate) => {
    expect(Quantity.fromScaled(value, scale, format).toString()).toBe(canonical);
    expect(parseQuantity(canonical).toString()).toBe(canonical);
    if (alternate !== "") expect(canonicalQuantity(alternate)).toBe(canonical);
    if (value !== 0n) expect(Quantity.fromScaled(-value, scale, format).toString()).toBe(`-${canonical}`);
  });

  test.each([
    ["1Ki", "1Ki"],
    ["1024Mi", "1Gi"],
    ["1000M", "1G"],
    [".001Ki", "1024m"],
    [".000001Ki", "1024u"],
    [".000000000001Ki", "2n"],
    ["1500m", "1500m"],
    ["0.5", "500m"],
    ["1.5", "1500m"],
    ["100m", "100m"],
    ["1000", "1k"],
    ["+1k", "+1k"],
    ["0m", "0"],
  ])("%j round-trips to %j (upstream's TestQuantityParseEmit and kept input texts)", (text, expected) => {
    expect(canonicalQuantity(text)).toBe(expected);
  });

  test("serialises to JSON as its string and reads JSON numbers and padded strings", () => {
    expect(JSON.stringify({ cpu: parseQuantity("0.5") })).toBe('{"cpu":"500m"}');
    expect(quantityFromJson(2).toString()).toBe("2");
    expect(quantityFromJson(" 1Gi ").toString()).toBe("1Gi");
  });
});

describe("Quantity arithmetic", () => {
  test("compares across formats and scales", () => {
    expect(parseQuantity("1Gi").compare(parseQuantity("1G"))).toBe(1);
    expect(parseQuantity("1000m").compare(parseQuantity("1"))).toBe(0);
    expect(parseQuantity("-1").compare(parseQuantity("0"))).toBe(-1);
  });

  test("adds and subtracts exactly, keeping the first format unless it is zero", () => {
    const sum = parseQuantity("100m").add(parseQuantity("1.5"));
    expect(sum.toString()).toBe("1600m");
    expect(parseQuantity("1Gi").add(parseQuantity("512Mi")).toString()).toBe("1536Mi");
    expect(Quantity.zero().add(parseQuantity("1Ki")).format).toBe("BinarySI");
    expect(parseQuantity("1").sub(parseQuantity("1500m")).toString()).toBe("-500m");
    expect(parseQuantity("3").neg().toString()).toBe("-3");
  });

  test("scaled values round away from zero as upstream's MilliValue and Value", () => {
    expect(parseQuantity("1.5").milliValue()).toBe(1500);
    expect(parseQuantity("1500m").value()).toBe(2);
    expect(parseQuantity("-1.5").value()).toBe(-2);
    expect(parseQuantity("1n").milliValue()).toBe(1);
    expect(parseQuantity("1Gi").value()).toBe(1073741824);
    expect(Quantity.fromScaled(1, 2).scaledValueBig(-2)).toBe(10000n);
    expect(parseQuantity("250m").approximateFloat()).toBeCloseTo(0.25);
  });
});
