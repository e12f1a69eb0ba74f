import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Integration suites start real processes (store members, etcd, etcdctl): run files one at a
// time so that two clusters never compete for the 2 cores and time-sensitive elections.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/integration/**/*.test.ts", "test/bench/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: "forks",
  },
});
