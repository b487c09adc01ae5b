// DEALER (RFC 28 REQREP): round-robin out over peers with room (the round-robin sender's
// statechart, machines/round-robin.ts), fair-queue in, no envelope of its own (libzmq `dealer.cpp`);
// with ZMQ_PROBE_ROUTER a new peer first gets an empty message.

import { createRoundRobinMachine } from './round-robin.js';
import type { RoundRobinContext, RoundRobinEvent } from './round-robin.js';

export type DealerContext = RoundRobinContext;
export type DealerEvent = RoundRobinEvent;

export const dealerMachine = /* @__PURE__ */ createRoundRobinMachine('dealer', { probes: true });
