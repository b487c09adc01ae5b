// Dealer and Router (RFC 28 REQREP, the asynchronous halves). Dealer round-robins out and
// fair-queues in; Router addresses each message by its first frame through the identity table
// its machine keeps. Neither sends an XState event per message.

import type { SnapshotFrom } from 'xstate';
import { ZmqError } from '../core/errors.js';
import type { Frame, Message } from '../core/frame.js';
import { asFrame, toHex } from '../core/frame.js';
import { dealerMachine } from '../../machines/dealer.js';
import { routerMachine } from '../../machines/router.js';
import type { RouterContext } from '../../machines/router.js';
import { RoundRobinSocket } from './round-robin.js';
import { Socket } from './socket.js';
import type { Peer, SocketOptionsInput } from './socket.js';

export interface DealerOptions extends SocketOptionsInput {
  /** ZMQ_CONFLATE: keep only the newest message per peer. */
  conflate?: boolean;
}

export interface RouterOptions extends SocketOptionsInput {
  /** ZMQ_ROUTER_MANDATORY: fail with EHOSTUNREACH on an unknown routing id, wait on a full peer. */
  mandatory?: boolean;
  /** ZMQ_ROUTER_HANDOVER: a peer announcing a taken routing id takes it over from the holder. */
  handover?: boolean;
}

/**
 * @internal A cheap Map key for a routing id: one UTF-16 unit per byte (a latin1 string), so the
 * per-message lookup builds a short string instead of hex text.
 */
export function routingKey(id: Uint8Array): string {
  const n = id.byteLength;
  if (n > 32) return String.fromCharCode.apply(null, id as unknown as number[]);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(id[i] as number);
  return s;
}

/** @internal Bytes of a hex string (routing ids in machine context are hex). */
export function hexToFrame(hex: string): Frame {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return asFrame(bytes);
}

/**
 * DEALER: sends each message to one peer in turn, skipping peers at their HWM (waits when all are
 * full or there is none); receives from all peers in turn. Talks to Reply (add the empty
 * delimiter frame yourself), Router and Dealer.
 *
 * ```ts
 * const dealer = new Dealer({ routingId: "worker-1" })
 * dealer.connect("inproc://backend")
 * await dealer.send(["", "hello"])          // to a Reply: empty delimiter first
 * const [, reply] = await dealer.receive()
 * ```
 */
export class Dealer extends RoundRobinSocket<typeof dealerMachine> {
  constructor(options?: DealerOptions) {
    super('DEALER', dealerMachine, options, ['conflate']);
  }

  protected override xrecv(): Message | undefined {
    return this.readFairly();
  }
}

/**
 * ROUTER: every message received starts with the routing id of the peer it came from; every
 * message sent starts with the routing id of the peer it goes to (and must have a body after it).
 * A peer's routing id is the `routingId` option it set, or a generated 5-byte id (`00` + a
 * counter). By default a message for an unknown or full peer is dropped; with `mandatory`, an
 * unknown id fails with EHOSTUNREACH and a full peer makes send wait.
 *
 * ```ts
 * const router = new Router({ mandatory: true })
 * await router.bind("inproc://frontend")
 * const [id, , request] = await router.receive()   // from a Request: id, "", body
 * await router.send([id, "", "reply"])
 * ```
 */
export class Router extends Socket<typeof routerMachine> {
  /** Routing key (latin1 of the id bytes) → peer: the hot-path view of the machine's table. */
  #routes = new Map<string, Peer>();
  #routesSeen: unknown = undefined;
  /** Each peer's routing id frame; kept after detach so its last queued messages can still be read. */
  #idOf = new WeakMap<Peer, Frame>();
  #mandatory = false;
  /** The send target `checkSend` resolved for `#targetMsg` (the base calls xsend right after). */
  #targetMsg: Message | undefined = undefined;
  #target: Peer | undefined = undefined;

  constructor(options?: RouterOptions) {
    super('ROUTER', routerMachine, options, ['mandatory', 'handover']);
    // Start the actor now: its context is built from input by a function, which xstate wraps in
    // assign() and warns about if that happens inside another actor's action (an inproc attach).
    void this.actor;
    this.tellMachineOptions(['mandatory', 'handover']);
  }

  /** ZMQ_ROUTER_MANDATORY: an unknown routing id fails with EHOSTUNREACH (instead of a silent
   * drop), and a message for a peer at its HWM waits (EAGAIN after `sendTimeout`) instead of being dropped. */
  get mandatory(): boolean { return this.opt.mandatory; }
  set mandatory(v: boolean) { this.setMachineOption('mandatory', v); }

  /** ZMQ_ROUTER_HANDOVER: a peer announcing a routing id another peer holds takes it over, and
   * the old holder leaves the table (without it, the newcomer is refused). Over tcp/ipc the loser's
   * connection stays open but unused, as libzmq keeps it, so it does not reconnect to fight back. */
  get handover(): boolean { return this.opt.handover; }
  set handover(v: boolean) { this.setMachineOption('handover', v); }

  override get readable(): boolean {
    return !this.closed && this.inbound.hasMessages;
  }

  protected override onTransition(snapshot: SnapshotFrom<typeof routerMachine>): void {
    this.#mandatory = snapshot.matches({ open: { mandatory: 'on' } });
    const ctx: RouterContext = snapshot.context;
    if (ctx.routes === this.#routesSeen) return;
    this.#routesSeen = ctx.routes;
    const routes = new Map<string, Peer>();
    for (const p of ctx.peers) {
      const peer = this.peers.get(p.id);
      if (peer === undefined || p.routingId === undefined) continue;
      const frame = hexToFrame(p.routingId);
      routes.set(routingKey(frame), peer);
      const known = this.#idOf.get(peer);
      if (known === undefined || toHex(known) !== p.routingId) this.#idOf.set(peer, frame);
    }
    this.#routes = routes;
  }

  protected override effects() {
    return {
      evictHolder: ({ context, event }: { context: RouterContext; event: { routingId?: string } }) => {
        const holderId = event.routingId === undefined ? undefined : context.routes[event.routingId];
        const holder = holderId === undefined ? undefined : this.peers.get(holderId);
        if (holder === undefined) return;
        // libzmq `router.cpp identify_peer`: the old pipe is terminated; its unread messages go too.
        holder.in.drop();
        this.detachPeer(holder);
        // Over tcp/ipc its connection stays, out of use (libzmq): closed, it would reconnect and
        // take the id back, and the two would evict each other for as long as both lived.
        if (holder.ignore !== undefined) holder.ignore();
        else holder.close();
      },
      refuseDuplicate: ({ event }: { event: { peerId: number; routingId?: string } }) => {
        const peer = this.peers.get(event.peerId);
        if (peer !== undefined) {
          this.refuse(peer, `ROUTER: routing id ${event.routingId ?? ''} (hex) is already taken by another peer; set handover to let a newcomer take it over`);
        }
      },
    } as unknown as Record<string, (args: { event: never; context: never }) => void>;
  }

  protected override peerAttached(peer: Peer): void {
    // An inproc connect before bind attaches with an unknown peer type and no routing id; the
    // transport fills both in when the bind arrives. Watch for that to re-key the peer.
    if (peer.peerType === '') this.#watchIdentity(peer);
  }

  protected override checkSend(msg: Message): void {
    this.#targetMsg = msg;
    this.#target = undefined;
    // A lone id frame is dropped (libzmq: the first frame is consumed whether or not MORE follows).
    if (msg.length < 2) return;
    const peer = this.#routes.get(routingKey(msg[0] as Frame));
    if (peer !== undefined && peer.attached) {
      this.#target = peer;
    } else if (this.#mandatory) {
      throw new ZmqError('EHOSTUNREACH', `send on ROUTER: no peer has routing id ${toHex(msg[0] as Frame)} (hex), and mandatory is set`);
    }
  }

  protected override xsend(msg: Message): boolean {
    if (msg !== this.#targetMsg) this.checkSend(msg);
    const peer = this.#target;
    this.#targetMsg = undefined;
    if (peer === undefined) return true; // unroutable: dropped
    const out = peer.out;
    if (!out.writable) {
      if (this.#mandatory) {
        // Still ours to deliver on the next flush: resolve again then (the peer may have left).
        return false;
      }
      return true; // mute peer without mandatory: dropped (libzmq `router.cpp xsend`)
    }
    msg.shift(); // the routing id; `toMessage` made this array for this call, so it is ours to change
    out.write(msg);
    if (!out.writable) this.pipeFilled(out);
    return true;
  }

  protected override canSendNow(): boolean {
    // libzmq `router_t::xhas_out`: always, unless mandatory; then only while some peer has room.
    if (!this.#mandatory) return true;
    for (const peer of this.peers.values()) if (peer.attached && peer.out.writable) return true;
    return false;
  }

  protected override xrecv(): Message | undefined {
    for (;;) {
      const msg = this.inbound.read();
      if (msg === undefined) return undefined;
      const id = this.#idOf.get(this.inbound.from as Peer);
      if (id === undefined) continue; // a refused peer's leftovers
      msg.unshift(id);
      return msg;
    }
  }

  #watchIdentity(peer: Peer): void {
    let routingId = peer.routingId;
    Object.defineProperty(peer, 'routingId', {
      configurable: true,
      enumerable: true,
      get: () => routingId,
      set: (v: Frame | undefined) => {
        routingId = v;
        Object.defineProperty(peer, 'routingId', { value: v, writable: true, configurable: true, enumerable: true });
        if (!peer.attached || v === undefined || v.byteLength === 0) return;
        this.tell({ type: 'peer.identified', peerId: peer.id, routingId: toHex(v) });
      },
    });
  }
}
