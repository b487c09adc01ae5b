// Pair (RFC 31 EXPAIR): one peer, both directions; a second peer is refused by the machine.

import type { Message } from '../core/frame.js';
import { pairMachine, sendTarget } from '../../machines/pair.js';
import { RECEIVING_OPTIONS, SENDING_OPTIONS } from '../core/options.js';
import type { ReceivingOptions, SendingOptions } from '../core/options.js';
import { optionAccessors, Socket, socketMachine } from './socket.js';
import type { SocketOptionsInput } from './socket.js';

export interface PairOptions extends SocketOptionsInput, SendingOptions, ReceivingOptions {}

const PAIR_OPTIONS = [...SENDING_OPTIONS, ...RECEIVING_OPTIONS];

const pairLogic = socketMachine(pairMachine);

/**
 * PAIR: an exclusive, bidirectional link between two sockets. Sends wait while there is no peer
 * or the peer's pipe is full; a second peer trying to join is refused (a `peer:refused` event).
 */
export class Pair extends Socket<typeof pairMachine> {
  constructor(options?: PairOptions) {
    super('PAIR', pairLogic, options, PAIR_OPTIONS);
    if (new.target === Pair) Object.seal(this);
  }

  /** ZMQ_SNDBUF: the kernel's send buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_SNDBUF. */
  declare sendBufferSize: number;
  /** ZMQ_MULTICAST_HOPS: the TTL of multicast packets (default 1). Read back, without effect: no multicast transport. */
  declare multicastHops: number;
  /** ZMQ_RCVBUF: the kernel's receive buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_RCVBUF. */
  declare receiveBufferSize: number;

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

// The option accessors declared above: a plain read and a checked set each (optionAccessors in socket.ts).
optionAccessors(Pair.prototype, ['sendBufferSize', 'multicastHops', 'receiveBufferSize']);
