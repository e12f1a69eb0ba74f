/** The agent's end of one logs/exec/port-forward session carried on the Streams call. */
import type { StreamRequest, StreamSession } from "../control-plane.ts";
import type { StreamFrame, StreamOpen } from "../../nodeapi/wire.ts";

/** Input frames kept while the pod half has not installed its handler yet. */
export const pendingInputFramesMax = 1024;

function requestOf(open: StreamOpen): StreamRequest {
  const kind = open.kind === "exec" || open.kind === "attach" || open.kind === "portforward" ? open.kind : "log";
  const parameters: Record<string, string | string[]> = {};
  for (const parameter of open.parameters) {
    parameters[parameter.name] = parameter.values.length === 1 ? (parameter.values[0] ?? "") : [...parameter.values];
  }
  return { kind, namespace: open.namespace, podName: open.pod_name, ...(open.container === "" ? {} : { container: open.container }), parameters };
}

export class ClientStreamSession implements StreamSession {
  readonly request: StreamRequest;
  #inputHandler: ((channel: number, data: Uint8Array) => void) | undefined;
  #closeHandlers: Array<() => void> = [];
  #pending: Array<[number, Uint8Array]> = [];
  #closed = false;

  constructor(
    readonly id: string,
    open: StreamOpen,
    readonly send: (frame: StreamFrame) => void,
    readonly forget: () => void,
  ) {
    this.request = requestOf(open);
  }

  onInput(handler: (channel: number, data: Uint8Array) => void): void {
    this.#inputHandler = handler;
    for (const [channel, data] of this.#pending) handler(channel, data);
    this.#pending = [];
  }

  onClose(handler: () => void): void {
    if (this.#closed) handler();
    else this.#closeHandlers.push(handler);
  }

  write(channel: number, data: Uint8Array): void {
    if (!this.#closed) this.send({ session_id: this.id, data: { channel, data: Buffer.from(data) } });
  }

  close(error?: Error): void {
    if (this.#closed) return;
    this.send({ session_id: this.id, close: { error: error?.message ?? "" } });
    this.ended();
  }

  received(channel: number, data: Uint8Array): void {
    if (this.#closed) return;
    if (this.#inputHandler !== undefined) this.#inputHandler(channel, data);
    else if (this.#pending.length < pendingInputFramesMax) this.#pending.push([channel, data]);
  }

  /** The other side closed it, or the connection went away. */
  ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.forget();
    for (const handler of this.#closeHandlers) handler();
    this.#closeHandlers = [];
  }
}
