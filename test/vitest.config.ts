import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Unit tests sit beside the code (`foo.test.ts`), plus the harnesses' own tests under test/sim and
// test/chaos (pure parts, no cluster). Integration suites (real processes) run under
// test/integration/vitest.config.ts.
export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["libs/**/*.test.ts", "services/**/*.test.ts", "proto/**/*.test.ts", "test/sim/**/*.test.ts", "test/chaos/**/*.test.ts"],
    testTimeout: 20_000,
    pool: "forks",
  },
});
