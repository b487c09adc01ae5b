// The scenarios, as data: which sockets, their options, where they bind and connect, and what to
// try. Adding a scenario is adding an entry here; the page draws the rest from the sockets' machines.

/** The runtime's socket class names (zeromq.js's). */
export type SocketTypeName =
  | 'Request' | 'Reply' | 'Dealer' | 'Router' | 'Publisher' | 'Subscriber'
  | 'XPublisher' | 'XSubscriber' | 'Push' | 'Pull' | 'Pair';

export interface SocketSpec {
  /** Stable id on the page (`data-socket`). */
  key: string;
  /** What the card is called. */
  label: string;
  type: SocketTypeName;
  /** Constructor options (zeromq.js names), e.g. `{ sendHighWaterMark: 2 }`. */
  options?: Record<string, unknown>;
  bind?: string[];
  connect?: string[];
  /** Endpoints it may connect to from its card, not connected at start. */
  connectLater?: string[];
  /** What the send box starts with; `|` separates frames. */
  draft?: string;
  /** Router: the routing ids it can address before hearing from anyone. */
  addressees?: string[];
  /** Subscriber: prefixes subscribed at start. */
  subscribe?: string[];
}

export interface Scenario {
  id: string;
  title: string;
  /** One or two sentences: the pattern and what the machines do. */
  summary: string;
  /** Things to click, in order. */
  tryThis: string[];
  sockets: SocketSpec[];
}

export const scenarios: Scenario[] = [
  {
    id: 'reqrep',
    title: 'REQ / REP',
    summary:
      'Lockstep request and reply. Each turn is a machine event: REQ may not send again until its reply arrives, REP may not receive again until it has replied (EFSM otherwise).',
    tryThis: ['Send on REQ: its machine moves to waiting for the reply.', 'Receive on REP, then send the reply.', 'Receive on REQ: back where it started.', 'Send twice on REQ: the second fails with EFSM.'],
    sockets: [
      { key: 'req', label: 'REQ', type: 'Request', connect: ['inproc://service'], draft: 'hello' },
      { key: 'rep', label: 'REP', type: 'Reply', bind: ['inproc://service'], draft: 'world' },
    ],
  },
  {
    id: 'dealer-router',
    title: 'DEALER / ROUTER',
    summary:
      'Asynchronous request routing. ROUTER keeps an identity table in its machine; what it receives starts with the sender\'s routing id, and what it sends must start with one.',
    tryThis: ['Send on alice and bob, then receive twice on ROUTER: each message starts with its sender\'s id.', 'Pick an id on ROUTER and send: only that dealer gets it.', 'Disconnect bob: the id leaves ROUTER\'s table.'],
    sockets: [
      { key: 'router', label: 'ROUTER', type: 'Router', bind: ['inproc://backend'], addressees: ['alice', 'bob'], draft: 'job for you' },
      { key: 'alice', label: 'DEALER alice', type: 'Dealer', options: { routingId: 'alice' }, connect: ['inproc://backend'], draft: 'from alice' },
      { key: 'bob', label: 'DEALER bob', type: 'Dealer', options: { routingId: 'bob' }, connect: ['inproc://backend'], draft: 'from bob' },
    ],
  },
  {
    id: 'pubsub',
    title: 'PUB / SUB',
    summary:
      'Fan-out with prefix filtering. Subscriptions are machine events; each subscriber gets only messages whose first frame starts with one of its prefixes. A publisher never waits: at HWM it drops.',
    tryThis: ['Publish "weather sunny": both subscribers get it.', 'Publish "news today": only the one subscribed to "" gets it.', 'Unsubscribe "weather" and publish again.'],
    sockets: [
      { key: 'pub', label: 'PUB', type: 'Publisher', bind: ['inproc://feed'], draft: 'weather sunny' },
      { key: 'weather', label: 'SUB weather', type: 'Subscriber', connect: ['inproc://feed'], subscribe: ['weather'] },
      { key: 'all', label: 'SUB all', type: 'Subscriber', connect: ['inproc://feed'], subscribe: [''] },
    ],
  },
  {
    id: 'pushpull',
    title: 'PUSH / PULL at HWM',
    summary:
      'Round-robin with back-pressure. Each pipe holds PUSH\'s SNDHWM plus the PULL\'s RCVHWM (2 + 2 here). When a pipe fills, PUSH\'s machine hears pipe.muted and skips that worker; when every pipe is full it goes mute and send waits.',
    tryThis: ['Send 8 times: both pipes fill, PUSH goes mute.', 'Send once more: the call waits.', 'Receive twice on worker 1: its pipe drains to the low-water mark, PUSH hears pipe.ready and the waiting send goes through.'],
    sockets: [
      { key: 'push', label: 'PUSH', type: 'Push', options: { sendHighWaterMark: 2 }, bind: ['inproc://jobs'], draft: 'job' },
      { key: 'worker1', label: 'PULL worker 1', type: 'Pull', options: { receiveHighWaterMark: 2 }, connect: ['inproc://jobs'] },
      { key: 'worker2', label: 'PULL worker 2', type: 'Pull', options: { receiveHighWaterMark: 2 }, connect: ['inproc://jobs'] },
    ],
  },
  {
    id: 'pair',
    title: 'PAIR',
    summary:
      'An exclusive link, both directions. PAIR\'s machine goes from unpaired to paired when its one peer attaches, and refuses a second peer.',
    tryThis: ['Send on either side, receive on the other.', 'Connect the intruder: PAIR a refuses it (peer:refused in the log).', 'Disconnect b: a goes back to unpaired.'],
    sockets: [
      { key: 'a', label: 'PAIR a', type: 'Pair', bind: ['inproc://couple'], draft: 'ping' },
      { key: 'b', label: 'PAIR b', type: 'Pair', connect: ['inproc://couple'], draft: 'pong' },
      { key: 'intruder', label: 'PAIR intruder', type: 'Pair', connectLater: ['inproc://couple'], draft: 'let me in' },
    ],
  },
];
