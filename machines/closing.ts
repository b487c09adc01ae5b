// The end of every socket's life, shared by all socket machines: close either lingers while
// queued messages leave or ends at once. The linger timer lives in the runtime, not here:
// this machine only hears `linger.expired` or `pipes.drained`.

import type { CloseEvent } from './peers.js';
import { shouldLinger } from './peers.js';

/** Guard implementation: a close with queued output and a non-zero linger waits. */
export function closeShouldLinger({ event }: { event: { type: string } }): boolean {
  return shouldLinger(event as CloseEvent);
}

/**
 * The `close` transitions for an `open` state, and the `lingering` and `closed` states.
 * Machines spread these in; they must declare the guard `shouldLinger` and the actions
 * `startLinger` and `release` (runtime effects).
 */
export const closeTransitions = [
  { guard: 'shouldLinger' as const, target: 'lingering' },
  { target: 'closed' },
];

export const closingStates = {
  lingering: {
    entry: 'startLinger' as const,
    on: { 'pipes.drained': { target: 'closed' }, 'linger.expired': { target: 'closed' } },
  },
  closed: { type: 'final' as const, entry: 'release' as const },
};

/**
 * The close edges' guard and effects, for a machine's fast-edge options (machines/fast-edges.ts):
 * `shouldLinger` is pure, `startLinger` and `release` are runtime effects, so closing a socket
 * skips xstate's macrostep as its other edges do.
 */
export const closeFastEdges = { guards: ['shouldLinger'], effects: ['startLinger', 'release'] } as const;
