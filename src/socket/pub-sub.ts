// Publisher, Subscriber, XPublisher, XSubscriber (RFC 29 PUBSUB). Subscriptions travel through the
// pipes as `0x01`+prefix / `0x00`+prefix messages from the subscribing side to the publishing side
// (the tcp transport turns SUBSCRIBE/CANCEL commands into these); each subscription change is a
// machine event, and the machines keep the tries (machines/publisher.ts, machines/subscriber.ts).
// A published message is no event: it goes from the machine's trie straight into the pipes.

import { describeValue, ZmqError } from '../core/errors.js';
import { Fifo } from '../core/fifo.js';
import type { Frame, Message } from '../core/frame.js';
import { asFrame, fromHex, toHex } from '../core/frame.js';
import { subscriptionMessage } from '../protocol/commands.js';
import type { Pipe } from '../core/pipe.js';
import { onNextTurn } from '../core/turn.js';
import { checksRoom, forEachRecipient, knownPrefix, knownPrefixes, prefixBytes, prefixesBytes, publisherMachine } from '../../machines/publisher.js';
import type { PublisherContext, Verbosity } from '../../machines/publisher.js';
import { isWanted, subscriberMachine } from '../../machines/subscriber.js';
import type { PendingSubscribes, ReplayParams, SubscriberContext, SubscriptionParams, SubscriptionsParams } from '../../machines/subscriber.js';
import { xpublisherMachine } from '../../machines/xpublisher.js';
import type { NotifyParams, WelcomeParams } from '../../machines/xpublisher.js';
import { xsubscriberMachine } from '../../machines/xsubscriber.js';
import { RECEIVING_OPTIONS, SENDING_OPTIONS } from '../core/options.js';
import type { OptionName, ReceivingOptions, SendingOptions } from '../core/options.js';
import { optionAccessors, Socket, socketMachine } from './socket.js';
import type { Peer, SocketOptionsInput } from './socket.js';

export type { Verbosity } from '../../machines/publisher.js';

export interface PublisherOptions extends SocketOptionsInput, SendingOptions {
  /** ZMQ_XPUB_NODROP: wait (EAGAIN after sendTimeout) instead of dropping for a subscriber at its HWM. */
  noDrop?: boolean;
  /** ZMQ_CONFLATE: keep only the newest message per subscriber (single-part messages). */
  conflate?: boolean;
  /** ZMQ_INVERT_MATCHING: send each message to the subscribers it does not match. */
  invertMatching?: boolean;
}

export interface SubscriberOptions extends SocketOptionsInput, ReceivingOptions {
  /** ZMQ_CONFLATE: keep only the newest message per publisher (single-part messages). */
  conflate?: boolean;
  /** ZMQ_INVERT_MATCHING: receive the messages that match none of the subscriptions. */
  invertMatching?: boolean;
}

export interface XPublisherOptions extends SocketOptionsInput, SendingOptions, ReceivingOptions {
  /** ZMQ_XPUB_NODROP: wait (EAGAIN after sendTimeout) instead of dropping for a subscriber at its HWM. */
  noDrop?: boolean;
  /** ZMQ_XPUB_VERBOSE / ZMQ_XPUB_VERBOSER: which subscription messages the application sees. */
  verbosity?: Verbosity;
  /** ZMQ_XPUB_MANUAL: subscriptions are reported, not applied; apply them with `subscribe()`. */
  manual?: boolean;
  /** ZMQ_XPUB_WELCOME_MSG: a message every new subscriber gets first. */
  welcomeMessage?: string | Uint8Array | null;
  /** ZMQ_INVERT_MATCHING: send each message to the subscribers it does not match. */
  invertMatching?: boolean;
}

export interface XSubscriberOptions extends SocketOptionsInput, SendingOptions, ReceivingOptions {}

// Each type's options beyond the common ones (zeromq.js's placement, `defineOpt` in its index.ts).
const PUB_OPTIONS: readonly OptionName[] = ['noDrop', 'conflate', 'invertMatching', ...SENDING_OPTIONS];
const XPUB_OPTIONS: readonly OptionName[] = ['noDrop', 'verbosity', 'manual', 'welcomeMessage', 'invertMatching', ...SENDING_OPTIONS, ...RECEIVING_OPTIONS];
const SUB_OPTIONS: readonly OptionName[] = ['conflate', 'invertMatching', ...RECEIVING_OPTIONS];
const XSUB_OPTIONS: readonly OptionName[] = [...SENDING_OPTIONS, ...RECEIVING_OPTIONS];
/** libzmq's ids of ZMQ_SUBSCRIBE and ZMQ_UNSUBSCRIBE, as zeromq.js's `setStringOption` takes them. */
const ZMQ_SUBSCRIBE = 6;
const ZMQ_UNSUBSCRIBE = 7;

const SUBSCRIBE = 1;
const CANCEL = 0;
const encoder = new TextEncoder();
/**
 * Subscription messages a publisher applies in one turn of the event loop before it lets other work
 * run: a peer sending thousands of SUBSCRIBEs must not freeze the process (each is a machine event,
 * a few µs). What waits stays in the peer's pipe: over tcp it pushes back on the peer at its HWM
 * (the engine stops reading the stream); an inproc subscriber writes its subscriptions past the HWM,
 * so its own loop of subscribe() calls pays only its own part and none is lost.
 * @internal
 */
export const SUBSCRIPTIONS_PER_TURN = 256;

/** subscribe() calls a Subscriber tells its machine in one `subscribe.batch`, one a turn (see SubscriberBase). @internal */
export const SUBSCRIBES_PER_TURN = 512;

/** The frame of a `0x01`+prefix or `0x00`+prefix message (prefix as hex, as the machines carry it). */
function subscriptionFrame(subscribe: boolean, hexPrefix: string): Frame {
  return asFrame(subscriptionMessage(subscribe, prefixBytes(hexPrefix)));
}

/**
 * Whether a message is a subscription (`0x01`+prefix) or a cancel (`0x00`+prefix): one frame whose
 * first byte is 1 or 0 (libzmq `xpub.cpp`, `xsub.cpp`). Anything else is data.
 */
function subscriptionByte(msg: Message): number {
  if (msg.length !== 1) return -1;
  const f = msg[0] as Frame;
  return f.length > 0 && (f[0] === SUBSCRIBE || f[0] === CANCEL) ? (f[0] as number) : -1;
}

/** The bytes of a prefix given to subscribe() or unsubscribe(): the socket's own (a caller's buffer is copied, as it may change after the call). */
function userPrefix(prefix: unknown, method: string): Uint8Array {
  if (typeof prefix === 'string') return asciiBytes(prefix) ?? encoder.encode(prefix);
  if (prefix instanceof Uint8Array) return new Uint8Array(prefix);
  throw new ZmqError('EINVAL', `${method}(): the prefix ${describeValue(prefix)} is not a string or bytes (Uint8Array)`);
}

/** The bytes of a short ASCII string (a topic, usually), without the encoder's call; undefined for other text. */
function asciiBytes(s: string): Uint8Array | undefined {
  if (s.length > 64) return undefined;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return undefined;
    out[i] = c;
  }
  return out;
}

/**
 * What PUB and XPUB share: fan-out on send through the machine's subscriber trie, and
 * subscription messages read as soon as a pipe has them (libzmq `xpub_t::xread_activated`).
 */
abstract class PublisherBase<TMachine extends typeof publisherMachine | typeof xpublisherMachine> extends Socket<TMachine> {
  #msg: Message | undefined = undefined;
  /** How many subscribers the message being fanned out has reached (the first takes the array itself). */
  #copies = 0;
  #room = true;
  #sending = false;
  /** Pipes with subscription messages still to apply (see SUBSCRIPTIONS_PER_TURN). */
  #unread = new Set<Pipe>();
  #applying = false;
  /** Subscriptions still to apply in this turn of the event loop. */
  #budget = SUBSCRIPTIONS_PER_TURN;
  #refillQueued = false;

  /** ZMQ_XPUB_NODROP: a send that matches a subscriber at its HWM waits (EAGAIN after sendTimeout) instead of dropping. */
  get noDrop(): boolean { return this.opt.noDrop; }
  set noDrop(v: boolean) {
    this.setOption('noDrop', v);
    this.tell({ type: 'configure', noDrop: this.opt.noDrop });
  }

  /**
   * ZMQ_INVERT_MATCHING: each message goes to every subscriber none of whose prefixes match it
   * (a subscriber with no subscription gets everything), instead of to those that match. The
   * subscribers must set it too, or they drop what they get: a SUB filters again on receive.
   */
  get invertMatching(): boolean { return this.opt.invertMatching; }
  set invertMatching(v: boolean) {
    this.setOption('invertMatching', v);
    this.tell({ type: 'configure', invertMatching: this.opt.invertMatching });
  }

  /** ZMQ_SNDBUF: the kernel's send buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_SNDBUF. */
  declare sendBufferSize: number;
  /** ZMQ_MULTICAST_HOPS: the TTL of multicast packets (default 1). Read back, without effect: no multicast transport. */
  declare multicastHops: number;

  /** What the constructor's options ask of the machine (noDrop, invertMatching, and a subclass's own). */
  protected configureMachine(more: Record<string, unknown> = {}): void {
    const o = this.opt;
    if (o.noDrop || o.invertMatching || Object.keys(more).length > 0) {
      this.tell({ type: 'configure', noDrop: o.noDrop, invertMatching: o.invertMatching, ...more });
    }
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    // Re-entered from a flush that our own delivery caused (a pipe filled, the machine moved): the
    // outer call is still delivering, so the waiting send stays queued.
    if (this.#sending) return false;
    const context = this.machineContext as PublisherContext;
    const topic = msg[0] as Frame;
    if (checksRoom(context)) {
      // noDrop with a subscriber at its HWM: every matching subscriber must have room, or the send waits.
      this.#room = true;
      forEachRecipient(context, topic, this.#checkRoom, this);
      if (!this.#room) return false;
    }
    this.#sending = true;
    this.#msg = msg;
    this.#copies = 0;
    try {
      forEachRecipient(context, topic, this.#deliver, this);
    } finally {
      this.#msg = undefined;
      this.#sending = false;
    }
    return true;
  }

  #deliver(peerId: number): void {
    const peer = this.link(peerId);
    if (peer === undefined) return;
    // Each subscriber gets its own frames array (it may shift or splice it); the frames are shared.
    const msg = this.#copies++ === 0 ? (this.#msg as Message) : (this.#msg as Message).slice();
    // A full pipe drops the message for this subscriber only (libzmq `dist_t::write`).
    this.writeTo(peer, msg);
  }

  #checkRoom(peerId: number): void {
    const peer = this.link(peerId);
    if (peer !== undefined && !peer.out.writable) this.#room = false;
  }

  /** @internal */
  protected override canSendNow(): boolean {
    // libzmq `xpub_t::xhas_out` (dist_t::has_out): always, noDrop or not; whether a send waits
    // depends on which subscribers the message matches.
    return true;
  }

  /** @internal Subscriptions are applied as soon as they arrive, whether or not anyone receives. */
  override pipeReadable(pipe: Pipe): void {
    this.#unread.add(pipe);
    this.#applySubscriptions();
  }

  #applySubscriptions(): void {
    // Applying now: a pipe that became readable meanwhile is in #unread, and the loop gets to it.
    // Budget spent: the refill queued by #spend comes back to #unread next turn.
    if (this.#applying || this.#budget <= 0) return;
    this.#applying = true;
    try {
      for (const pipe of this.#unread) {
        const peer = pipe.readerTag as Peer | undefined;
        // What waits is not lost: a stream's engine stops reading when the pipe is full, and a
        // subscriber writes its subscriptions past the HWM (SubscriberBase.#writeSubscription), so
        // an inproc subscriber's thousand subscribe() calls cost its own loop only its own part.
        for (;;) {
          if (this.closed) {
            this.#unread.clear();
            return;
          }
          // The rest next turn (see #spend). The whole walk ends, not this pipe's part: going on to
          // the other pipes of #unread would read none of them, and made each subscriber's first
          // subscribe() in a turn walk all the others' pipes (quadratic in subscribers).
          if (this.#budget <= 0) return;
          const msg = pipe.read();
          if (msg === undefined) {
            this.#unread.delete(pipe);
            break;
          }
          if (peer === undefined || !peer.attached) continue;
          const kind = subscriptionByte(msg);
          if (kind < 0) {
            this.upstream(msg);
            continue;
          }
          this.#spend();
          // The frame is the publisher's now (frames are shared read-only): the machine gets its
          // bytes with the hex instead of decoding them again.
          const prefix = (msg[0] as Frame).subarray(1);
          const hex = toHex(prefix);
          knownPrefix(hex, prefix);
          this.tell({ type: kind === SUBSCRIBE ? 'subscription.added' : 'subscription.removed', peerId: peer.id, prefix: hex });
        }
      }
    } finally {
      this.#applying = false;
    }
  }

  /** Counts one subscription against this turn's budget; the budget comes back on the next turn. */
  #spend(): void {
    this.#budget--;
    if (this.#refillQueued) return;
    this.#refillQueued = true;
    onNextTurn(() => {
      this.#refillQueued = false;
      this.#budget = SUBSCRIPTIONS_PER_TURN;
      if (this.#unread.size > 0) this.#applySubscriptions();
    });
  }

  /** @internal A message that is not a subscription arrived from a subscriber (an XSUB sending upstream). */
  protected abstract upstream(msg: Message): void;
}

const publisherLogic = socketMachine(publisherMachine);

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
    super('PUB', publisherLogic, options, PUB_OPTIONS);
    this.configureMachine();
    if (new.target === Publisher) Object.seal(this);
  }

  /** ZMQ_CONFLATE: keep only the newest message per subscriber (single-part messages). */
  declare conflate: boolean;

  /** @internal */
  protected override upstream(): void {
    // libzmq `xpub.cpp`: a PUB never hands upstream messages to its application; they are discarded.
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    return undefined;
  }

  /** @internal */
  protected override checkReceive(): void {
    throw new ZmqError('ENOTSUP', 'receive() on a PUB socket: PUB only sends (use XPUB to see subscriptions)');
  }
}

const xpublisherLogic = socketMachine(xpublisherMachine, {
  notify: (s: XPublisher, _args, p: NotifyParams) => s.notify(p),
  sendWelcome: (s: XPublisher, _args, p: WelcomeParams) => s.sendWelcome(p),
});

/** The welcome message as the machine keeps it: its bytes (text as UTF-8) as hex; null for none. */
function welcomeHex(welcome: string | Uint8Array | null): string | null {
  if (welcome === null) return null;
  return toHex(typeof welcome === 'string' ? encoder.encode(welcome) : welcome);
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
  #pending = new Fifo<Message>();
  /** Manual mode: the peer of each subscription notice still in #pending (libzmq `_pending_pipes`). */
  #noticePeers = new WeakMap<Message, number>();

  constructor(options?: XPublisherOptions) {
    super('XPUB', xpublisherLogic, options, XPUB_OPTIONS);
    const o = this.opt;
    this.configureMachine({
      ...(o.verbosity !== null || o.manual ? { verbosity: o.verbosity, manual: o.manual } : {}),
      ...(o.welcomeMessage !== null ? { welcomeMessage: welcomeHex(o.welcomeMessage) } : {}),
    });
    if (new.target === XPublisher) Object.seal(this);
  }

  /** ZMQ_RCVBUF: the kernel's receive buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_RCVBUF. */
  declare receiveBufferSize: number;

  /**
   * ZMQ_XPUB_MANUAL: every subscription message a subscriber sends is handed to the application
   * (repeats included) and none is applied. The application decides: after receiving a notice, it
   * calls `subscribe(prefix)` or `unsubscribe(prefix)` to apply one for the subscriber that sent
   * it. A subscriber that leaves reports a cancel for every prefix it asked for.
   *
   * ```ts
   * const xpub = new XPublisher({ manual: true })
   * await xpub.bind("tcp://127.0.0.1:5556")
   * for await (const [notice] of xpub) {
   *   const topic = notice.subarray(1)
   *   if (notice[0] === 1 && allowed(topic)) xpub.subscribe(topic)
   *   if (notice[0] === 0) xpub.unsubscribe(topic)
   * }
   * ```
   */
  get manual(): boolean { return this.opt.manual; }
  set manual(v: boolean) {
    this.setOption('manual', v);
    this.tell({ type: 'configure', manual: this.opt.manual });
  }

  /**
   * ZMQ_XPUB_WELCOME_MSG: a message (one frame: text as UTF-8, or bytes) every subscriber gets as
   * it attaches, before anything else; null (or empty) for none. A SUB keeps it only if it
   * subscribed to a prefix of it before connecting.
   */
  get welcomeMessage(): string | Uint8Array | null { return this.opt.welcomeMessage; }
  set welcomeMessage(v: string | Uint8Array | null) {
    this.setOption('welcomeMessage', v);
    this.tell({ type: 'configure', welcomeMessage: welcomeHex(this.opt.welcomeMessage) });
  }

  /**
   * Manual mode (see `manual`): subscribes the subscriber whose notice was received last to each of
   * `prefixes` (strings are UTF-8; none: everything), as libzmq's ZMQ_SUBSCRIBE on an XPUB does.
   * Nothing happens before a notice was received or once its subscriber has left. Without `manual`
   * it is EINVAL, as in libzmq.
   */
  subscribe(...prefixes: Array<string | Uint8Array>): void {
    this.#manualChange('subscribe', prefixes);
  }

  /** Manual mode: cancels each of `prefixes` for the subscriber whose notice was received last (see `subscribe`). */
  unsubscribe(...prefixes: Array<string | Uint8Array>): void {
    this.#manualChange('unsubscribe', prefixes);
  }

  #manualChange(type: 'subscribe' | 'unsubscribe', prefixes: readonly unknown[]): void {
    if (this.closed) throw new ZmqError('EBADF', 'Socket is closed');
    const bytes = prefixes.length === 0 ? [new Uint8Array(0)] : prefixes.map((p) => userPrefix(p, type));
    if (!this.opt.manual) {
      throw new ZmqError('EINVAL', `${type}() on an XPUB applies subscriptions by hand and needs the manual option (ZMQ_XPUB_MANUAL); set manual: true`);
    }
    for (const b of bytes) {
      // The bytes are the socket's own (userPrefix copies): the machine gets them with the hex. It
      // applies them to its `manualTarget`, if any.
      const hex = toHex(b);
      knownPrefix(hex, b);
      this.tell({ type, prefix: hex });
    }
  }

  /** zeromq.js's form of the same: `setStringOption(6, prefix)` (ZMQ_SUBSCRIBE) and 7 (ZMQ_UNSUBSCRIBE). */
  protected override setStringOption(option: number, value: string | Uint8Array | null): void {
    if (option === ZMQ_SUBSCRIBE || option === ZMQ_UNSUBSCRIBE) {
      const type = option === ZMQ_SUBSCRIBE ? 'subscribe' : 'unsubscribe';
      return value === null ? this.#manualChange(type, []) : this.#manualChange(type, [value]);
    }
    super.setStringOption(option, value);
  }

  /** @internal The `sendWelcome` effect: the machine greets a new subscriber (libzmq `xpub_t::xattach_pipe`). */
  sendWelcome(p: WelcomeParams): void {
    const peer = this.link(p.peerId);
    if (peer !== undefined) this.writeTo(peer, [asFrame(fromHex(p.message))]);
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
    return !this.closed && this.#pending.size > 0;
  }

  /** @internal The `notify` effect: subscription notices the machine decided the application sees. */
  notify(p: NotifyParams): void {
    if (p.prefixes.length === 0) return;
    for (const prefix of p.prefixes) {
      const msg = [subscriptionFrame(p.subscribe, prefix)];
      if (p.peerId !== undefined) this.#noticePeers.set(msg, p.peerId);
      this.#pending.push(msg);
    }
    // Reading #pending tells the machine nothing, so waiting receives may take these now.
    this.flushReceives();
  }

  /** @internal */
  protected override upstream(msg: Message): void {
    this.#pending.push(msg);
    this.flushReceives();
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    const msg = this.#pending.shift();
    if (msg === undefined) return undefined;
    // libzmq `xpub_t::xrecv`: reading a subscriber's notice makes it the one `subscribe()` applies
    // to (the machine's `manualTarget`).
    const from = this.#noticePeers.get(msg);
    if (from !== undefined) this.tell({ type: 'notice.read', peerId: from });
    return msg;
  }
}

/**
 * What SUB and XSUB share: the machine's counted subscriptions (its trie is the receive
 * filter), their messages upstream, and filtered fair-queued receive.
 */
abstract class SubscriberBase<TMachine extends typeof subscriberMachine | typeof xsubscriberMachine> extends Socket<TMachine> {
  /** A matching message `readable` read ahead; the next receive returns it first. */
  #ahead: Message | undefined = undefined;

  /** ZMQ_RCVBUF: the kernel's receive buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_RCVBUF. */
  declare receiveBufferSize: number;

  // A subscribe() or unsubscribe() goes to every publisher past the HWM: libzmq drops it where the
  // pipe is full (`dist_t`, libzmq#2258), which would lose a subscriber's own requests now that an
  // inproc publisher applies them turn by turn. The replay to a new publisher keeps libzmq's rule
  // (what does not fit under SNDHWM is dropped, `xsub.cpp send_subscription`), and so do the
  // messages an XSUB sends upstream.

  /** @internal The `sendSubscription` effect: one message to every publisher (each its own array, one shared frame). */
  sendSubscription(p: SubscriptionParams): void {
    const frame = subscriptionFrame(p.subscribe, p.prefix);
    for (const peer of this.#publishers()) this.#writeSubscription(peer, [frame]);
  }

  /** The attached publishers, in the machine's peer order. */
  #publishers(): Peer[] {
    const out: Peer[] = [];
    for (const entry of (this.machineContext as SubscriberContext).peers) {
      const peer = this.link(entry.id);
      if (peer !== undefined) out.push(peer);
    }
    return out;
  }

  /** @internal The `sendSubscriptions` effect: each prefix's message, in order, to every publisher. */
  sendSubscriptions(p: SubscriptionsParams): void {
    const peers = this.#publishers();
    if (peers.length === 0) return;
    for (const prefix of prefixesBytes(p.prefixes)) {
      const frame = asFrame(subscriptionMessage(true, prefix));
      for (const peer of peers) this.#writeSubscription(peer, [frame]);
    }
  }

  /** @internal The `replaySubscriptions` effect: every subscription, to a publisher that just attached. */
  replaySubscriptions(p: ReplayParams): void {
    const peer = this.link(p.peerId);
    if (peer === undefined) return;
    for (const prefix of p.prefixes) this.writeTo(peer, [subscriptionFrame(true, prefix)]);
  }

  #writeSubscription(peer: Peer, msg: Message): void {
    const out = peer.out;
    const had = out.writable;
    if (out.writePastHwm(msg) && had && !out.writable) this.pipeFilled(out); // the mute edge only, once
  }

  // libzmq `xsub.cpp` filters again on receive: a publisher may send more than we asked for (a
  // cancel still travelling, or a peer that does not filter). The filter is the machine's trie.
  /** @internal */
  protected override xrecv(): Message | undefined {
    const ahead = this.#ahead;
    if (ahead !== undefined) {
      this.#ahead = undefined;
      return ahead;
    }
    let context = this.machineContext as SubscriberContext;
    if (context.pending.size > 0) {
      this.#applyPending(); // the filter includes every subscribe made
      context = this.machineContext as SubscriberContext;
    }
    for (;;) {
      const msg = this.inbound.read();
      if (msg === undefined) return undefined;
      if (isWanted(context, msg[0] as Frame)) return msg;
    }
  }

  /** Whether a matching message waits (libzmq `xsub.cpp xhas_in` filters before answering). */
  override get readable(): boolean {
    if (this.closed) return false;
    if (this.#ahead === undefined) this.#ahead = this.xrecv();
    return this.#ahead !== undefined;
  }

  /**
   * Tells the machine of a subscribe or unsubscribe; `prefix` is the socket's own, never changed
   * afterwards. With `batch` (a Subscriber's subscribe()), the first SUBSCRIPTIONS_PER_TURN of a
   * turn are told at once, one event each, as before; past them, a subscribe is told as
   * `subscribe.queued` and waits in the machine's `pending` list, applied by `subscribe.batch`
   * events on the next turns, or before the socket next tells its machine a subscribe or
   * unsubscribe, reads a message or closes, so their order is kept. An inproc publisher would not
   * have applied those in this turn anyway (it applies that many a turn).
   */
  protected subscriptionCommand(type: 'subscribe' | 'unsubscribe', prefix: Uint8Array, batch = false): void {
    const hex = toHex(prefix);
    if (batch && type === 'subscribe') {
      const pending = this.#pending();
      if (pending.size > 0 || this.#toldThisTurn >= SUBSCRIPTIONS_PER_TURN) {
        if (pending.size === 0) onNextTurn(this.#endOfTurn);
        knownPrefix(hex, prefix);
        super.tell({ type: 'subscribe.queued', prefix: hex });
        return;
      }
      if (this.#toldThisTurn++ === 0) onNextTurn(this.#newTurn);
    }
    // The machine works from the hex; it gets the bytes back without decoding them.
    knownPrefix(hex, prefix);
    this.tell({ type, prefix: hex });
  }

  /** subscribe() calls told to the machine one by one in this turn (see subscriptionCommand). */
  #toldThisTurn = 0;
  readonly #newTurn = (): void => {
    this.#toldThisTurn = 0;
  };

  /**
   * The subscribes the machine holds in `pending`. A loop of 10,000 subscribe() calls in a cold
   * process cost 5.7 µs a call as one `subscribe` event each (the machine's turn, its effects, the
   * publisher woken in the middle of the loop): 57 ms of blocked loop. Queued, a call is one
   * in-place push in the machine, and the queue goes in batches of at most SUBSCRIBES_PER_TURN, one
   * batch a turn from the next turn on, so no turn pays for more than a batch.
   */
  #pending(): PendingSubscribes {
    return (this.machineContext as SubscriberContext).pending;
  }
  readonly #endOfTurn = (): void => {
    if (this.#pending().size > 0 && !this.closed) this.#applyPending(SUBSCRIBES_PER_TURN);
  };

  /** Asks the machine to apply up to `limit` of its pending subscribes, in order; the rest go on the next turn. */
  #applyPending(limit = Infinity): void {
    const pending = this.#pending();
    const prefixes = pending.peek(limit);
    knownPrefixes(prefixes, pending.peekBytes(limit));
    if (pending.size > prefixes.length) onNextTurn(this.#endOfTurn);
    super.tell({ type: 'subscribe.batch', prefixes, pending: true });
  }

  /**
   * @internal Another subscribe or an unsubscribe goes after the pending subscribes. Other events
   * may go ahead of them: a pipe's mute or ready edge (a batch that fills a pipe tells one, and must
   * not pull the whole queue into this turn), a peer leaving, or a peer attaching (the replay sends
   * it what the machine has counted, and the pending ones go to every peer when applied).
   */
  protected override tell(event: { type: string; [key: string]: unknown }): void {
    if ((event.type === 'subscribe' || event.type === 'unsubscribe') && this.#pending().size > 0) this.#applyPending();
    super.tell(event);
  }

  override close(): void {
    if (!this.closed && this.#pending().size > 0) this.#applyPending(); // sent while lingering, as libzmq does
    super.close();
  }
}

const subscriberEffects = {
  sendSubscription: (s: SubscriberBase<typeof subscriberMachine>, _args: unknown, p: SubscriptionParams) => s.sendSubscription(p),
  sendSubscriptions: (s: SubscriberBase<typeof subscriberMachine>, _args: unknown, p: SubscriptionsParams) => s.sendSubscriptions(p),
  replaySubscriptions: (s: SubscriberBase<typeof subscriberMachine>, _args: unknown, p: ReplayParams) => s.replaySubscriptions(p),
};
const subscriberLogic = socketMachine(subscriberMachine, subscriberEffects as never);
const xsubscriberLogic = socketMachine(xsubscriberMachine, subscriberEffects as never);

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
    super('SUB', subscriberLogic, options, SUB_OPTIONS);
    if (this.opt.invertMatching) this.tell({ type: 'configure', invertMatching: true });
    if (new.target === Subscriber) Object.seal(this);
  }

  /** ZMQ_CONFLATE: keep only the newest message per publisher (single-part messages). */
  declare conflate: boolean;

  /**
   * ZMQ_INVERT_MATCHING: receive the messages whose first frame matches none of the subscriptions,
   * and drop those that match. The subscriptions still go to the publishers, which send only what
   * matches unless they set `invertMatching` too: set it on both sides.
   */
  get invertMatching(): boolean { return this.opt.invertMatching; }
  set invertMatching(v: boolean) {
    this.setOption('invertMatching', v);
    this.tell({ type: 'configure', invertMatching: this.opt.invertMatching });
  }

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

  /** zeromq.js's low-level form: `setStringOption(6, prefix)` subscribes (ZMQ_SUBSCRIBE), 7 unsubscribes; null is everything. */
  protected override setStringOption(option: number, value: string | Uint8Array | null): void {
    if (option === ZMQ_SUBSCRIBE || option === ZMQ_UNSUBSCRIBE) {
      const type = option === ZMQ_SUBSCRIBE ? 'subscribe' : 'unsubscribe';
      return this.#change(type, value === null ? [] : [value]);
    }
    super.setStringOption(option, value);
  }

  #change(type: 'subscribe' | 'unsubscribe', prefixes: readonly unknown[]): void {
    if (this.closed) throw new ZmqError('EBADF', 'Socket is closed');
    if (prefixes.length <= 1) {
      this.subscriptionCommand(type, prefixes.length === 0 ? new Uint8Array(0) : userPrefix(prefixes[0], type), true);
      return;
    }
    // Every prefix is checked before any is applied: a bad one leaves the subscriptions as they were.
    const bytes = prefixes.map((p) => userPrefix(p, type));
    for (const b of bytes) this.subscriptionCommand(type, b, true);
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
    super('XSUB', xsubscriberLogic, options, XSUB_OPTIONS);
    if (new.target === XSubscriber) Object.seal(this);
  }

  /** ZMQ_SNDBUF: the kernel's send buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_SNDBUF. */
  declare sendBufferSize: number;
  /** ZMQ_MULTICAST_HOPS: the TTL of multicast packets (default 1). Read back, without effect: no multicast transport. */
  declare multicastHops: number;

  /** @internal */
  protected override xsend(msg: Message): boolean {
    const kind = subscriptionByte(msg);
    if (kind >= 0) {
      // A copy: the frame is the caller's, which may change it once send() returns.
      this.subscriptionCommand(kind === SUBSCRIBE ? 'subscribe' : 'unsubscribe', new Uint8Array((msg[0] as Frame).subarray(1)));
      return true;
    }
    // libzmq `xsub.cpp`: other messages go to every publisher (each its own array); a full pipe
    // drops it for that one.
    let first = true;
    for (const entry of this.machineContext.peers) {
      const peer = this.link(entry.id);
      if (peer === undefined) continue;
      this.writeTo(peer, first ? msg : msg.slice());
      first = false;
    }
    return true;
  }

  /** @internal */
  protected override canSendNow(): boolean {
    return true;
  }
}

// The option accessors declared above: a plain read and a checked set each (optionAccessors in socket.ts).
optionAccessors(PublisherBase.prototype, ['sendBufferSize', 'multicastHops']);
optionAccessors(Publisher.prototype, ['conflate']);
optionAccessors(XPublisher.prototype, ['receiveBufferSize']);
optionAccessors(SubscriberBase.prototype, ['receiveBufferSize']);
optionAccessors(Subscriber.prototype, ['conflate']);
optionAccessors(XSubscriber.prototype, ['sendBufferSize', 'multicastHops']);
