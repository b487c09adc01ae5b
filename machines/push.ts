// PUSH (RFC 30 PIPELINE): sends round-robin to peers with room, waits when none has room,
// never receives. The statechart is the round-robin sender's (machines/round-robin.ts).

import { createRoundRobinMachine } from './round-robin.js';
import type { RoundRobinContext } from './round-robin.js';

export type PushContext = RoundRobinContext;

export const pushMachine = /* @__PURE__ */ createRoundRobinMachine('push');
