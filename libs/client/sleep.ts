/**
 * The one abortable sleep shared by the client's retry loops and the apiserver's background loops:
 * it resolves after `ms`, or at once when `signal` aborts (never rejects), so a loop that checks
 * its signal after waking stops promptly instead of finishing a long back-off first.
 */
export async function sleepOrAbort(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted === true) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
