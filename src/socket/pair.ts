// Pair (RFC 31 EXPAIR): one peer, both directions; a second peer is refused by the machine.

import type { SnapshotFrom } from 'xstate';
import type { Message } from '../core/frame.js';
import type { Pipe } from '../core/pipe.js';
import { pairMachine } from '../../machines/pair.js';
import { Socket } from './socket.js';
import type { SocketOptionsInput } from './socket.js';

export type PairOptions = SocketOptionsInput;

/**
 * PAIR: an exclusive, bidirectional link between two sockets. Sends wait while there is no peer
 * or the peer's pipe is full; a second peer trying to join is refused (a `peer:refused` event).
 */
export class Pair extends Socket<typeof pairMachine> {
  #out: Pipe | undefined;

  constructor(options?: PairOptions) {
    super('PAIR', pairMachine, options);
  }

  protected override onTransition(snapshot: SnapshotFrom<typeof pairMachine>): void {
    const p = snapshot.context.peers[0];
    this.#out = p !== undefined && p.ready ? this.peers.get(p.id)?.out : undefined;
  }

  protected override xsend(msg: Message): boolean {
    const out = this.#out;
    if (out === undefined || !out.write(msg)) return false;
    if (!out.writable) this.pipeFilled(out);
    return true;
  }

  protected override canSendNow(): boolean {
    return this.#out?.writable === true;
  }

  protected override xrecv(): Message | undefined {
    return this.readFairly();
  }
}
