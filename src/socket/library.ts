// What zeromq.js reports about the library itself: the libzmq version it speaks as, and its
// capabilities. Facts only; nothing here starts or changes anything.

import { transportFactory } from '../transport/registry.js';

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
