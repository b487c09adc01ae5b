// Which transports exist beyond inproc: the Node entry registers tcp and ipc here when it loads; a
// browser build never does, so it never loads node:net. A Context makes one of each on first use.

import type { InspectionEvent } from 'xstate';
import type { Violation, ZapQuery, ZapReply } from '../protocol/index.js';
import type { Transport } from './host.js';

/** What a transport needs of the Context that uses it: its inspection observer and its ZAP handler. */
export interface TransportContext {
  /** The observer the Context's actors report to, which the connection actors report to as well. */
  readonly inspector: ((event: InspectionEvent) => void) | undefined;
  /** Whether a ZAP handler is bound in this Context (RFC 27: at inproc://zeromq.zap.01). */
  zapHandlerBound(): boolean;
  /**
   * Asks the ZAP handler about a peer. Resolves with its reply, or with a violation when the
   * exchange failed (a malformed reply, the handler gone); aborting `signal` stops the wait.
   */
  askZap(query: ZapQuery, signal: AbortSignal): Promise<ZapReply | Violation>;
}

export type TransportFactory = (context: never) => Transport;

const factories = new Map<string, TransportFactory>();

/** Makes a transport available to every Context (`src/transport/register-node.ts` adds tcp and ipc). */
export function registerTransport(name: string, make: TransportFactory): void {
  factories.set(name, make);
}

/** The factory registered for `name` (`tcp`, `ipc`, …), if any. */
export function transportFactory(name: string): TransportFactory | undefined {
  return factories.get(name);
}
