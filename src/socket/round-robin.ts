// What PUSH and DEALER share on the sending side: each message goes to the peer the machine's rule
// names (`nextPeer`, round-robin over the ready peers of its table, libzmq `lb.cpp`); no XState
// event per message, only the mute edge when a pipe fills.

import type { AnyStateMachine } from 'xstate';
import type { Message } from '../core/frame.js';
import type { PeerTable } from '../../machines/peers.js';
import { hasRoom } from '../../machines/round-robin.js';
import { Socket } from './socket.js';

/** A socket that sends round-robin (PUSH, DEALER); subclasses say how they receive. Not constructed directly. */
export abstract class RoundRobinSocket<TMachine extends AnyStateMachine> extends Socket<TMachine> {
  /** ZMQ_CONFLATE: keep only the newest message per peer (single-part messages). */
  get conflate(): boolean { return this.opt.conflate; }
  set conflate(v: boolean) { this.setOption('conflate', v); }

  /**
   * The machine's peer table: the machine makes it with its context and changes it in place for
   * the actor's life, so a reference to it stays right (a reference, not a copy: nothing here
   * writes it). Saves reading the actor's snapshot per message, which touched three more objects.
   */
  #table: PeerTable | undefined;

  /** @internal */
  protected get peerTable(): PeerTable {
    return (this.#table ??= (this.machineContext as { peers: PeerTable }).peers);
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    return this.writeRoundRobin(this.peerTable, msg) !== undefined;
  }

  /** @internal */
  protected override canSendNow(): boolean {
    return hasRoom(this.peerTable);
  }
}
