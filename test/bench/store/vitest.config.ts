import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Unit tests of the store benchmark's own logic (statistics, load loop, report). They start no
// store; test/vitest.config.ts covers libs/ and services/ only, so this folder has its own.
export default defineConfig({
  root: fileURLToPath(new URL("../../..", import.meta.url)),
  test: {
    include: ["test/bench/store/**/*.test.ts"],
    testTimeout: 20_000,
    pool: "forks",
  },
});
