import { describe, expect, test } from "vitest";
import { createPrng } from "../prng/index.ts";
import { generateName, generatedNameAlphabet } from "./names.ts";
import { isDns1123Label } from "./validation-strings.ts";

describe("generateName", () => {
  test("appends five characters of upstream's alphabet, the same ones for the same seed", () => {
    const name = generateName("web-", createPrng(7));
    expect(name).toMatch(new RegExp(`^web-[${generatedNameAlphabet}]{5}$`));
    expect(generateName("web-", createPrng(7))).toBe(name);
    expect(generateName("web-", createPrng(8))).not.toBe(name);
  });

  test("cuts a long prefix so the result is still a DNS label", () => {
    const name = generateName(`${"a".repeat(70)}-`, createPrng(1));
    expect(name).toHaveLength(63);
    expect(isDns1123Label(name)).toEqual([]);
  });
});
