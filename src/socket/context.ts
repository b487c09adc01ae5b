// A Context: the supervisor actor with its inproc registry, the sockets that belong to it, and the
// transports they may use. Sockets made without one share the default global Context.

import { createActor } from 'xstate';
import type { Actor, InspectionEvent } from 'xstate';
import type { Endpoint } from '../core/endpoint.js';
import { ZmqError } from '../core/errors.js';
import { supervisorMachine } from '../../machines/supervisor.js';
import { inprocTransport } from '../transport/inproc.js';
import type { Socket } from './socket.js';

/** @internal A bound endpoint, as a transport returns it. */
export interface BoundHandle {
  /** The endpoint resolved (e.g. the real port of `tcp://127.0.0.1:*`). */
  address: string;
  /** Stops listening and detaches the peers that came through this endpoint. */
  close(): void;
  /** Stops listening but keeps the peers (a closing socket lingers with them). */
  stopListening?(): void;
}

/** @internal A connect, as a transport returns it. */
export interface ConnectHandle {
  /** Ends the connection and stops reconnecting. */
  close(): void;
  /** Stops reconnecting, keeping a live connection (a lingering close). */
  stopReconnecting?(): void;
}

/** @internal What each transport provides. */
export interface Transport {
  bind(socket: Socket, endpoint: Endpoint): Promise<BoundHandle>;
  connect(socket: Socket, endpoint: Endpoint): ConnectHandle;
}

export interface ContextOptions {
  /**
   * An XState inspection observer (e.g. `createBrowserInspector().inspect` from
   * @statelyai/inspect): it sees the supervisor, every socket actor and every connection actor.
   */
  inspect?: (event: InspectionEvent) => void;
}

const globalTransports = new Map<string, (context: Context) => Transport>();
let nextSocketId = 1;

/** @internal Makes a transport available to every Context (the Node entry adds tcp and ipc). */
export function registerTransport(name: 'tcp' | 'ipc', make: (context: Context) => Transport): void {
  globalTransports.set(name, make);
}

/**
 * Holds the sockets that can reach each other over inproc, and the supervisor actor that owns the
 * inproc registry. Most programs use the default one; make another to keep names apart (tests).
 */
export class Context {
  /** The supervisor actor: its context is the inproc registry and the live connections. */
  readonly supervisor: Actor<typeof supervisorMachine>;
  /** @internal The inspection observer given at construction, passed to every actor. */
  readonly inspector: ((event: InspectionEvent) => void) | undefined;
  #sockets = new Map<number, Socket>();
  #transports = new Map<string, Transport>();
  #replies = new Map<number, (error: ZmqError) => void>();
  #nextRequest = 1;
  #nextConnection = 1;

  constructor(options: ContextOptions = {}) {
    this.inspector = options.inspect;
    const inproc = inprocTransport(this);
    this.#transports.set('inproc', inproc.transport);
    const machine = supervisorMachine.provide({
      actions: {
        refuseBind: ({ event }) => {
          if (event.type !== 'inproc.bind') return;
          this.#replies.get(event.requestId)?.(new ZmqError('EADDRINUSE', `bind("inproc://${event.name}"): the name is already bound in this context`, { address: `inproc://${event.name}` }));
        },
        refuseUnbind: ({ event }) => {
          if (event.type !== 'inproc.unbind') return;
          this.#replies.get(event.requestId)?.(new ZmqError('ENOENT', `unbind("inproc://${event.name}"): this socket is not bound to that name`, { address: `inproc://${event.name}` }));
        },
      },
      actors: { inprocConnection: inproc.connectionLogic },
    });
    this.supervisor = createActor(machine, { systemId: 'supervisor', inspect: this.inspector } as never);
    this.supervisor.start();
  }

  /** The inproc names bound in this Context. */
  listInprocEndpoints(): string[] {
    return Object.keys(this.supervisor.getSnapshot().context.endpoints).map((n) => `inproc://${n}`);
  }

  /** The sockets of this Context that are not closed yet. */
  get sockets(): Socket[] {
    return [...this.#sockets.values()];
  }

  /** @internal */
  register(socket: Socket): number {
    const id = nextSocketId++;
    this.#sockets.set(id, socket);
    return id;
  }

  /** @internal */
  unregister(socket: Socket): void {
    this.#sockets.delete(socket.id);
    this.supervisor.send({ type: 'socket.closed', socketId: socket.id });
  }

  /** @internal */
  socket(id: number): Socket | undefined {
    return this.#sockets.get(id);
  }

  /** @internal */
  transport(endpoint: Endpoint): Transport {
    let t = this.#transports.get(endpoint.transport);
    if (t === undefined) {
      const make = globalTransports.get(endpoint.transport);
      if (make === undefined) {
        throw new ZmqError('EPROTONOSUPPORT', `endpoint "${endpoint.address}": the ${endpoint.transport} transport is not available here (a browser has inproc only)`, { address: endpoint.address });
      }
      t = make(this);
      this.#transports.set(endpoint.transport, t);
    }
    return t;
  }

  /** @internal Sends a registry request to the supervisor and throws what it refused with. */
  request(event: { type: 'inproc.bind' | 'inproc.unbind'; name: string; socketId: number; socketType?: string; keepConnections?: boolean }): void {
    const requestId = this.#nextRequest++;
    let refused: ZmqError | undefined;
    this.#replies.set(requestId, (e) => (refused = e));
    try {
      this.supervisor.send({ ...event, requestId } as never);
    } finally {
      this.#replies.delete(requestId);
    }
    if (refused !== undefined) throw refused;
  }

  /** @internal */
  newConnectionId(): string {
    return `inproc-${this.#nextConnection++}`;
  }
}

let defaultCtx: Context | undefined;

/** The global Context that sockets use when given none. */
export function defaultContext(): Context {
  return (defaultCtx ??= new Context());
}
