// ESLint flat config: typescript-eslint with type information, so that floating promises are
// caught everywhere (a forgotten await in a store or agent is a lost error).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "**/*.d.ts", ".tmp/**", ".eslint.config.js", "libs/*/gen/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["libs/raft/**/*.ts", "libs/crc32c/**/*.ts", "libs/mvcc/**/*.ts", "libs/lincheck/**/*.ts", "libs/prng/**/*.ts", "libs/api/**/*.ts", "services/scheduler/core/**/*.ts"],
    rules: {
      // The pure cores must stay deterministic: no node: modules, no clock, no ambient randomness.
      "no-restricted-imports": ["error", { patterns: [{ group: ["node:*"], message: "pure libs import no node: modules" }] }],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "time is ticks; the caller owns the clock" },
        { object: "Math", property: "random", message: "inject a seeded PRNG" },
        { object: "performance", property: "now", message: "time is ticks; the caller owns the clock" },
      ],
      "no-restricted-globals": ["error", "setTimeout", "setInterval", "setImmediate", "process"],
    },
  },
);
