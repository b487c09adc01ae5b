// Monitor events (`sock.events`), shaped as zeromq.js's Observer: named events with the endpoint,
// listeners with on/off, and async receive/iteration. Beyond zeromq.js, an event that concerns one
// peer names it (its socket type, its routing id where known).

import { ZmqError } from '../core/errors.js';
import { Fifo } from '../core/fifo.js';
import { holdLoop, releaseLoop } from '../transport/keep-alive.js';

export type { Event, EventFor, EventOfType, EventPeer, EventType, SocketEvent } from '../core/events.js';
import type { Event, EventOfType, EventType } from '../core/events.js';

type Listener = (event: Event) => void;
const QUEUE_LIMIT = 1000;
const EMITTER_MODE =
  'Observer is in event emitter mode. After a call to events.on() it is not possible to read events with events.receive().';

/**
 * The event stream of one socket, in one of two modes, as zeromq.js's Observer:
 * - reading: `receive()` and `for await` read a buffer that starts when `sock.events` is first
 *   accessed and keeps the newest 1000 events;
 * - emitter: after the first `on()`, listeners get every event (those buffered so far first, on a
 *   microtask) and `receive()` throws.
 *
 * ```ts
 * sock.events.on("disconnect", (e) => console.log("peer left", e.address, e.peer?.routingId))
 * ```
 */
export class SocketEvents implements AsyncIterable<Event> {
  // Made on first use: most sockets are never watched, and a process may hold 100,000 of them.
  #listeners: Map<EventType, Set<Listener>> | undefined;
  #all: Set<Listener> | undefined;
  #queue: Event[] | undefined;
  /** receive() calls waiting for an event, oldest first (a Fifo: thousands may wait, and shift() on an array that long moves them all). */
  #waiting: Fifo<{ resolve: (e: Event) => void; reject: (e: Error) => void }> | undefined;
  #closed = false;
  #emitter = false;
  #draining = false;
  /** Events are wanted: a user reached the stream (`sock.events`, see {@link watch}). */
  #watched = false;

  /** True once the socket closed and the `end` event went out (or `close()` was called). */
  get closed(): boolean {
    this.#watch();
    return this.#closed;
  }

  /**
   * Calls `listener` for each event of `type` ("*" for all). Returns this, as EventEmitter does.
   * The first call turns the stream into emitter mode: `receive()` throws from then on.
   */
  on<E extends EventType>(type: E, listener: (event: EventOfType<E>) => void): this;
  on(type: EventType | '*', listener: (event: Event) => void): this;
  on(type: EventType | '*', listener: Listener): this {
    this.#watch();
    if (type === '*') (this.#all ??= new Set()).add(listener);
    else {
      const listeners = (this.#listeners ??= new Map());
      let set = listeners.get(type);
      if (set === undefined) listeners.set(type, (set = new Set()));
      set.add(listener);
    }
    if (!this.#emitter) {
      this.#emitter = true;
      if (this.#queue !== undefined && this.#queue.length > 0) this.#scheduleDrain();
    }
    return this;
  }

  off<E extends EventType>(type: E, listener: (event: EventOfType<E>) => void): this;
  off(type: EventType | '*', listener: (event: Event) => void): this;
  off(type: EventType | '*', listener: Listener): this {
    if (type === '*') this.#all?.delete(listener);
    else this.#listeners?.get(type)?.delete(listener);
    return this;
  }

  /**
   * The next event. Rejects with EBADF once the stream has ended; throws at once (not a rejected
   * promise) in emitter mode, as zeromq.js does.
   */
  receive(): Promise<Event> {
    this.#watch();
    if (this.#emitter) throw new ZmqError('EFSM', EMITTER_MODE);
    const next = this.#queue?.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#closed) return Promise.reject(closedError());
    // A receive that waits keeps the process alive until it settles, as zeromq.js's Observer does
    // (an open socket does not); one answered from the buffer holds nothing.
    holdLoop();
    return new Promise((resolve, reject) =>
      (this.#waiting ??= new Fifo()).push({
        resolve: (e) => {
          releaseLoop();
          resolve(e);
        },
        reject: (e) => {
          releaseLoop();
          reject(e);
        },
      }));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Event> {
    while (true) {
      if (this.#closed && (this.#queue === undefined || this.#queue.length === 0)) return;
      try {
        yield await this.receive();
      } catch (e) {
        if (this.#closed) return;
        throw e;
      }
    }
  }

  /** Stops the stream (the socket goes on). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiting?.drain() ?? []) w.reject(closedError());
  }

  /**
   * @internal A user reached the stream (the socket's `events` getter): events are kept from now on,
   * as the first access of `events` starts zeromq.js's monitor, so an event that comes before the
   * first `receive()` (the `end` of a `close()`) is not lost. A socket nobody watches builds and
   * keeps no events. Transports report through the socket's `monitor`, which is this stream
   * without the access.
   */
  watch(): this {
    this.#watched = true;
    return this;
  }

  /** @internal Whether events are wanted (the socket and transports skip building them otherwise). */
  get observed(): boolean {
    return this.#watched && !this.#closed;
  }

  /** @internal Delivers one event: to listeners in emitter mode, else to a waiting receive or the buffer. */
  emit(event: Event): void {
    if (this.#closed) return;
    const waiting = this.#waiting?.shift();
    if (waiting !== undefined) waiting.resolve(event);
    else if (this.#emitter && !this.#draining) this.#dispatch(event);
    else {
      const queue = (this.#queue ??= []);
      queue.push(event);
      if (queue.length > QUEUE_LIMIT) queue.shift();
    }
    if (event.type === 'end') this.close();
  }

  #watch(): void {
    this.#watched = true;
  }

  #dispatch(event: Event): void {
    const set = this.#listeners?.get(event.type);
    if (set !== undefined) for (const l of set) l(event);
    if (this.#all !== undefined) for (const l of this.#all) l(event);
  }

  /** Buffered events reach the listeners on a microtask: after every `on()` of the caller's turn. */
  #scheduleDrain(): void {
    this.#draining = true;
    queueMicrotask(() => {
      const queue = this.#queue ?? [];
      while (queue.length > 0) this.#dispatch(queue.shift() as Event);
      this.#draining = false;
    });
  }
}

function closedError(): ZmqError {
  return new ZmqError('EBADF', 'Socket is closed');
}

/**
 * zeromq.js's `Observer`: `new Observer(sock)` is the socket's event stream, the one `sock.events`
 * gives (a socket has one stream, as libzmq has one monitor per socket), so events read through
 * either are not read twice; `sock.events instanceof Observer` holds.
 *
 * ```ts
 * const observer = new Observer(sock)
 * for await (const event of observer) console.log(event.type, event.address)
 * ```
 */
export class Observer extends SocketEvents {
  constructor(socket: { readonly events: SocketEvents }) {
    super();
    const events = typeof socket === 'object' && socket !== null ? (socket as { events?: unknown }).events : undefined;
    if (!(events instanceof SocketEvents)) {
      throw new TypeError(`new Observer(socket): ${socket === null ? 'null' : typeof socket === 'object' ? 'an object that is not a socket' : typeof socket} was given; pass a socket (new Observer(sock))`);
    }
    // The socket's own stream, not this new object: a constructor may return another object.
    return events as Observer;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof SocketEvents;
  }
}
