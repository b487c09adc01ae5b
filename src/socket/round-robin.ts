// What PUSH and DEALER share on the sending side: round-robin over the peers the machine marks
// ready (libzmq `lb.cpp`), refreshed from the machine on each transition, never an event per message.

import type { AnyStateMachine, SnapshotFrom } from 'xstate';
import type { Message } from '../core/frame.js';
import type { Pipe } from '../core/pipe.js';
import type { PeerEntry } from '../../machines/peers.js';
import { Socket } from './socket.js';

/** @internal A socket that sends round-robin; subclasses say how they receive. */
export abstract class RoundRobinSocket<TMachine extends AnyStateMachine> extends Socket<TMachine> {
  #ready: Pipe[] = [];
  #rr = 0;
  #peersSeen: unknown = undefined;

  /** ZMQ_CONFLATE: keep only the newest message per peer (single-part messages). */
  get conflate(): boolean { return this.opt.conflate; }
  set conflate(v: boolean) { this.setOption('conflate', v); }

  protected override onTransition(snapshot: SnapshotFrom<TMachine>): void {
    const peers = (snapshot as unknown as { context: { peers: PeerEntry[] } }).context.peers;
    if (peers === this.#peersSeen) return;
    this.#peersSeen = peers;
    const ready: Pipe[] = [];
    for (const p of peers) {
      const peer = this.peers.get(p.id);
      if (p.ready && peer !== undefined) ready.push(peer.out);
    }
    this.#ready = ready;
  }

  protected override xsend(msg: Message): boolean {
    const cursor = Socket.writeRoundRobin(this, this.#ready, this.#rr, msg);
    if (cursor < 0) return false;
    this.#rr = cursor;
    return true;
  }

  protected override canSendNow(): boolean {
    for (const p of this.#ready) if (p.writable) return true;
    return false;
  }
}
