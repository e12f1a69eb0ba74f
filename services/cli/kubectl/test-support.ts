/** A CliContext over libs/client's FakeClient for the verbs' unit tests: output is captured. */
import { FakeClient } from "../../../libs/client/fake.ts";
import type { CliContext } from "./context.ts";
import { LocalTables } from "./tables.ts";

export interface TestContext extends CliContext {
  readonly fake: FakeClient;
  out(): string;
  err(): string;
}

/** 2026-11-22T00:10:00Z: objects created at 00:00:00 are 10m old. */
export const testNowMs = Date.parse("2026-11-22T00:10:00Z");

export function testContext(options: { namespace?: string; namespaceFromFlag?: boolean; stdin?: string } = {}): TestContext {
  const fake = new FakeClient(() => Date.parse("2026-11-22T00:00:00Z"));
  let stdout = "";
  let stderr = "";
  return {
    fake,
    client: fake,
    tables: new LocalTables(fake, () => testNowMs),
    namespace: options.namespace ?? "default",
    namespaceFromFlag: options.namespaceFromFlag ?? false,
    kubeconfigPath: "/nonexistent/kubeconfig",
    stdout: { write: (text) => void (stdout += text) },
    stderr: { write: (text) => void (stderr += text) },
    nowMs: () => testNowMs,
    readStdin: async () => Promise.resolve(options.stdin ?? ""),
    signal: new AbortController().signal,
    out: () => stdout,
    err: () => stderr,
  };
}
