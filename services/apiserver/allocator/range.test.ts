import { describe, expect, it } from "vitest";
import { createPrng } from "../../../libs/prng/index.ts";
import { bitIsSet, emptyBitmap, parsePortRange, parseServiceCidr, pickFree, staticBandSize, withBit } from "./range.ts";

describe("service ranges", () => {
  it("number a CIDR's usable addresses from the first after the network address", () => {
    const range = parseServiceCidr("10.96.0.0/12");
    expect(range.size).toBe(2 ** 20 - 2);
    expect(range.valueAt(0)).toBe("10.96.0.1");
    expect(range.offsetOf("10.96.0.10")).toBe(9);
    expect(range.offsetOf("10.96.0.0")).toBeUndefined();
    expect(range.offsetOf("10.111.255.255")).toBeUndefined();
    expect(range.offsetOf("10.112.0.1")).toBeUndefined();
    expect(range.valueAt(range.size - 1)).toBe("10.111.255.254");
  });

  it("refuse what is not an IPv4 CIDR of a usable size", () => {
    expect(() => parseServiceCidr("10.96.0.0/8")).toThrow("larger than a /12");
    expect(() => parseServiceCidr("fd00::/108")).toThrow("IPv4");
    expect(() => parsePortRange("32767-30000")).toThrow("FIRST-LAST");
  });

  it("number node ports from the range's first port", () => {
    const ports = parsePortRange("30000-32767");
    expect(ports.size).toBe(2768);
    expect(ports.offsetOf("30080")).toBe(80);
    expect(ports.offsetOf("80")).toBeUndefined();
    expect(ports.valueAt(2767)).toBe("32767");
  });
});

describe("pickFree()", () => {
  it("never picks a taken offset and leaves the static band to requests while the upper band has room", () => {
    const size = 1000;
    const band = staticBandSize(size);
    let bitmap = emptyBitmap(size);
    const prng = createPrng(7);
    for (let count = 0; count < size - band; count++) {
      const offset = pickFree(bitmap, size, prng);
      expect(offset).toBeDefined();
      expect(offset as number).toBeGreaterThanOrEqual(band);
      expect(bitIsSet(bitmap, offset as number)).toBe(false);
      bitmap = withBit(bitmap, offset as number, true);
    }
    const fromStatic = pickFree(bitmap, size, prng);
    expect(fromStatic as number).toBeLessThan(band);
  });

  it("reports a full range as undefined", () => {
    let bitmap = emptyBitmap(20);
    for (let offset = 0; offset < 20; offset++) bitmap = withBit(bitmap, offset, true);
    expect(pickFree(bitmap, 20, createPrng(1))).toBeUndefined();
    expect(bitIsSet(withBit(bitmap, 3, false), 3)).toBe(false);
  });
});
