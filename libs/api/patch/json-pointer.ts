/**
 * JSON Pointer (RFC 6901): "/a/b~1c/0" names a value inside a document. `~1` stands for "/" and
 * `~0` for "~", decoded in that order so that "~01" means "~1" and not "/".
 */
import { PatchFormatError } from "./errors.ts";

/** Splits a pointer into its unescaped reference tokens; "" (the whole document) has none. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) {
    throw new PatchFormatError(`JSON pointer ${JSON.stringify(pointer)} must be empty or start with "/"`);
  }
  return pointer
    .slice(1)
    .split("/")
    .map((token) => unescapeToken(token, pointer));
}

function unescapeToken(token: string, pointer: string): string {
  // Only "~0" and "~1" are escapes; any other "~" makes the pointer invalid (RFC 6901 section 3).
  if (/~(?![01])/.test(token)) {
    throw new PatchFormatError(`JSON pointer ${JSON.stringify(pointer)} has a "~" that is not "~0" or "~1"`);
  }
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** Builds a pointer from raw tokens, escaping "~" before "/" (the reverse of the decode order). */
export function formatJsonPointer(tokens: readonly string[]): string {
  return tokens.map((token) => "/" + token.replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

/**
 * The array index a token names, or undefined when the token is not a valid index: RFC 6901
 * allows "0" or digits without a leading zero, nothing else (no sign, no spaces, no "1e3").
 */
export function arrayIndexOf(token: string): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const index = Number(token);
  return Number.isSafeInteger(index) ? index : undefined;
}
