// The pipe's HWM states, as a statechart: ready (takes writes) ⇄ mute (full until drained to the
// low-water mark), then ended. `src/core/pipe.ts` is the hand-inlined form of this machine that
// runs per message; model-based tests walk this one and replay it on real sockets to prove the two
// agree. One event per message is fine here: this machine is a specification, not the hot path.

import { assign, setup } from 'xstate';

export interface PipeInput {
  /** Messages held before the pipe is full; 0 = unlimited. */
  capacity: number;
  /** Once full, writable again at this many messages (libzmq's low-water mark). */
  lowWater: number;
}

export interface PipeContext extends PipeInput {
  /** Messages queued now. */
  queued: number;
}

export type PipeEvent = { type: 'message.written' } | { type: 'message.read' } | { type: 'pipe.ended' };

export const pipeMachine = /* @__PURE__ */ setup({
  types: {
    context: {} as PipeContext,
    events: {} as PipeEvent,
    input: {} as PipeInput,
  },
  guards: {
    isFullAfterWrite: ({ context }) => context.capacity !== 0 && context.queued + 1 >= context.capacity,
    hasMessage: ({ context }) => context.queued > 0,
    isDrainedAfterRead: ({ context }) => context.queued - 1 <= context.lowWater,
  },
  actions: {
    countWrite: assign({ queued: ({ context }) => context.queued + 1 }),
    countRead: assign({ queued: ({ context }) => context.queued - 1 }),
  },
}).createMachine({
  id: 'pipe',
  context: ({ input }) => ({ ...input, queued: 0 }),
  initial: 'ready',
  states: {
    /** Writes are taken. */
    ready: {
      on: {
        'message.written': [
          { guard: 'isFullAfterWrite', target: 'mute', actions: 'countWrite' },
          { actions: 'countWrite' },
        ],
        'message.read': { guard: 'hasMessage', actions: 'countRead' },
        'pipe.ended': 'ended',
      },
    },
    /** At the HWM: writes are refused (the sender waits or drops) until reads bring it to the low-water mark. */
    mute: {
      on: {
        'message.read': [
          { guard: 'isDrainedAfterRead', target: 'ready', actions: 'countRead' },
          { actions: 'countRead' },
        ],
        'pipe.ended': 'ended',
      },
    },
    /** The writer ended the pipe: the reader may drain what is left. */
    ended: {
      on: { 'message.read': { guard: 'hasMessage', actions: 'countRead' } },
    },
  },
});
