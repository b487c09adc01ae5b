// One inproc connection: a connecting socket, and the binder it joins (now or when the bind
// arrives, as libzmq 4 allows connect before bind). Started by the supervisor, as an actor of its
// system whose id is always `connection` (so the supervisor hears one event type for all of them:
// `xstate.done.actor.connection`, with the connection's id as output). Making pipes and attaching
// them are effects the inproc transport provides.

import { assign, setup } from 'xstate';
import { canPair } from '../src/protocol/socket-types.js';
import { withFastEdges } from './fast-edges.js';

export interface InprocConnectionInput {
  connectionId: string;
  name: string;
  connectorId: number;
  connectorType: string;
  /** With `immediate`, nothing is queued toward a binder that is not there yet. */
  immediate: boolean;
  binderId?: number | undefined;
  binderType?: string | undefined;
}

export type InprocConnectionContext = InprocConnectionInput;

/** What a finished connection tells the supervisor. */
export interface InprocConnectionOutput {
  connectionId: string;
}

export type InprocConnectionEvent =
  | { type: 'binder.arrived'; binderId: number; binderType: string }
  | { type: 'connection.close' };

// Its start (to `attached` or `pending`) and its close take the fast-edge shortcut
// (machines/fast-edges.ts): one of these starts and ends with every inproc connection.
export const inprocConnectionMachine = /* @__PURE__ */ withFastEdges(setup({
  types: {
    context: {} as InprocConnectionContext,
    events: {} as InprocConnectionEvent,
    input: {} as InprocConnectionInput,
    output: {} as InprocConnectionOutput,
  },
  guards: {
    hasBinder: ({ context }) => context.binderId !== undefined,
    // The same table the ZMTP handshake enforces (PROTOCOL.md §7).
    typesPair: ({ context }) => canPair(context.connectorType, context.binderType ?? ''),
  },
  actions: {
    recordBinder: assign(({ event }) =>
      event.type === 'binder.arrived' ? { binderId: event.binderId, binderType: event.binderType } : {},
    ),
    // Effects, provided by the inproc transport.
    /** Gives the connector its pipes before the binder exists (messages queue up to its SNDHWM);
     * does nothing with `immediate`. */
    attachConnector: () => {},
    /** Joins both sockets through the pipes (creating them if the connector has none yet). */
    attachBoth: () => {},
    /** Tells both sides the pairing is not allowed, and takes back the connector's early pipes. */
    refuse: () => {},
    /** Detaches both sides. */
    detach: () => {},
  },
}).createMachine({
  id: 'inprocConnection',
  // Made by the fast start, which calls this function itself (xstate's own start wraps it in an
  // assign(), which xstate's development build warns about here, inside the supervisor's effect).
  context: ({ input }) => ({ ...input }),
  output: ({ context }) => ({ connectionId: context.connectionId }),
  initial: 'starting',
  on: { 'connection.close': '.closed' },
  states: {
    starting: {
      always: [{ guard: 'hasBinder', target: 'joining' }, { target: 'pending' }],
    },
    /** connect() came before bind(): waiting for the name to be bound. */
    pending: {
      entry: { type: 'attachConnector' },
      on: { 'binder.arrived': { target: 'joining', actions: 'recordBinder' } },
    },
    joining: {
      always: [{ guard: 'typesPair', target: 'attached' }, { target: 'refused' }],
    },
    /** Both sockets hold the pipe pair. */
    attached: { entry: 'attachBoth' },
    /** The socket types may not talk (e.g. PUSH to PUB): nothing was delivered. */
    refused: { entry: 'refuse', type: 'final' },
    closed: { entry: 'detach', type: 'final' },
  },
}), {
  guards: ['hasBinder', 'typesPair'],
  effects: ['attachConnector', 'attachBoth', 'refuse', 'detach'],
});
