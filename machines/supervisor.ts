// The supervisor: one per Context. It owns the inproc registry (which socket is bound to which
// name) and spawns one connection actor per inproc connection. Creating pipes and attaching
// them to sockets are effects the runtime provides; this machine only decides.

import { assign, setup, spawnChild, stopChild } from 'xstate';
import { inprocConnectionMachine } from './inproc-connection.js';

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

export interface SupervisorContext {
  /** inproc name → the socket bound to it. */
  endpoints: Record<string, BoundEndpoint>;
  /** connection actor id → what it joins. */
  connections: Record<string, ConnectionEntry>;
}

export type SupervisorEvent =
  | { type: 'inproc.bind'; name: string; socketId: number; socketType: string; requestId: number }
  | { type: 'inproc.unbind'; name: string; socketId: number; requestId: number; keepConnections?: boolean }
  | { type: 'inproc.connect'; name: string; socketId: number; socketType: string; connectionId: string; immediate: boolean }
  | { type: 'inproc.disconnect'; connectionId: string }
  | { type: 'socket.closed'; socketId: number }
  /** A connection actor reached its end (closed or refused). */
  | { type: `xstate.done.actor.${string}`; actorId: string };

type Ev<T extends SupervisorEvent['type']> = Extract<SupervisorEvent, { type: T }>;

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
  },
  actors: {
    inprocConnection: inprocConnectionMachine,
  },
  guards: {
    isNameTaken: ({ context, event }) => (event as Ev<'inproc.bind'>).name in context.endpoints,
    keepsConnections: ({ context, event }) => {
      const e = event as Ev<'inproc.unbind'>;
      return e.keepConnections === true && context.endpoints[e.name]?.socketId === e.socketId;
    },
    isBoundHere: ({ context, event }) => {
      const e = event as Ev<'inproc.unbind'>;
      return context.endpoints[e.name]?.socketId === e.socketId;
    },
  },
  actions: {
    registerEndpoint: assign({
      endpoints: ({ context, event }) => {
        const e = event as Ev<'inproc.bind'>;
        return { ...context.endpoints, [e.name]: { socketId: e.socketId, socketType: e.socketType } };
      },
    }),
    /** Every connection waiting for this name learns of its binder. */
    announceBinder: ({ context, event, self }) => {
      const e = event as Ev<'inproc.bind'>;
      for (const [id, c] of Object.entries(context.connections)) {
        if (c.name === e.name && c.binderId === undefined) {
          self.getSnapshot().children[id]?.send({ type: 'binder.arrived', binderId: e.socketId, binderType: e.socketType });
        }
      }
    },
    recordBinders: assign({
      connections: ({ context, event }) => {
        const e = event as Ev<'inproc.bind'>;
        const next: Record<string, ConnectionEntry> = {};
        for (const [id, c] of Object.entries(context.connections)) next[id] = c.name === e.name && c.binderId === undefined ? { ...c, binderId: e.socketId } : c;
        return next;
      },
    }),
    unregisterEndpoint: assign({
      endpoints: ({ context, event }) => {
        const { [(event as Ev<'inproc.unbind'>).name]: _gone, ...rest } = context.endpoints;
        return rest;
      },
    }),
    spawnConnection: spawnChild('inprocConnection', {
      id: ({ event }) => (event as Ev<'inproc.connect'>).connectionId,
      input: ({ context, event }) => {
        const e = event as Ev<'inproc.connect'>;
        const bound = context.endpoints[e.name];
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
    }),
    recordConnection: assign({
      connections: ({ context, event }) => {
        const e = event as Ev<'inproc.connect'>;
        const entry: ConnectionEntry = { name: e.name, connectorId: e.socketId };
        const bound = context.endpoints[e.name];
        if (bound !== undefined) entry.binderId = bound.socketId;
        return { ...context.connections, [e.connectionId]: entry };
      },
    }),
    /** Closes the connections an event ends: one by id, those of an unbound name, or all of a closed socket. */
    closeConnections: ({ context, event, self }) => {
      for (const id of endedConnections(context, event)) self.getSnapshot().children[id]?.send({ type: 'connection.close' });
    },
    forgetConnections: assign({
      connections: ({ context, event }) => {
        const ended = new Set(endedConnections(context, event));
        const next: Record<string, ConnectionEntry> = {};
        for (const [id, c] of Object.entries(context.connections)) if (!ended.has(id)) next[id] = c;
        return next;
      },
    }),
    /** A finished connection actor leaves the children (xstate keeps done children until stopped). */
    stopFinished: stopChild(({ event }) => (event as { actorId: string }).actorId),
    forgetFinished: assign({
      connections: ({ context, event }) => {
        const { [(event as { actorId: string }).actorId]: _done, ...rest } = context.connections;
        return rest;
      },
    }),
    forgetSocket: assign({
      endpoints: ({ context, event }) => {
        const e = event as Ev<'socket.closed'>;
        const next: Record<string, BoundEndpoint> = {};
        for (const [name, b] of Object.entries(context.endpoints)) if (b.socketId !== e.socketId) next[name] = b;
        return next;
      },
    }),
    // Effects, provided by the runtime (the Context answers the caller that is waiting).
    refuseBind: () => {},
    refuseUnbind: () => {},
  },
}).createMachine({
  id: 'supervisor',
  context: { endpoints: {}, connections: {} },
  initial: 'running',
  states: {
    running: {
      on: {
        'inproc.bind': [
          { guard: 'isNameTaken', actions: 'refuseBind' },
          { actions: ['registerEndpoint', 'announceBinder', 'recordBinders'] },
        ],
        'inproc.unbind': [
          // A closing socket gives its name back at once but keeps its connections while it lingers
          // (libzmq unregisters endpoints when close() starts, `socket_base.cpp process_term`).
          { guard: 'keepsConnections', actions: 'unregisterEndpoint' },
          { guard: 'isBoundHere', actions: ['unregisterEndpoint', 'closeConnections', 'forgetConnections'] },
          { actions: 'refuseUnbind' },
        ],
        'inproc.connect': { actions: ['recordConnection', 'spawnConnection'] },
        'inproc.disconnect': { actions: ['closeConnections', 'forgetConnections'] },
        'socket.closed': { actions: ['closeConnections', 'forgetConnections', 'forgetSocket'] },
        'xstate.done.actor.*': { actions: ['stopFinished', 'forgetFinished'] },
      },
    },
  },
});

/** The connection ids an event ends. */
function endedConnections(context: SupervisorContext, event: SupervisorEvent): string[] {
  const out: string[] = [];
  for (const [id, c] of Object.entries(context.connections)) {
    if (event.type === 'inproc.disconnect' ? id === event.connectionId
      : event.type === 'inproc.unbind' ? c.name === event.name && c.binderId === event.socketId
      : event.type === 'socket.closed' ? c.connectorId === event.socketId || c.binderId === event.socketId
      : false) out.push(id);
  }
  return out;
}
