import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Unit tests sit beside the code (`foo.test.ts`) under libs/ and services/. Integration and
// simulation suites under test/ have their own configs and make targets.
export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["libs/**/*.test.ts", "services/**/*.test.ts", "proto/**/*.test.ts", "test/sim/**/*.test.ts"],
    testTimeout: 20_000,
    pool: "forks",
  },
});
