// Push and Pull (RFC 30 PIPELINE). Push round-robins over the peers its machine marks ready;
// Pull fair-queues. Neither sends an XState event per message.

import { ZmqError } from '../core/errors.js';
import type { Message } from '../core/frame.js';
import { pushMachine } from '../../machines/push.js';
import { pullMachine } from '../../machines/pull.js';
import { RoundRobinSocket } from './round-robin.js';
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
export class Push extends RoundRobinSocket<typeof pushMachine> {
  constructor(options?: PushOptions) {
    super('PUSH', pushMachine, options, ['conflate']);
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
