import { describe, expect, it } from "vitest";
import { prefixEnd } from "./index.ts";

describe("prefixEnd", () => {
  it("increments the last byte below 0xff", () => {
    expect(prefixEnd("/registry/pods/")).toEqual(Buffer.from("/registry/pods0"));
  });

  it("drops trailing 0xff bytes before incrementing", () => {
    expect(prefixEnd(Buffer.from([0x61, 0xff, 0xff]))).toEqual(Buffer.from([0x62]));
  });

  it("gives the whole-key-space marker when every byte is 0xff", () => {
    expect(prefixEnd(Buffer.from([0xff]))).toEqual(Buffer.from([0]));
  });
});
