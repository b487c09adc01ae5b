// A Context: the supervisor actor with its inproc registry, the sockets that belong to it, and the
// transports they may use. Sockets made without one share the default global Context.

import { createActor } from 'xstate';
import type { Actor, InspectionEvent } from 'xstate';
import type { Endpoint } from '../core/endpoint.js';
import { ZmqError } from '../core/errors.js';
import { parseZapReply, violation, ZAP_ENDPOINT, zapRequestFrames } from '../protocol/index.js';
import type { Violation, ZapQuery, ZapReply } from '../protocol/index.js';
import { supervisorMachine } from '../../machines/supervisor.js';
import type { PeerHost, Transport } from '../transport/host.js';
import { inprocTransport } from '../transport/inproc.js';
import { transportFactory } from '../transport/registry.js';
import type { Socket } from './socket.js';

export interface ContextOptions {
  /**
   * An XState inspection observer (e.g. `createBrowserInspector().inspect` from
   * @statelyai/inspect): it sees the supervisor, every socket actor and every connection actor.
   */
  inspect?: (event: InspectionEvent) => void;
}

let nextSocketId = 1;

/**
 * Holds the sockets that can reach each other over inproc, and the supervisor actor that owns the
 * inproc registry. Most programs use the default one; make another to keep names apart (tests).
 * Its actor system holds the supervisor, the sockets' actors and the connection actors, so one
 * inspection observer sees them all.
 */
export class Context {
  /** The supervisor actor: its context is the inproc registry and the live connections. */
  readonly supervisor: Actor<typeof supervisorMachine>;
  /** @internal The inspection observer given at construction. */
  readonly inspector: ((event: InspectionEvent) => void) | undefined;
  #sockets = new Map<number, { host: PeerHost; socket: Socket }>();
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
        ...inproc.effects,
        refuseBind: ({ event }) => {
          if (event.type !== 'inproc.bind') return;
          this.#replies.get(event.requestId)?.(new ZmqError('EADDRINUSE', `bind("inproc://${event.name}"): the name is already bound in this context`, { address: `inproc://${event.name}` }));
        },
        refuseUnbind: ({ event }) => {
          if (event.type !== 'inproc.unbind') return;
          this.#replies.get(event.requestId)?.(new ZmqError('ENOENT', `unbind("inproc://${event.name}"): this socket is not bound to that name`, { address: `inproc://${event.name}` }));
        },
      },
    });
    this.supervisor = createActor(machine, { systemId: 'supervisor', inspect: this.inspector } as never);
    this.supervisor.start();
  }

  /** The inproc names bound in this Context. */
  listInprocEndpoints(): string[] {
    return this.supervisor.getSnapshot().context.endpoints.names().map((n) => `inproc://${n}`);
  }

  /** The sockets of this Context that are not closed yet. */
  get sockets(): Socket[] {
    return [...this.#sockets.values()].map((s) => s.socket);
  }

  /** @internal A new socket joins: returns its id. */
  register(host: PeerHost, socket: Socket): number {
    const id = nextSocketId++;
    this.#sockets.set(id, { host, socket });
    return id;
  }

  /** @internal A socket was released. */
  unregister(host: PeerHost): void {
    this.#sockets.delete(host.id);
    this.supervisor.send({ type: 'socket.closed', socketId: host.id });
  }

  /** @internal The socket `id` of this Context, as transports see it. */
  host(id: number): PeerHost | undefined {
    return this.#sockets.get(id)?.host;
  }

  /** @internal */
  transport(endpoint: Endpoint): Transport {
    let t = this.#transports.get(endpoint.transport);
    if (t === undefined) {
      const make = transportFactory(endpoint.transport);
      if (make === undefined) {
        throw new ZmqError('EPROTONOSUPPORT', `endpoint "${endpoint.address}": the ${endpoint.transport} transport is not available here (a browser has inproc only)`, { address: endpoint.address });
      }
      t = make(this as never);
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

  /** @internal Whether a ZAP handler is bound in this Context. */
  zapHandlerBound(): boolean {
    return this.supervisor.getSnapshot().context.endpoints.has(ZAP_ENDPOINT.slice('inproc://'.length));
  }

  /**
   * @internal Sends one ZAP request to the handler bound in this Context and waits for its reply,
   * through a DEALER of its own (as libzmq gives each handshake its own pipe to the handler), so the
   * request id can be "1" as libzmq sends it, and a reply can only answer the request it was sent for.
   */
  async askZap(query: ZapQuery, signal: AbortSignal): Promise<ZapReply | Violation> {
    // Loaded on first use: dealer-router.js imports socket.js, which imports this file.
    const { Dealer } = await import('./dealer-router.js');
    const dealer = new Dealer({ context: this, linger: 0 });
    try {
      dealer.connect(ZAP_ENDPOINT);
      await dealer.send(zapRequestFrames('1', query), { signal });
      const reply = parseZapReply(await dealer.receive({ signal }), '1');
      return reply;
    } catch (e) {
      return violation('ERR_ZAP_UNSPECIFIED', `the ZAP exchange failed: ${(e as Error).message}`);
    } finally {
      dealer.close();
    }
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
