// One socket of a running scenario: the real monocoque socket plus what the page shows about it
// (messages received, calls waiting, endpoints bound or connected). Every user action goes through
// the socket's public API; the only internal read is the pipe depth in links.ts.

import * as monocoque from '../../src/browser.js';
import type { Context, Socket, SocketEvent } from '../../src/browser.js';
import type { AnyStateMachine, StateValue } from 'xstate';
import type { SocketSpec, SocketTypeName } from './scenarios.js';
import { narrateMonitor } from './words.js';

type SocketClass = new (options?: Record<string, unknown>) => Socket;

/**
 * The socket class the runtime exports under `name`, or undefined while this build lacks it.
 * Looked up by name so a scenario whose classes are not written yet still loads (and says so).
 */
export function socketClass(name: SocketTypeName): SocketClass | undefined {
  const value = (monocoque as unknown as Record<string, unknown>)[name];
  return typeof value === 'function' ? (value as SocketClass) : undefined;
}

/** What a socket type can do, in the zeromq.js API. */
export const ABILITIES: Record<SocketTypeName, { send: boolean; receive: boolean; addressed?: boolean; subscribes?: boolean }> = {
  Request: { send: true, receive: true },
  Reply: { send: true, receive: true },
  Dealer: { send: true, receive: true },
  // A Router's first frame is the peer's routing id, both ways.
  Router: { send: true, receive: true, addressed: true },
  Publisher: { send: true, receive: false },
  Subscriber: { send: false, receive: true, subscribes: true },
  XPublisher: { send: true, receive: true },
  XSubscriber: { send: true, receive: true },
  Push: { send: true, receive: false },
  Pull: { send: false, receive: true },
  Pair: { send: true, receive: true },
};

export interface Received {
  frames: Uint8Array[];
  /** The scenario socket that sent it (frames cross inproc by reference, so we know). */
  from: string | undefined;
  seq: number;
}

export type LogKind = 'transition' | 'monitor' | 'call' | 'error';

/** What a LiveSocket reports to the page. */
export interface Stage {
  context: Context;
  /** Who sent what in this scenario (a frame's bytes are copied at send, so kept by content). */
  origins: Origins;
  /** Logs `text` (in words) with `raw`, the call or event as the runtime names it, for hover. */
  record(kind: LogKind, socket: LiveSocket | undefined, text: string, raw?: string): void;
  changed(): void;
  /** The page's name for a socket key. */
  labelOf(key: string): string;
  delivered(from: string, to: string): void;
}

/**
 * Senders by frame content, oldest first: small frames are copied at send (as zeromq.js does), so
 * the frame a socket receives is not the object another sent; its bytes tell who sent it.
 */
export class Origins {
  #byContent = new Map<string, string[]>();

  /** `key` sent a message with these frames. */
  sent(frames: readonly Uint8Array[], key: string): void {
    for (const f of frames) {
      const queue = this.#byContent.get(printFrame(f)) ?? [];
      queue.push(key);
      if (queue.length > 64) queue.shift(); // dropped messages (a PUB with no one listening) are forgotten
      this.#byContent.set(printFrame(f), queue);
    }
  }

  /** Who sent the message these frames were received in (the first frame whose content a sender sent). */
  took(frames: readonly Uint8Array[]): string | undefined {
    for (const f of frames) {
      const queue = this.#byContent.get(printFrame(f));
      if (queue !== undefined && queue.length > 0) return queue.shift();
    }
    return undefined;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const MESSAGES_KEPT = 30;

export class LiveSocket {
  readonly key: string;
  readonly label: string;
  readonly spec: SocketSpec;
  readonly sock: Socket;
  readonly machine: AnyStateMachine;
  readonly can: (typeof ABILITIES)[SocketTypeName];
  readonly received: Received[] = [];
  sent = 0;
  receivedCount = 0;
  pendingSends = 0;
  pendingReceives = 0;
  /** Endpoints currently bound / connected through the page's buttons. */
  readonly bound = new Set<string>();
  readonly connected = new Set<string>();
  readonly subscriptions = new Set<string>();
  /** Routing ids this Router has heard from, by their printed form. */
  readonly addressBook = new Map<string, Uint8Array>();
  #abort = new AbortController();
  #stage: Stage;

  constructor(spec: SocketSpec, Class: SocketClass, stage: Stage) {
    this.spec = spec;
    this.key = spec.key;
    this.label = spec.label;
    this.#stage = stage;
    this.can = ABILITIES[spec.type];
    this.sock = new Class({ ...spec.options, context: stage.context });
    this.machine = this.sock.actor.logic as AnyStateMachine;
    for (const id of spec.addressees ?? []) this.addressBook.set(id, encoder.encode(id));
    this.sock.events.on('*', (e) => stage.record('monitor', this, narrateMonitor(this.label, e, () => undefined), describeEvent(e)));
    this.sock.actor.subscribe(() => stage.changed());
  }

  get value(): StateValue {
    return this.sock.getSnapshot().value as StateValue;
  }

  get closed(): boolean {
    return this.sock.closed;
  }

  /** Binds and connects as the scenario says; binds first, so connects find their peer at once. */
  async bindAll(): Promise<void> {
    for (const ep of this.spec.bind ?? []) await this.bind(ep);
  }

  connectAll(): void {
    for (const ep of this.spec.connect ?? []) this.connect(ep);
  }

  async bind(ep: string): Promise<void> {
    this.#call(`You bound ${this.label} to ${ep}.`, `bind("${ep}")`);
    try {
      await this.sock.bind(ep);
      this.bound.add(ep);
    } catch (e) {
      this.#failed('bind', e);
    }
    this.#stage.changed();
  }

  async unbind(ep: string): Promise<void> {
    this.#call(`You unbound ${this.label} from ${ep}.`, `unbind("${ep}")`);
    try {
      await this.sock.unbind(ep);
      this.bound.delete(ep);
    } catch (e) {
      this.#failed('unbind', e);
    }
    this.#stage.changed();
  }

  connect(ep: string): void {
    this.#call(`You connected ${this.label} to ${ep}.`, `connect("${ep}")`);
    try {
      this.sock.connect(ep);
      this.connected.add(ep);
    } catch (e) {
      this.#failed('connect', e);
    }
    this.#stage.changed();
  }

  disconnect(ep: string): void {
    this.#call(`You disconnected ${this.label} from ${ep}.`, `disconnect("${ep}")`);
    try {
      this.sock.disconnect(ep);
      this.connected.delete(ep);
    } catch (e) {
      this.#failed('disconnect', e);
    }
    this.#stage.changed();
  }

  /** Sends `text` (frames split on `|`), addressed to `to` first on a Router. */
  send(text: string, to?: string): void {
    const frames = text.split('|').map((f) => encoder.encode(f.trim()));
    this.#stage.origins.sent(frames, this.key);
    const message: Uint8Array[] = [...frames];
    if (this.can.addressed) {
      const id = to === undefined ? undefined : this.addressBook.get(to);
      if (id === undefined) {
        this.#stage.record('error', this, `Pick who ${this.label} sends to: a ROUTER's message starts with the routing id of its peer.`, 'send: no routing id chosen');
        return;
      }
      message.unshift(id);
    }
    this.#call(`You asked ${this.label} to send ${printWords(message)}.`, `send(${printMessage(message)})`);
    this.pendingSends++;
    const waited = this.#noteWait('send');
    this.sock.send(message, { signal: this.#abort.signal }).then(
      () => {
        this.sent++;
        if (waited.now) this.#stage.record('call', this, `${this.label}'s waiting send went through: a peer had room again.`, 'send() resolved');
      },
      (e) => this.#failed('send', e),
    ).finally(() => {
      waited.cancel();
      this.pendingSends--;
      this.#stage.changed();
    });
    this.#stage.changed();
  }

  receive(): void {
    this.#call(`You asked ${this.label} to receive.`, 'receive()');
    this.pendingReceives++;
    const waited = this.#noteWait('receive');
    this.sock.receive({ signal: this.#abort.signal }).then(
      (frames) => this.#took(frames),
      (e) => this.#failed('receive', e),
    ).finally(() => {
      waited.cancel();
      this.pendingReceives--;
      this.#stage.changed();
    });
    this.#stage.changed();
  }

  /** Aborts the calls that are waiting (they fail with ECANCELED). */
  cancelWaiting(): void {
    this.#abort.abort(new Error('cancelled from the playground'));
    this.#abort = new AbortController();
  }

  subscribe(prefix: string): void {
    this.#subscription('subscribe', prefix);
  }

  unsubscribe(prefix: string): void {
    this.#subscription('unsubscribe', prefix);
  }

  setHighWaterMark(which: 'sendHighWaterMark' | 'receiveHighWaterMark', n: number): void {
    this.#call(`You set ${this.label}'s ${which === 'sendHighWaterMark' ? 'send' : 'receive'} high-water mark to ${n === 0 ? 'unlimited' : n}.`, `${which} = ${n}`);
    try {
      this.sock[which] = n;
    } catch (e) {
      this.#failed(which, e);
    }
    this.#stage.changed();
  }

  close(): void {
    this.#call(`You closed ${this.label}.`, 'close()');
    this.sock.close();
    this.#stage.changed();
  }

  #subscription(what: 'subscribe' | 'unsubscribe', prefix: string): void {
    this.#call(`You ${what}d ${this.label} ${what === 'subscribe' ? 'to' : 'from'} ${prefix === '' ? 'everything ("")' : `"${prefix}"`}.`, `${what}("${prefix}")`);
    const sub = this.sock as unknown as Record<string, ((...topics: string[]) => void) | undefined>;
    const method = sub[what];
    if (typeof method !== 'function') {
      this.#stage.record('error', this, `${this.label} cannot ${what}: it has no ${what}() method.`);
      return;
    }
    try {
      method.call(this.sock, prefix);
      if (what === 'subscribe') this.subscriptions.add(prefix);
      else this.subscriptions.delete(prefix);
    } catch (e) {
      this.#failed(what, e);
    }
    this.#stage.changed();
  }

  #took(frames: Uint8Array[]): void {
    const from = this.#stage.origins.took(frames);
    this.receivedCount++;
    this.received.unshift({ frames, from, seq: this.receivedCount });
    this.received.length = Math.min(this.received.length, MESSAGES_KEPT);
    if (this.can.addressed && frames.length > 0) {
      const id = frames[0] as Uint8Array;
      this.addressBook.set(printFrame(id), id);
    }
    this.#stage.record('call', this, `${this.label} received ${printWords(frames)}${from ? ` from ${this.#stage.labelOf(from)}` : ''}.`, `receive() → ${printMessage(frames)}`);
    if (from !== undefined) this.#stage.delivered(from, this.key);
  }

  /** Logs, once the current task is over, that a call is still waiting. */
  #noteWait(what: string): { readonly now: boolean; cancel(): void } {
    const state = { now: false, cancel: () => clearTimeout(timer) };
    const timer = setTimeout(() => {
      state.now = true;
      this.#stage.record('call', this, what === 'send' ? `${this.label}'s send waits: no peer has room for it yet.` : `${this.label}'s receive waits: nothing has arrived for it yet.`, `${what}() pending`);
      this.#stage.changed();
    }, 0);
    return state;
  }

  #call(text: string, raw: string): void {
    this.#stage.record('call', this, text, raw);
  }

  #failed(what: string, e: unknown): void {
    const err = e as { code?: string; message?: string };
    this.#stage.record('error', this, `${this.label} could not ${what}: ${err.message ?? String(e)}`, `${what} failed: ${err.code ?? 'Error'} ${err.message ?? String(e)}`);
  }
}

/** A frame as text when it is printable UTF-8, else as hex (routing ids a Router makes up). */
export function printFrame(f: Uint8Array): string {
  if (f.length === 0) return '∅';
  try {
    const s = decoder.decode(f);
    if (/^[\x20-\x7e\u00a0-\uffff]*$/.test(s)) return s;
  } catch {
    // not UTF-8: fall through to hex
  }
  return '0x' + Array.from(f, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A message as the log says it: `"hello"`, or `"id" | "hello"` for several frames. */
export function printWords(frames: Uint8Array[]): string {
  return frames.map((f) => JSON.stringify(printFrame(f))).join(' | ');
}

export function printMessage(frames: Uint8Array[]): string {
  return '[' + frames.map((f) => JSON.stringify(printFrame(f))).join(', ') + ']';
}

function describeEvent(e: SocketEvent): string {
  const parts: string[] = [e.type];
  if (e.address) parts.push(e.address);
  if (e.peer?.socketType) parts.push(`peer ${e.peer.socketType}`);
  if (e.peer?.routingId) parts.push(`id ${printFrame(e.peer.routingId)}`);
  if (e.error) parts.push(`(${e.error.code}: ${e.error.message})`);
  return parts.join(' · ');
}
