/**
 * GET pods/log: the request goes to the pod's node as a "log" session; the agent writes the log
 * bytes on channel 1, and they go out as a chunked text/plain response. follow, tailLines,
 * sinceSeconds, sinceTime, timestamps, previous and limitBytes pass through to the agent; a
 * session the agent closes with an error before any byte becomes a 400 Status with its message.
 */
import { newBadRequest } from "../../../libs/api/status-errors.ts";
import type { HandlerContext } from "../context.ts";
import { findPod, openNodeSession, parametersOf, podTarget } from "./pod-target.ts";

export const logChannel = 1;
const integerParameters = ["tailLines", "sinceSeconds", "limitBytes"];
const booleanValues = new Set(["true", "false", "1", "0", ""]);

function checkParameters(query: URLSearchParams): void {
  for (const name of integerParameters) {
    const value = query.get(name);
    if (value !== null && !/^-?\d+$/.test(value)) throw newBadRequest(`${name}: invalid value "${value}"`);
  }
  const since = query.get("sinceSeconds");
  if (since !== null && Number(since) < 1) throw newBadRequest("sinceSeconds: must be greater than 0");
  for (const name of ["follow", "timestamps", "previous"]) {
    const value = query.get(name);
    if (value !== null && !booleanValues.has(value)) throw newBadRequest(`${name}: invalid boolean "${value}"`);
  }
}

export async function serveLog(context: HandlerContext): Promise<void> {
  const { query, response, request } = context;
  checkParameters(query);
  const pod = await findPod(context.storages, request.namespace, request.name);
  const target = podTarget(pod, request.name, query.get("container") ?? "");
  const session = await openNodeSession(target, {
    kind: "log",
    namespace: request.namespace,
    podName: request.name,
    container: target.container,
    parameters: parametersOf(query, ["container", "pretty"]),
  });
  await new Promise<void>((resolve, reject) => {
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      response.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache, private" });
      response.flushHeaders();
    };
    session.onData((channel, data) => {
      if (channel !== logChannel) return;
      start();
      response.write(data);
    });
    session.onClose((error) => {
      if (!started && error !== undefined) {
        // The handler writes the Status; nothing has been sent yet.
        reject(newBadRequest(error));
        return;
      }
      start();
      response.end();
      resolve();
    });
    context.signal.addEventListener("abort", () => session.close("the client went away"), { once: true });
  });
}
