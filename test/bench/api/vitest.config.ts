import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Unit tests of the API bench's own pure parts (pod manifests, kubeconfig credentials, profile
// buckets). They start no server; test/vitest.config.ts covers libs/ and services/ only.
export default defineConfig({
  root: fileURLToPath(new URL("../../..", import.meta.url)),
  test: {
    include: ["test/bench/api/**/*.test.ts"],
    testTimeout: 20_000,
    pool: "forks",
  },
});
