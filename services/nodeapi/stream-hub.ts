/**
 * Where the API server finds a node's stream connection: each agent keeps one `Streams` call
 * open; a logs/exec/port-forward request becomes a session on it (an open frame, then data
 * frames with a channel both ways, then a close frame). One hub per process; the API server and
 * the node API of a `flotilla server` share it.
 */
import { assert } from "../../libs/assert/index.ts";
import type { StreamFrame, StreamParameter } from "./wire.ts";

/** Sessions one agent connection may have open at once. */
export const sessionsPerNodeMax = 256;
/** Listeners one hub tells about connections (the session registry, tests). */
export const connectionListenersMax = 8;

/** Told when a node's agent gains (true) or loses (false) its stream connection to this process. */
export type ConnectionListener = (nodeName: string, connected: boolean) => void;

export interface StreamOpenRequest {
  readonly kind: "log" | "exec" | "attach" | "portforward";
  readonly namespace: string;
  readonly podName: string;
  readonly container: string;
  readonly parameters: ReadonlyMap<string, readonly string[]>;
}

/** The API server's end of one session. */
export interface NodeSession {
  /** To the agent: exec stdin (0) and resize (4), port-forward data. */
  send(channel: number, data: Uint8Array): void;
  onData(handler: (channel: number, data: Buffer) => void): void;
  /** Called once: error is undefined when the agent ended the session normally. */
  onClose(handler: (error: string | undefined) => void): void;
  close(error?: string): void;
}

/** The node API's end of one agent's Streams call. */
export interface AgentLink {
  write(frame: StreamFrame): void;
}

class Session implements NodeSession {
  #dataHandler: ((channel: number, data: Buffer) => void) | undefined;
  #closeHandler: (error: string | undefined) => void = () => undefined;
  #pending: Array<[number, Buffer]> = [];
  #closed = false;

  constructor(
    readonly id: string,
    readonly connection: AgentConnection,
  ) {}

  send(channel: number, data: Uint8Array): void {
    if (this.#closed) return;
    this.connection.link.write({ session_id: this.id, data: { channel, data: Buffer.from(data) } });
  }

  onData(handler: (channel: number, data: Buffer) => void): void {
    this.#dataHandler = handler;
    for (const [channel, data] of this.#pending) handler(channel, data);
    this.#pending = [];
  }

  onClose(handler: (error: string | undefined) => void): void {
    this.#closeHandler = handler;
  }

  close(error?: string): void {
    if (this.#closed) return;
    this.connection.link.write({ session_id: this.id, close: { error: error ?? "" } });
    this.ended(error);
  }

  received(channel: number, data: Buffer): void {
    if (this.#closed) return;
    // Data that arrives before the API server's side is listening waits (bounded by the agent's writes).
    if (this.#dataHandler === undefined) this.#pending.push([channel, data]);
    else this.#dataHandler(channel, data);
  }

  ended(error: string | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.connection.sessions.delete(this.id);
    this.#closeHandler(error);
  }
}

class AgentConnection {
  readonly sessions = new Map<string, Session>();
  constructor(readonly link: AgentLink) {}
}

export class NodeStreamHub {
  readonly #connections = new Map<string, AgentConnection>();
  readonly #listeners = new Set<ConnectionListener>();
  #nextSessionId = 1;

  /** Calls `listener` on every connect and disconnect from now on; returns the unsubscribe. */
  onConnectionChange(listener: ConnectionListener): () => void {
    assert(this.#listeners.size < connectionListenersMax, "connection listeners are bounded");
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The nodes whose agents have a stream connection to this process now. */
  connectedNodes(): string[] {
    return [...this.#connections.keys()];
  }

  #tell(nodeName: string, connected: boolean): void {
    for (const listener of this.#listeners) listener(nodeName, connected);
  }

  /** Registers an agent's Streams call; returns what to call with its frames and when it ends. */
  attach(nodeName: string, link: AgentLink): { received: (frame: StreamFrame) => void; detach: (error: string) => void } {
    const connection = new AgentConnection(link);
    // A reconnecting agent replaces its old call; sessions on the old one end with it.
    this.#connections.set(nodeName, connection);
    this.#tell(nodeName, true);
    return {
      received: (frame) => {
        const session = connection.sessions.get(frame.session_id);
        if (session === undefined) return;
        if (frame.data !== undefined && frame.data !== null) session.received(frame.data.channel, frame.data.data);
        if (frame.close !== undefined && frame.close !== null) session.ended(frame.close.error === "" ? undefined : frame.close.error);
      },
      detach: (error) => {
        if (this.#connections.get(nodeName) === connection) {
          this.#connections.delete(nodeName);
          this.#tell(nodeName, false);
        }
        for (const session of [...connection.sessions.values()]) session.ended(error);
      },
    };
  }

  isConnected(nodeName: string): boolean {
    return this.#connections.has(nodeName);
  }

  /** Opens a session to the node's agent; undefined when the agent has no stream to this process. */
  open(nodeName: string, request: StreamOpenRequest): NodeSession | undefined {
    const connection = this.#connections.get(nodeName);
    if (connection === undefined) return undefined;
    if (connection.sessions.size >= sessionsPerNodeMax) throw new Error(`node ${nodeName} has ${sessionsPerNodeMax} streaming sessions open already`);
    const id = String(this.#nextSessionId++);
    const session = new Session(id, connection);
    assert(!connection.sessions.has(id), "session ids are unique per connection");
    connection.sessions.set(id, session);
    const parameters: StreamParameter[] = [...request.parameters].map(([name, values]) => ({ name, values: [...values] }));
    connection.link.write({
      session_id: id,
      open: { kind: request.kind, namespace: request.namespace, pod_name: request.podName, container: request.container, parameters },
    });
    return session;
  }
}

/** The process's hub: `flotilla server` runs the API server and the node API side by side. */
export const defaultNodeStreamHub = new NodeStreamHub();
