// What zeromq.js reports about the library itself: the libzmq version it speaks as, its
// capabilities, and which class is each libzmq socket type number. Facts only; nothing here starts
// anything.

import { transportFactory } from '../transport/registry.js';
import { Dealer, Router } from './dealer-router.js';
import { Pair } from './pair.js';
import { Publisher, Subscriber, XPublisher, XSubscriber } from './pub-sub.js';
import { Pull, Push } from './push-pull.js';
import { Reply, Request } from './request-reply.js';
import { registerSocketClasses } from './socket.js';

/**
 * The libzmq version whose behaviour monocoque matches (zeromq.js v6 reports the version of the
 * libzmq it is built with; 4.3.5 is the one it ships).
 */
export const version = '4.3.5';

/** What this build offers, with zeromq.js's keys (`capability.ipc`, `capability.curve`, …). */
export interface Capability {
  /** `ipc://` endpoints: in Node, Deno and Bun; not in a browser. */
  readonly ipc: boolean;
  /** `pgm://` and `epgm://` (reliable multicast): no. */
  readonly pgm: boolean;
  /** `tipc://` (Linux cluster IPC): no. */
  readonly tipc: boolean;
  /** `norm://` (NACK-oriented reliable multicast): no. */
  readonly norm: boolean;
  /** The CURVE security mechanism: yes (libsodium, as WebAssembly). */
  readonly curve: boolean;
  /** The GSSAPI security mechanism: no. */
  readonly gssapi: boolean;
  /** libzmq's DRAFT socket types (SERVER, CLIENT, RADIO, DISH, …): not yet. */
  readonly draft: boolean;
}

/**
 * The capabilities of this build. `ipc` reads the transports registered now: the Node entry
 * (`monocoque`) registers ipc, the browser entry (`monocoque/browser`) does not.
 */
export const capability: Capability = Object.freeze({
  get ipc(): boolean {
    return transportFactory('ipc') !== undefined;
  },
  pgm: false,
  tipc: false,
  norm: false,
  curve: true,
  gssapi: false,
  draft: false,
});

// `new Socket(type, options)`, zeromq.js's form with libzmq's type number, makes the socket of that
// type: the classes are told here, where they are all imported (each imports socket.ts).
registerSocketClasses({
  PAIR: Pair,
  PUB: Publisher,
  SUB: Subscriber,
  REQ: Request,
  REP: Reply,
  DEALER: Dealer,
  ROUTER: Router,
  PULL: Pull,
  PUSH: Push,
  XPUB: XPublisher,
  XSUB: XSubscriber,
});
