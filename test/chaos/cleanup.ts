/**
 * Everything a chaos run creates (namespaces, a bridge, store processes, data directories) is
 * registered here as it is made, so that every exit path removes it: the normal path through
 * try/finally, and SIGINT/SIGTERM or a crash through a synchronous sweep. A sweep that runs
 * twice is harmless: every step tolerates "already gone".
 */

export type CleanupStep = () => void;

/** Bound on registered steps; a run registers a handful per scenario, so more means a leak. */
export const cleanupStepsMax = 1000;

const steps = new Map<number, { readonly description: string; readonly run: CleanupStep }>();
let nextStepId = 1;
let handlersInstalled = false;
const reapGraceMs = 300;

/** Registers a synchronous cleanup step; the returned function unregisters it (after a normal cleanup). */
export function registerCleanup(description: string, run: CleanupStep): () => void {
  if (steps.size >= cleanupStepsMax) throw new Error(`more than ${cleanupStepsMax} cleanup steps registered: a leak`);
  const id = nextStepId++;
  steps.set(id, { description, run });
  return () => {
    steps.delete(id);
  };
}

/** Runs every registered step, newest first (processes before the namespaces they live in). */
export function sweepAll(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): void {
  const ordered = [...steps.entries()].sort((a, b) => b[0] - a[0]);
  for (const [id, step] of ordered) {
    steps.delete(id);
    try {
      step.run();
    } catch (error) {
      log(`cleanup: ${step.description} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/**
 * On SIGINT/SIGTERM/uncaught errors: sweep synchronously, then exit. Installed once per process.
 * Exit codes follow the shell's 128+signal convention.
 */
export function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  let exiting = false;
  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    // Stay subscribed: a terminal or `timeout` sends the signal to the whole process group, often
    // twice, and a second one with no listener would kill the process in the middle of the sweep.
    if (exiting) return;
    exiting = true;
    process.stderr.write(`\nchaos: ${signal} received, removing namespaces, bridge and processes\n`);
    sweepAll();
    // A moment for the event loop to reap the killed children, so none is left a zombie.
    setTimeout(() => process.exit(code), reapGraceMs);
  };
  process.on("SIGINT", () => onSignal("SIGINT", 130));
  process.on("SIGTERM", () => onSignal("SIGTERM", 143));
  process.once("uncaughtException", (error) => {
    process.stderr.write(`chaos: uncaught exception: ${error.stack ?? error.message}\n`);
    sweepAll();
    process.exit(70);
  });
  process.once("unhandledRejection", (reason) => {
    process.stderr.write(`chaos: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`);
    sweepAll();
    process.exit(70);
  });
}
