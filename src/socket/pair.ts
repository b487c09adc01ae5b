// Pair (RFC 31 EXPAIR): one peer, both directions; a second peer is refused by the machine.

import type { Message } from '../core/frame.js';
import { pairMachine, sendTarget } from '../../machines/pair.js';
import { Socket, socketMachine } from './socket.js';
import type { SocketOptionsInput } from './socket.js';

export type PairOptions = SocketOptionsInput;

const pairLogic = socketMachine(pairMachine);

/**
 * PAIR: an exclusive, bidirectional link between two sockets. Sends wait while there is no peer
 * or the peer's pipe is full; a second peer trying to join is refused (a `peer:refused` event).
 */
export class Pair extends Socket<typeof pairMachine> {
  constructor(options?: PairOptions) {
    super('PAIR', pairLogic, options);
    if (new.target === Pair) Object.seal(this);
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    const entry = sendTarget(this.machineContext.peers);
    const peer = entry === undefined ? undefined : this.link(entry.id);
    return peer !== undefined && this.writeTo(peer, msg);
  }

  /** @internal */
  protected override canSendNow(): boolean {
    return sendTarget(this.machineContext.peers) !== undefined;
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    return this.inbound.read();
  }
}
