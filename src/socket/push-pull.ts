// Push and Pull (RFC 30 PIPELINE). Push sends to the peer its machine names (round-robin over the
// ready ones); Pull fair-queues. Neither sends an XState event per message.

import { ZmqError } from '../core/errors.js';
import type { Message } from '../core/frame.js';
import { pushMachine } from '../../machines/push.js';
import { pullMachine } from '../../machines/pull.js';
import { RoundRobinSocket } from './round-robin.js';
import { RECEIVING_OPTIONS, SENDING_OPTIONS } from '../core/options.js';
import type { OptionName, ReceivingOptions, SendingOptions } from '../core/options.js';
import { optionAccessors, Socket, socketMachine } from './socket.js';
import type { SocketOptionsInput } from './socket.js';

export interface PushOptions extends SocketOptionsInput, SendingOptions {
  /** ZMQ_CONFLATE: keep only the newest message per peer. */
  conflate?: boolean;
}
export interface PullOptions extends SocketOptionsInput, ReceivingOptions {
  /** ZMQ_CONFLATE: keep only the newest message per peer. */
  conflate?: boolean;
}

const PUSH_OPTIONS: readonly OptionName[] = ['conflate', ...SENDING_OPTIONS];
const PULL_OPTIONS: readonly OptionName[] = ['conflate', ...RECEIVING_OPTIONS];

const pushLogic = socketMachine(pushMachine);
const pullLogic = socketMachine(pullMachine);

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
    super('PUSH', pushLogic, options, PUSH_OPTIONS);
    if (new.target === Push) Object.seal(this);
  }

  /** ZMQ_SNDBUF: the kernel's send buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_SNDBUF. */
  declare sendBufferSize: number;
  /** ZMQ_MULTICAST_HOPS: the TTL of multicast packets (default 1). Read back, without effect: no multicast transport. */
  declare multicastHops: number;

  /** @internal */
  protected override xrecv(): Message | undefined {
    return undefined;
  }

  /** @internal */
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
    super('PULL', pullLogic, options, PULL_OPTIONS);
    if (new.target === Pull) Object.seal(this);
  }

  /** ZMQ_RCVBUF: the kernel's receive buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_RCVBUF. */
  declare receiveBufferSize: number;

  /** ZMQ_CONFLATE: keep only the newest message per peer (single-part messages). */
  declare conflate: boolean;

  /** @internal */
  protected override xrecv(): Message | undefined {
    return this.inbound.read();
  }

  /** @internal */
  protected override xsend(): boolean {
    return false;
  }

  /** @internal */
  protected override canSendNow(): boolean {
    return false;
  }

  /** @internal */
  protected override checkSend(): void {
    throw new ZmqError('ENOTSUP', 'send() on a PULL socket: PULL only receives (use PUSH to send)');
  }
}

// The option accessors declared above: a plain read and a checked set each (optionAccessors in socket.ts).
optionAccessors(Push.prototype, ['sendBufferSize', 'multicastHops']);
optionAccessors(Pull.prototype, ['receiveBufferSize', 'conflate']);
