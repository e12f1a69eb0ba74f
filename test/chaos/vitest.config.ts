import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Unit tests of the chaos harness's pure parts (classification, analysis, plan, load shape).
// The chaos run itself is `make chaos-store`; it needs root and starts real clusters.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/chaos/**/*.test.ts"],
    testTimeout: 20_000,
    pool: "forks",
  },
});
