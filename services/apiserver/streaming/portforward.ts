/** pods/portforward over WebSocket: not served yet (see README). */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocketServer } from "ws";
import { newBadRequest } from "../../../libs/api/status-errors.ts";
import type { StoredObject } from "../storage/index.ts";
import type { StreamingUpgradeDeps } from "./upgrade.ts";

export interface PortForwardUpgrade {
  readonly request: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly url: URL;
  readonly pod: StoredObject;
  readonly path: { readonly namespace: string; readonly name: string };
}

export async function servePortForward(_deps: StreamingUpgradeDeps, _webSockets: WebSocketServer, _upgrade: PortForwardUpgrade): Promise<void> {
  await Promise.resolve();
  throw newBadRequest("pods/portforward is not served yet");
}
