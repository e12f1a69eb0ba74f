/**
 * Each member publishes its name and client URLs through the log once it has a leader (etcd's
 * "publish"), so every member's MemberList shows them. Retried with a bounded backoff until it
 * lands or the member stops.
 */
import type { StoreContext } from "./context.ts";
import { encodeInternal, PayloadTag } from "./payload.ts";

const publishRetryMsMin = 100;
const publishRetryMsMax = 5000;

export async function publishAttributes(context: StoreContext, signal: AbortSignal): Promise<void> {
  const { config, node, stateMachine, logger } = context;
  const memberId = String(node.id);
  const wanted = { name: config.name, clientUrls: config.advertiseClientUrls };
  let delayMs = publishRetryMsMin;
  while (!signal.aborted) {
    const current = stateMachine.members.get(memberId);
    if (current !== undefined && current.name === wanted.name && sameList(current.clientUrls, wanted.clientUrls)) return;
    if (node.leaderId !== 0) {
      try {
        await context.propose(encodeInternal(PayloadTag.MemberAttributes, { memberId, ...wanted }));
        logger.info(wanted, "published member attributes");
        continue;
      } catch (error) {
        logger.debug({ err: error }, "publishing member attributes failed; retrying");
      }
    }
    await sleep(delayMs, signal);
    delayMs = Math.min(delayMs * 2, publishRetryMsMax);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
