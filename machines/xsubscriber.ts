// XSUB (RFC 29 PUBSUB): a SUB whose application sends the subscriptions itself, as `0x01`+prefix
// and `0x00`+prefix messages (the runtime turns those into `subscribe` / `unsubscribe` commands),
// and may send other messages upstream to every publisher. Same statechart as SUB; no IO, no timers.

import { createSubscriberMachine } from './subscriber.js';

export type { ReplayParams, SubscribeEvent, SubscriberContext, SubscriptionParams } from './subscriber.js';

export const xsubscriberMachine = /* @__PURE__ */ createSubscriberMachine('xsub');
