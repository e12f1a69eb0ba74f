import { describe, expect, it } from "vitest";
import { fitsQuota, kvOverheadBytes, putCostBytes, txnCostBytes } from "./quota.ts";

const put = (key: string, value: string) => ({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } });

describe("quota costs", () => {
  it("putCostBytes() is etcd's overhead plus the key and value bytes", () => {
    expect(putCostBytes({ key: Buffer.from("abc"), value: Buffer.from("12345") })).toBe(kvOverheadBytes + 8);
    expect(putCostBytes({ key: "é" })).toBe(kvOverheadBytes + 2);
  });

  it("txnCostBytes() counts the puts of the costlier branch only", () => {
    const txn = { success: [put("a", "xx"), { request_put: null }], failure: [put("b", "y"), put("c", "z")] };
    expect(txnCostBytes(txn)).toBe(2 * kvOverheadBytes + 4);
    expect(txnCostBytes({ success: [{ request_put: null }], failure: [] })).toBe(0);
  });

  it("fitsQuota() refuses a write reaching the quota, and always lets a write that adds nothing through", () => {
    expect(fitsQuota(900, 99, 1000)).toBe(true);
    expect(fitsQuota(900, 100, 1000)).toBe(false);
    expect(fitsQuota(5000, 0, 1000)).toBe(true);
  });
});
