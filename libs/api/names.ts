/**
 * Names the server generates from `metadata.generateName`, as upstream's SimpleNameGenerator:
 * the prefix cut to 58 characters, then five characters from an alphabet without vowels (so no
 * words appear). Randomness is injected: a seeded Prng keeps tests and simulations replayable.
 */
import type { Prng } from "../prng/index.ts";

/** Upstream's alphabet for generated suffixes (utilrand.String). */
export const generatedNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
export const generatedNameSuffixLength = 5;
/** The longest prefix kept, so that prefix and suffix fit a 63-character DNS label. */
export const generatedNamePrefixMax = 63 - generatedNameSuffixLength;

export function generateName(prefix: string, prng: Prng): string {
  let name = prefix.length > generatedNamePrefixMax ? prefix.slice(0, generatedNamePrefixMax) : prefix;
  for (let index = 0; index < generatedNameSuffixLength; index++) {
    name += generatedNameAlphabet.charAt(prng.nextInt(generatedNameAlphabet.length));
  }
  return name;
}
