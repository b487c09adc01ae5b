// Push and Pull (RFC 30 PIPELINE). Push round-robins over the peers its machine marks ready;
// Pull fair-queues. Neither sends an XState event per message.

import type { SnapshotFrom } from 'xstate';
import { ZmqError } from '../core/errors.js';
import type { Message } from '../core/frame.js';
import type { Pipe } from '../core/pipe.js';
import { pushMachine } from '../../machines/push.js';
import { pullMachine } from '../../machines/pull.js';
import { Socket } from './socket.js';
import type { SocketOptionsInput } from './socket.js';

export interface PushOptions extends SocketOptionsInput {
  /** ZMQ_CONFLATE: keep only the newest message per peer. */
  conflate?: boolean;
}
export type PullOptions = PushOptions;

/**
 * PUSH: sends each message to one peer in turn, skipping peers at their HWM; waits when every
 * peer is full or there is none.
 *
 * ```ts
 * const push = new Push()
 * await push.bind("inproc://jobs")
 * await push.send(["job", "42"])
 * ```
 */
export class Push extends Socket<typeof pushMachine> {
  #ready: Pipe[] = [];
  #rr = 0;
  #peersSeen: unknown = undefined;

  constructor(options?: PushOptions) {
    super('PUSH', pushMachine, options, ['conflate']);
  }

  /** ZMQ_CONFLATE: keep only the newest message per peer (single-part messages). */
  get conflate(): boolean { return this.opt.conflate; }
  set conflate(v: boolean) { this.setOption('conflate', v); }

  protected override onTransition(snapshot: SnapshotFrom<typeof pushMachine>): void {
    const peers = snapshot.context.peers;
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

  protected override xrecv(): Message | undefined {
    return undefined;
  }

  protected override checkReceive(): void {
    throw new ZmqError('ENOTSUP', 'receive() on a PUSH socket: PUSH only sends (use PULL to receive)');
  }
}

/**
 * PULL: receives from all its peers in turn (fair queueing); never sends.
 *
 * ```ts
 * const pull = new Pull()
 * pull.connect("inproc://jobs")
 * for await (const [kind, id] of pull) console.log(kind.toString(), id.toString())
 * ```
 */
export class Pull extends Socket<typeof pullMachine> {
  constructor(options?: PullOptions) {
    super('PULL', pullMachine, options, ['conflate']);
  }

  /** ZMQ_CONFLATE: keep only the newest message per peer (single-part messages). */
  get conflate(): boolean { return this.opt.conflate; }
  set conflate(v: boolean) { this.setOption('conflate', v); }

  protected override xrecv(): Message | undefined {
    return this.readFairly();
  }

  protected override xsend(): boolean {
    return false;
  }

  protected override canSendNow(): boolean {
    return false;
  }

  protected override checkSend(): void {
    throw new ZmqError('ENOTSUP', 'send() on a PULL socket: PULL only receives (use PUSH to send)');
  }
}
