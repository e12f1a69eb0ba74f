/// <reference types="vite/client" />
/**
 * Runs every script in testdata/*.txt through the InteractionEnv and compares the transcript
 * with the one stored under each command. To regenerate the transcripts after a deliberate
 * change, run with REWRITE=1 and review the diff before committing:
 *
 *   REWRITE=1 npx vitest run --config test/vitest.config.ts libs/raft/interaction.test.ts
 *
 * Files are read through Vite's import.meta.glob and written through vitest's snapshot
 * environment, so that this pure library needs no node: module even in its tests.
 */
import { describe, expect, it } from "vitest";
import { parseScript, renderScript } from "./datadriven.ts";
import { InteractionEnv } from "./interaction-env.ts";

const scripts = import.meta.glob<string>("./testdata/*.txt", { query: "?raw", import: "default", eager: true });
const rewrite = import.meta.env["REWRITE"] === "1";

describe("scripted interactions (testdata/*.txt)", () => {
  it("finds the scripts", () => {
    expect(Object.keys(scripts).length).toBeGreaterThan(0);
  });

  for (const [path, text] of Object.entries(scripts)) {
    it(path.replace("./testdata/", ""), async () => {
      const script = parseScript(text, path);
      const env = new InteractionEnv();
      const outputs = script.cases.map((testCase) => {
        try {
          return env.handle(testCase);
        } catch (error) {
          throw new Error(`${path}:${testCase.line}: ${testCase.commandLine}`, { cause: error });
        }
      });
      const actual = renderScript(script, outputs);
      if (rewrite) {
        if (actual !== text) {
          const file = new URL(path, import.meta.url).pathname;
          await expect.getState().snapshotState.environment.saveSnapshotFile(file, actual);
        }
        return;
      }
      expect(actual).toBe(text);
    });
  }
});
