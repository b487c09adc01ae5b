// Publisher, Subscriber, XPublisher, XSubscriber (RFC 29 PUBSUB). Subscriptions travel through the
// pipes as `0x01`+prefix / `0x00`+prefix messages from the subscribing side to the publishing side
// (the tcp transport turns SUBSCRIBE/CANCEL commands into these); each subscription change is a
// machine event, each published message is not: it goes from the trie straight into the pipes.

import type { AnyStateMachine, SnapshotFrom } from 'xstate';
import { describeValue, ZmqError } from '../core/errors.js';
import type { Frame, Message } from '../core/frame.js';
import { asFrame, toHex } from '../core/frame.js';
import type { Pipe } from '../core/pipe.js';
import { MultiTrie, SubscriptionTrie } from '../core/trie.js';
import { publisherMachine } from '../../machines/publisher.js';
import type { PrefixParams, Verbosity } from '../../machines/publisher.js';
import { subscriberMachine } from '../../machines/subscriber.js';
import type { FilterParams, ReplayParams, SubscriptionParams } from '../../machines/subscriber.js';
import { xpublisherMachine } from '../../machines/xpublisher.js';
import type { NotifyParams } from '../../machines/xpublisher.js';
import { xsubscriberMachine } from '../../machines/xsubscriber.js';
import { Socket } from './socket.js';
import type { Peer, SocketOptionsInput } from './socket.js';

export type { Verbosity } from '../../machines/publisher.js';

export interface PublisherOptions extends SocketOptionsInput {
  /** ZMQ_XPUB_NODROP: wait (EAGAIN after sendTimeout) instead of dropping for a subscriber at its HWM. */
  noDrop?: boolean;
  /** ZMQ_CONFLATE: keep only the newest message per subscriber (single-part messages). */
  conflate?: boolean;
}

export interface SubscriberOptions extends SocketOptionsInput {
  /** ZMQ_CONFLATE: keep only the newest message per publisher (single-part messages). */
  conflate?: boolean;
}

export interface XPublisherOptions extends SocketOptionsInput {
  /** ZMQ_XPUB_NODROP: wait (EAGAIN after sendTimeout) instead of dropping for a subscriber at its HWM. */
  noDrop?: boolean;
  /** ZMQ_XPUB_VERBOSE / ZMQ_XPUB_VERBOSER: which subscription messages the application sees. */
  verbosity?: Verbosity;
}

export type XSubscriberOptions = SocketOptionsInput;

type Effects = Record<string, (args: { event: never; context: never }) => void>;

const SUBSCRIBE = 1;
const CANCEL = 0;
const encoder = new TextEncoder();

/** Bytes of a hex prefix (as the machines carry it). */
function fromHex(hex: string, lead = -1): Uint8Array {
  const skip = lead < 0 ? 0 : 1;
  const out = new Uint8Array(hex.length / 2 + skip);
  if (lead >= 0) out[0] = lead;
  for (let i = 0; i < hex.length; i += 2) out[skip + i / 2] = parseInt(hex.slice(i, i + 2), 16);
  return out;
}

/** A `0x01`+prefix or `0x00`+prefix message. */
function subscriptionMessage(subscribe: boolean, hexPrefix: string): Message {
  return [asFrame(fromHex(hexPrefix, subscribe ? SUBSCRIBE : CANCEL))];
}

/**
 * Whether a message is a subscription (`0x01`+prefix) or a cancel (`0x00`+prefix): one frame whose
 * first byte is 1 or 0 (libzmq `xpub.cpp`, `xsub.cpp`). Anything else is data.
 */
function subscriptionByte(msg: Message): number {
  if (msg.length !== 1) return -1;
  const f = msg[0] as Frame;
  return f.byteLength > 0 && (f[0] === SUBSCRIBE || f[0] === CANCEL) ? (f[0] as number) : -1;
}

function prefixBytes(prefix: unknown, method: string): Uint8Array {
  if (typeof prefix === 'string') return encoder.encode(prefix);
  if (prefix instanceof Uint8Array) return prefix;
  throw new ZmqError('EINVAL', `${method}(): the prefix ${describeValue(prefix)} is not a string or bytes (Uint8Array)`);
}

function ignorePrefix(_prefix: Uint8Array): void {}

/**
 * @internal What PUB and XPUB share: the subscriber trie (prefix -> peers), fan-out on send, and
 * subscription messages read as soon as a pipe has them (libzmq `xpub_t::xread_activated`).
 */
abstract class PublisherBase<TMachine extends AnyStateMachine> extends Socket<TMachine> {
  #subscribers = new MultiTrie<Peer>();
  #msg: Message | undefined = undefined;
  #room = true;
  #sending = false;

  /** ZMQ_XPUB_NODROP: a send that matches a subscriber at its HWM waits (EAGAIN after sendTimeout) instead of dropping. */
  get noDrop(): boolean { return this.opt.noDrop; }
  set noDrop(v: boolean) {
    this.setOption('noDrop', v);
    this.tell({ type: 'configure', noDrop: this.opt.noDrop });
  }

  protected override xsend(msg: Message): boolean {
    // Re-entered from a flush that our own delivery caused (a pipe filled, the machine moved): the
    // outer call is still delivering, so the waiting send stays queued.
    if (this.#sending) return false;
    const topic = msg[0] as Frame;
    if (this.opt.noDrop) {
      // libzmq `dist_t::check_hwm`: every matching subscriber must have room, or nobody gets it.
      this.#room = true;
      this.#subscribers.match(topic, this.#checkRoom, this);
      if (!this.#room) return false;
    }
    this.#sending = true;
    this.#msg = msg;
    try {
      this.#subscribers.match(topic, this.#deliver, this);
    } finally {
      this.#msg = undefined;
      this.#sending = false;
    }
    return true;
  }

  #deliver(peer: Peer): void {
    const out = peer.out;
    // A full pipe drops the message for this subscriber only (libzmq `dist_t::write`).
    if (out.write(this.#msg as Message) && !out.writable) this.pipeFilled(out);
  }

  #checkRoom(peer: Peer): void {
    if (!peer.out.writable) this.#room = false;
  }

  protected override canSendNow(): boolean {
    // libzmq `xpub_t::xhas_out` (dist_t::has_out): always, noDrop or not; whether a send waits
    // depends on which subscribers the message matches.
    return true;
  }

  protected override effects(): Effects {
    return {
      subscribePeer: (_: unknown, p: PrefixParams) => {
        const peer = this.peers.get(p.peerId);
        if (peer !== undefined) this.#subscribers.add(fromHex(p.prefix), peer);
      },
      unsubscribePeer: (_: unknown, p: PrefixParams) => {
        const peer = this.peers.get(p.peerId);
        if (peer !== undefined) this.#subscribers.remove(fromHex(p.prefix), peer);
      },
    } as unknown as Effects;
  }

  protected override peerDetached(peer: Peer): void {
    this.#subscribers.removePeer(peer, ignorePrefix);
  }

  /** @internal Subscriptions are applied as soon as they arrive, whether or not anyone receives. */
  override pipeReadable(pipe: Pipe): void {
    const peer = pipe.readerTag as Peer | undefined;
    for (let msg = pipe.read(); msg !== undefined; msg = pipe.read()) {
      if (peer === undefined || !peer.attached) continue;
      const kind = subscriptionByte(msg);
      if (kind < 0) this.upstream(msg);
      else this.tell({ type: kind === SUBSCRIBE ? 'subscription.added' : 'subscription.removed', peerId: peer.id, prefix: toHex((msg[0] as Frame).subarray(1)) });
    }
  }

  /** A message that is not a subscription arrived from a subscriber (an XSUB sending upstream). */
  protected abstract upstream(msg: Message): void;
}

/**
 * PUB: sends each message to every subscriber that subscribed to a prefix of its first frame.
 * Never waits: a subscriber whose queue is full misses the message (unless `noDrop`). Cannot
 * receive.
 *
 * ```ts
 * const pub = new Publisher()
 * await pub.bind("inproc://weather")
 * await pub.send(["weather.oslo", "-3"])
 * ```
 */
export class Publisher extends PublisherBase<typeof publisherMachine> {
  constructor(options?: PublisherOptions) {
    super('PUB', publisherMachine, options, ['noDrop', 'conflate']);
    if (this.opt.noDrop) this.tell({ type: 'configure', noDrop: true });
  }

  /** ZMQ_CONFLATE: keep only the newest message per subscriber (single-part messages). */
  get conflate(): boolean { return this.opt.conflate; }
  set conflate(v: boolean) { this.setOption('conflate', v); }

  protected override upstream(): void {
    // libzmq `xpub.cpp`: a PUB never hands upstream messages to its application; they are discarded.
  }

  protected override xrecv(): Message | undefined {
    return undefined;
  }

  protected override checkReceive(): void {
    throw new ZmqError('ENOTSUP', 'receive() on a PUB socket: PUB only sends (use XPUB to see subscriptions)');
  }
}

/**
 * XPUB: a Publisher whose application also receives the subscriptions, as messages whose first
 * byte is 1 (subscribe) or 0 (cancel) followed by the prefix, and the other messages that XSUB
 * peers send upstream. By default only a prefix's first subscriber and the cancel of its last are
 * reported (see `verbosity`); when a subscriber goes away, the cancels of the prefixes nobody
 * wants any more are reported too.
 *
 * ```ts
 * const xpub = new XPublisher()
 * await xpub.bind("inproc://feed")
 * const [sub] = await xpub.receive()   // <01 77 65 61 ...>: someone subscribed to "wea…"
 * ```
 */
export class XPublisher extends PublisherBase<typeof xpublisherMachine> {
  // What receive() hands out: subscription notices and upstream messages, in arrival order.
  #pending: Message[] = [];
  #head = 0;

  constructor(options?: XPublisherOptions) {
    super('XPUB', xpublisherMachine, options, ['noDrop', 'verbosity']);
    if (this.opt.noDrop || this.opt.verbosity !== null) this.tell({ type: 'configure', noDrop: this.opt.noDrop, verbosity: this.opt.verbosity });
  }

  /**
   * ZMQ_XPUB_VERBOSE / ZMQ_XPUB_VERBOSER: `null` (default) reports a prefix's first subscribe and
   * its last cancel; `'allSubs'` every subscribe, repeats included; `'allSubsUnsubs'` also every
   * cancel.
   */
  get verbosity(): Verbosity { return this.opt.verbosity; }
  set verbosity(v: Verbosity) {
    this.setOption('verbosity', v);
    this.tell({ type: 'configure', verbosity: this.opt.verbosity });
  }

  /** Whether a message is waiting to be received (ZMQ_EVENTS POLLIN). */
  override get readable(): boolean {
    return !this.closed && this.#head < this.#pending.length;
  }

  protected override effects(): Effects {
    return {
      ...super.effects(),
      notify: (_: unknown, p: NotifyParams) => {
        for (const prefix of p.prefixes) this.#pending.push(subscriptionMessage(p.subscribe, prefix));
      },
    } as unknown as Effects;
  }

  protected override upstream(msg: Message): void {
    this.#pending.push(msg);
  }

  /** @internal */
  override pipeReadable(pipe: Pipe): void {
    const before = this.#pending.length;
    super.pipeReadable(pipe);
    // Upstream messages are no machine event, so nothing else would wake a waiting receive.
    if (this.#pending.length > before) this.flush();
  }

  protected override xrecv(): Message | undefined {
    const pending = this.#pending;
    if (this.#head >= pending.length) return undefined;
    const msg = pending[this.#head] as Message;
    pending[this.#head++] = undefined as never;
    if (this.#head === pending.length) {
      pending.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= pending.length) {
      pending.splice(0, this.#head);
      this.#head = 0;
    }
    return msg;
  }
}

/**
 * @internal What SUB and XSUB share: the counted subscriptions (kept by the machine, mirrored in a
 * trie for the receive filter), their messages upstream, and filtered fair-queued receive.
 */
abstract class SubscriberBase<TMachine extends AnyStateMachine> extends Socket<TMachine> {
  #filter = new SubscriptionTrie();
  /** A matching message `readable` read ahead; the next receive returns it first. */
  #ahead: Message | undefined = undefined;
  #outs: Pipe[] = [];
  #peersSeen: unknown = undefined;

  protected override onTransition(snapshot: SnapshotFrom<TMachine>): void {
    const peers = (snapshot as unknown as { context: { peers: { id: number }[] } }).context.peers;
    if (peers === this.#peersSeen) return;
    this.#peersSeen = peers;
    const outs: Pipe[] = [];
    for (const p of peers) {
      const peer = this.peers.get(p.id);
      if (peer !== undefined) outs.push(peer.out);
    }
    this.#outs = outs;
  }

  protected override effects(): Effects {
    return {
      addFilter: (_: unknown, p: FilterParams) => {
        this.#filter.add(fromHex(p.prefix));
      },
      removeFilter: (_: unknown, p: FilterParams) => {
        this.#filter.remove(fromHex(p.prefix));
      },
      sendSubscription: (_: unknown, p: SubscriptionParams) => {
        const msg = subscriptionMessage(p.subscribe, p.prefix);
        for (const peer of this.peers.values()) if (peer.attached) this.writeOrDrop(peer.out, msg);
      },
      replaySubscriptions: (_: unknown, p: ReplayParams) => {
        const peer = this.peers.get(p.peerId);
        if (peer === undefined) return;
        for (const prefix of p.prefixes) this.writeOrDrop(peer.out, subscriptionMessage(true, prefix));
      },
    } as unknown as Effects;
  }

  /** Writes to one publisher; a full pipe drops the message (libzmq `dist_t`, libzmq#2258). */
  protected writeOrDrop(out: Pipe, msg: Message): void {
    if (out.write(msg) && !out.writable) this.pipeFilled(out);
  }

  /** Every attached publisher's pipe, as of the machine's last transition. */
  protected get upstreamPipes(): readonly Pipe[] {
    return this.#outs;
  }

  // libzmq `xsub.cpp` filters again on receive: a publisher may send more than we asked for (a
  // cancel still travelling, or a peer that does not filter).
  protected override xrecv(): Message | undefined {
    const ahead = this.#ahead;
    if (ahead !== undefined) {
      this.#ahead = undefined;
      return ahead;
    }
    for (;;) {
      const msg = this.readFairly();
      if (msg === undefined) return undefined;
      if (this.#filter.matches(msg[0] as Frame)) return msg;
    }
  }

  /** Whether a matching message waits (libzmq `xsub.cpp xhas_in` filters before answering). */
  override get readable(): boolean {
    if (this.closed) return false;
    if (this.#ahead === undefined) this.#ahead = this.xrecv();
    return this.#ahead !== undefined;
  }

  protected subscriptionCommand(type: 'subscribe' | 'unsubscribe', prefix: Uint8Array): void {
    this.tell({ type, prefix: toHex(prefix) });
  }
}

/**
 * SUB: receives the messages of its publishers whose first frame starts with a subscribed prefix.
 * It receives nothing until it subscribes; `subscribe()` with no argument subscribes to everything.
 * Subscriptions are counted: subscribing twice takes two unsubscribes to undo. Cannot send.
 *
 * ```ts
 * const sub = new Subscriber()
 * sub.connect("inproc://weather")
 * sub.subscribe("weather.")
 * for await (const [topic, value] of sub) console.log(topic.toString(), value.toString())
 * ```
 */
export class Subscriber extends SubscriberBase<typeof subscriberMachine> {
  constructor(options?: SubscriberOptions) {
    super('SUB', subscriberMachine, options, ['conflate']);
  }

  /** ZMQ_CONFLATE: keep only the newest message per publisher (single-part messages). */
  get conflate(): boolean { return this.opt.conflate; }
  set conflate(v: boolean) { this.setOption('conflate', v); }

  /**
   * ZMQ_SUBSCRIBE: receive messages whose first frame starts with one of `prefixes` (strings are
   * UTF-8). With no argument, subscribes to every message (the empty prefix).
   */
  subscribe(...prefixes: Array<string | Uint8Array>): void {
    this.#change('subscribe', prefixes);
  }

  /**
   * ZMQ_UNSUBSCRIBE: undoes one earlier `subscribe` of each prefix. With no argument, undoes a
   * `subscribe()` of everything. Prefixes that are not subscribed are ignored.
   */
  unsubscribe(...prefixes: Array<string | Uint8Array>): void {
    this.#change('unsubscribe', prefixes);
  }

  #change(type: 'subscribe' | 'unsubscribe', prefixes: readonly unknown[]): void {
    if (this.closed) throw new ZmqError('EBADF', 'Socket is closed');
    const bytes = prefixes.length === 0 ? [new Uint8Array(0)] : prefixes.map((p) => prefixBytes(p, type));
    for (const b of bytes) this.subscriptionCommand(type, b);
  }

  protected override xsend(): boolean {
    return false;
  }

  protected override canSendNow(): boolean {
    return false;
  }

  protected override checkSend(): void {
    throw new ZmqError('ENOTSUP', 'send() on a SUB socket: SUB only receives (use subscribe(), or XSUB to send upstream)');
  }
}

/**
 * XSUB: a Subscriber whose application sends the subscriptions as messages: one frame, first byte
 * 1 (subscribe) or 0 (cancel), then the prefix. Any other message goes upstream to every publisher
 * with room (an XPUB hands it to its application; a PUB discards it). Sending never waits.
 *
 * ```ts
 * const xsub = new XSubscriber()
 * xsub.connect("inproc://feed")
 * await xsub.send(Buffer.from("\x01weather."))   // subscribe to "weather."
 * ```
 */
export class XSubscriber extends SubscriberBase<typeof xsubscriberMachine> {
  constructor(options?: XSubscriberOptions) {
    super('XSUB', xsubscriberMachine, options);
  }

  protected override xsend(msg: Message): boolean {
    const kind = subscriptionByte(msg);
    if (kind >= 0) {
      this.subscriptionCommand(kind === SUBSCRIBE ? 'subscribe' : 'unsubscribe', (msg[0] as Frame).subarray(1));
      return true;
    }
    // libzmq `xsub.cpp`: other messages go to every publisher; a full pipe drops it for that one.
    const outs = this.upstreamPipes;
    for (let i = 0; i < outs.length; i++) this.writeOrDrop(outs[i] as Pipe, msg);
    return true;
  }

  protected override canSendNow(): boolean {
    return true;
  }
}
