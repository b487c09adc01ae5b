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

  /** @internal */
  protected override xsend(msg: Message): boolean {
    return this.writeRoundRobin((this.machineContext as { peers: PeerTable }).peers, msg) !== undefined;
  }

  /** @internal */
  protected override canSendNow(): boolean {
    return hasRoom((this.machineContext as { peers: PeerTable }).peers);
  }
}
