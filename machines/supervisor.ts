// The supervisor: one per Context. It owns the inproc registry (which socket is bound to which
// name) and starts one connection actor per inproc connection. Both tables live in its context and
// are changed in place, so a bind, connect or close costs the same with ten sockets or a hundred
// thousand. Creating pipes, starting connection actors and attaching pipes to sockets are effects
// the runtime provides; this machine only decides.

import { setup } from 'xstate';
import { inPlaceActions, withFastEdges } from './fast-edges.js';

export interface BoundEndpoint {
  socketId: number;
  socketType: string;
}

export interface ConnectionEntry {
  name: string;
  connectorId: number;
  /** The binder, once there is one. */
  binderId?: number;
}

/** inproc name → the socket bound to it, with an index by socket. Shown as `{ name: BoundEndpoint }`. */
export class EndpointTable {
  #byName = new Map<string, BoundEndpoint>();
  #bySocket = new Map<number, Set<string>>();

  get(name: string): BoundEndpoint | undefined {
    return this.#byName.get(name);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  get size(): number {
    return this.#byName.size;
  }

  set(name: string, bound: BoundEndpoint): void {
    this.delete(name);
    this.#byName.set(name, bound);
    let names = this.#bySocket.get(bound.socketId);
    if (names === undefined) {
      names = new Set();
      this.#bySocket.set(bound.socketId, names);
    }
    names.add(name);
  }

  delete(name: string): void {
    const bound = this.#byName.get(name);
    if (bound === undefined) return;
    this.#byName.delete(name);
    const names = this.#bySocket.get(bound.socketId);
    names?.delete(name);
    if (names?.size === 0) this.#bySocket.delete(bound.socketId);
  }

  /** Forgets every name `socketId` holds. */
  deleteSocket(socketId: number): void {
    const names = this.#bySocket.get(socketId);
    if (names === undefined) return;
    this.#bySocket.delete(socketId);
    for (const name of names) this.#byName.delete(name);
  }

  toJSON(): Record<string, BoundEndpoint> {
    return Object.fromEntries([...this.#byName].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  }

  clone(): EndpointTable {
    const copy = new EndpointTable();
    for (const [name, bound] of this.#byName) copy.set(name, { ...bound });
    return copy;
  }
}

/** One key per (binder, name): a socket id has no spaces, a name may have anything after them. */
function bindingKey(binderId: number, name: string): string {
  return `${binderId} ${name}`;
}

/**
 * Connection actor id → what it joins, with indexes by socket (a closing socket ends its
 * connections), by binder and name (an unbind ends those), and by name for connections still
 * waiting for a binder. Shown as `{ id: entry }`.
 */
export class ConnectionTable {
  #byId = new Map<string, ConnectionEntry>();
  #bySocket = new Map<number, Set<string>>();
  #waiting = new Map<string, Set<string>>();
  /** The connections through one bound name: `bindingKey(binderId, name)` → their ids. */
  #byBinding = new Map<string, Set<string>>();

  get(id: string): ConnectionEntry | undefined {
    return this.#byId.get(id);
  }

  get size(): number {
    return this.#byId.size;
  }

  add(id: string, entry: ConnectionEntry): void {
    this.#byId.set(id, entry);
    this.#index(this.#bySocket, entry.connectorId, id);
    if (entry.binderId === undefined) this.#index(this.#waiting, entry.name, id);
    else this.#bound(entry.binderId, entry.name, id);
  }

  delete(id: string): void {
    const entry = this.#byId.get(id);
    if (entry === undefined) return;
    this.#byId.delete(id);
    this.#unindex(this.#bySocket, entry.connectorId, id);
    if (entry.binderId === undefined) this.#unindex(this.#waiting, entry.name, id);
    else {
      this.#unindex(this.#bySocket, entry.binderId, id);
      this.#unindex(this.#byBinding, bindingKey(entry.binderId, entry.name), id);
    }
  }

  /** The connections waiting for `name` to be bound. */
  waitingFor(name: string): string[] {
    return [...(this.#waiting.get(name) ?? [])];
  }

  /** Records that `name` got its binder: every connection waiting for it now joins `binderId`. */
  bindWaiting(name: string, binderId: number): void {
    const ids = this.#waiting.get(name);
    if (ids === undefined) return;
    this.#waiting.delete(name);
    for (const id of ids) {
      const entry = this.#byId.get(id) as ConnectionEntry;
      entry.binderId = binderId;
      this.#bound(binderId, name, id);
    }
  }

  /** The connections of socket `socketId`, on either side. */
  ofSocket(socketId: number): string[] {
    return [...(this.#bySocket.get(socketId) ?? [])];
  }

  /** The connections through `name` whose binder is `binderId` (an unbind ends them): looked up, not searched for. */
  boundThrough(name: string, binderId: number): string[] {
    return [...(this.#byBinding.get(bindingKey(binderId, name)) ?? [])];
  }

  toJSON(): Record<string, ConnectionEntry> {
    return Object.fromEntries(this.#byId);
  }

  clone(): ConnectionTable {
    const copy = new ConnectionTable();
    for (const [id, entry] of this.#byId) copy.add(id, { ...entry });
    return copy;
  }

  #bound(binderId: number, name: string, id: string): void {
    this.#index(this.#bySocket, binderId, id);
    this.#index(this.#byBinding, bindingKey(binderId, name), id);
  }

  #index<K>(map: Map<K, Set<string>>, key: K, id: string): void {
    let ids = map.get(key);
    if (ids === undefined) {
      ids = new Set();
      map.set(key, ids);
    }
    ids.add(id);
  }

  #unindex<K>(map: Map<K, Set<string>>, key: K, id: string): void {
    const ids = map.get(key);
    ids?.delete(id);
    if (ids?.size === 0) map.delete(key);
  }
}

export interface SupervisorContext {
  /** inproc name → the socket bound to it. */
  endpoints: EndpointTable;
  /** connection actor id → what it joins. */
  connections: ConnectionTable;
}

/** What the `startConnection` effect starts a connection actor with (machines/inproc-connection.ts). */
export interface ConnectionParams {
  connectionId: string;
  name: string;
  connectorId: number;
  connectorType: string;
  immediate: boolean;
  binderId: number | undefined;
  binderType: string | undefined;
}

/** Parameters of the effects that talk to connection actors. */
export interface ConnectionsParams {
  connectionIds: string[];
}

export type SupervisorEvent =
  | { type: 'inproc.bind'; name: string; socketId: number; socketType: string; requestId: number }
  | { type: 'inproc.unbind'; name: string; socketId: number; requestId: number; keepConnections?: boolean }
  | { type: 'inproc.connect'; name: string; socketId: number; socketType: string; connectionId: string; immediate: boolean }
  | { type: 'inproc.disconnect'; connectionId: string }
  | { type: 'socket.closed'; socketId: number }
  /** A connection actor reached its end (closed or refused); every one has the id `connection`. */
  | { type: 'xstate.done.actor.connection'; output: { connectionId: string } }
  /** A connection or socket actor failed (a bug): noted, the registry goes on. */
  | { type: 'xstate.error.actor.connection'; error: unknown }
  | { type: 'xstate.error.actor.socket'; error: unknown }
  /** A socket actor in this Context's system finished (the socket was released). */
  | { type: 'xstate.done.actor.socket' };

type Ev<T extends SupervisorEvent['type']> = Extract<SupervisorEvent, { type: T }>;

// ---- the rules ----

/** A name may be bound once per Context (EADDRINUSE otherwise). */
export function isNameTaken(endpoints: EndpointTable, name: string): boolean {
  return endpoints.has(name);
}

/** The connections an event ends: one by id, those through an unbound name, or all of a closed socket. */
export function endedConnections(context: SupervisorContext, event: SupervisorEvent): string[] {
  switch (event.type) {
    case 'inproc.disconnect':
      return context.connections.get(event.connectionId) === undefined ? [] : [event.connectionId];
    case 'inproc.unbind':
      return context.connections.boundThrough(event.name, event.socketId);
    case 'socket.closed':
      return context.connections.ofSocket(event.socketId);
    default:
      return [];
  }
}

/** The registry's changes, in place (the actions' assigns run these; so does the fast-edge shortcut). */
const updates = {
  registerEndpoint: (context: SupervisorContext, event: SupervisorEvent): void => {
    const e = event as Ev<'inproc.bind'>;
    context.endpoints.set(e.name, { socketId: e.socketId, socketType: e.socketType });
  },
  /** Every connection waiting for this name now has its binder. */
  recordBinders: (context: SupervisorContext, event: SupervisorEvent): void => {
    const e = event as Ev<'inproc.bind'>;
    context.connections.bindWaiting(e.name, e.socketId);
  },
  unregisterEndpoint: (context: SupervisorContext, event: SupervisorEvent): void => {
    context.endpoints.delete((event as Ev<'inproc.unbind'>).name);
  },
  recordConnection: (context: SupervisorContext, event: SupervisorEvent): void => {
    const e = event as Ev<'inproc.connect'>;
    const entry: ConnectionEntry = { name: e.name, connectorId: e.socketId };
    const bound = context.endpoints.get(e.name);
    if (bound !== undefined) entry.binderId = bound.socketId;
    context.connections.add(e.connectionId, entry);
  },
  forgetConnections: (context: SupervisorContext, event: SupervisorEvent): void => {
    for (const id of endedConnections(context, event)) context.connections.delete(id);
  },
  forgetSocket: (context: SupervisorContext, event: SupervisorEvent): void => {
    context.endpoints.deleteSocket((event as Ev<'socket.closed'>).socketId);
  },
  forgetFinished: (context: SupervisorContext, event: SupervisorEvent): void => {
    context.connections.delete((event as Ev<'xstate.done.actor.connection'>).output.connectionId);
  },
};

/** The connections an unbind, disconnect or close ends, closed by the runtime (then forgotten). */
const closeEnded = { type: 'closeConnections', params: ({ context, event }: { context: SupervisorContext; event: SupervisorEvent }) => ({ connectionIds: endedConnections(context, event) }) } as const;

// Binds, connects and closes take the fast-edge shortcut (machines/fast-edges.ts): no xstate
// macrostep for each of a hundred thousand connections.
export const supervisorMachine = /* @__PURE__ */ withFastEdges(setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
  },
  guards: {
    isNameTaken: ({ context, event }) => isNameTaken(context.endpoints, (event as Ev<'inproc.bind'>).name),
    keepsConnections: ({ context, event }) => {
      const e = event as Ev<'inproc.unbind'>;
      return e.keepConnections === true && context.endpoints.get(e.name)?.socketId === e.socketId;
    },
    isBoundHere: ({ context, event }) => {
      const e = event as Ev<'inproc.unbind'>;
      return context.endpoints.get(e.name)?.socketId === e.socketId;
    },
  },
  actions: {
    ...inPlaceActions<SupervisorContext, SupervisorEvent, typeof updates>(updates),
    // Effects, provided by the runtime.
    /** Starts a connection actor (machines/inproc-connection.ts) with these parameters. */
    startConnection: (_: unknown, _params: ConnectionParams) => {},
    /** Tells the waiting connections that their name was bound (before `recordBinders` runs). */
    announceBinder: (_: unknown, _params: ConnectionsParams & { binderId: number; binderType: string }) => {},
    /** Tells connections to close (before they are forgotten). */
    closeConnections: (_: unknown, _params: ConnectionsParams) => {},
    /** The Context answers the caller that is waiting (EADDRINUSE, ENOENT). */
    refuseBind: () => {},
    refuseUnbind: () => {},
  },
}).createMachine({
  id: 'supervisor',
  context: () => ({ endpoints: new EndpointTable(), connections: new ConnectionTable() }),
  initial: 'running',
  states: {
    running: {
      on: {
        'inproc.bind': [
          { guard: 'isNameTaken', actions: 'refuseBind' },
          {
            actions: [
              'registerEndpoint',
              {
                type: 'announceBinder',
                params: ({ context, event }) => {
                  const e = event as Ev<'inproc.bind'>;
                  return { connectionIds: context.connections.waitingFor(e.name), binderId: e.socketId, binderType: e.socketType };
                },
              },
              'recordBinders',
            ],
          },
        ],
        'inproc.unbind': [
          // A closing socket gives its name back at once but keeps its connections while it lingers
          // (libzmq unregisters endpoints when close() starts, `socket_base.cpp process_term`).
          { guard: 'keepsConnections', actions: 'unregisterEndpoint' },
          {
            guard: 'isBoundHere',
            actions: ['unregisterEndpoint', closeEnded, 'forgetConnections'],
          },
          { actions: 'refuseUnbind' },
        ],
        'inproc.connect': {
          actions: [
            'recordConnection',
            {
              type: 'startConnection',
              params: ({ context, event }) => {
                const e = event as Ev<'inproc.connect'>;
                const bound = context.endpoints.get(e.name);
                return {
                  connectionId: e.connectionId,
                  name: e.name,
                  connectorId: e.socketId,
                  connectorType: e.socketType,
                  immediate: e.immediate,
                  binderId: bound?.socketId,
                  binderType: bound?.socketType,
                };
              },
            },
          ],
        },
        'inproc.disconnect': {
          actions: [closeEnded, 'forgetConnections'],
        },
        'socket.closed': {
          actions: [
            closeEnded,
            'forgetConnections',
            'forgetSocket',
          ],
        },
        'xstate.done.actor.connection': { actions: 'forgetFinished' },
        // A failing child must not take the registry down with it (xstate fails a parent that
        // leaves a child's error unhandled): the failed actor is simply gone.
        'xstate.error.actor.connection': {},
        'xstate.error.actor.socket': {},
      },
    },
  },
}), {
  guards: ['isNameTaken', 'keepsConnections', 'isBoundHere'],
  effects: ['startConnection', 'announceBinder', 'closeConnections', 'refuseBind', 'refuseUnbind'],
  updates: updates as never,
});
