// Monitor events (`sock.events`), shaped as zeromq.js's Observer: named events with the endpoint,
// listeners with on/off, and async receive/iteration. Beyond zeromq.js, an event that concerns one
// peer names it (its socket type, its routing id where known).

import { ZmqError } from '../core/errors.js';

export type { EventPeer, EventType, SocketEvent } from '../core/events.js';
import type { EventType, SocketEvent } from '../core/events.js';

type Listener = (event: SocketEvent) => void;
const QUEUE_LIMIT = 1000;

/**
 * The event stream of one socket. Listeners (`on`) see every event; `receive()` and
 * `for await` read a buffer that starts when first read from and keeps the newest 1000 events.
 *
 * ```ts
 * sock.events.on("disconnect", (e) => console.log("peer left", e.address, e.peer?.routingId))
 * ```
 */
export class SocketEvents implements AsyncIterable<SocketEvent> {
  // Made on first use: most sockets are never watched, and a process may hold 100,000 of them.
  #listeners: Map<EventType, Set<Listener>> | undefined;
  #all: Set<Listener> | undefined;
  #queue: SocketEvent[] | undefined;
  #waiting: { resolve: (e: SocketEvent) => void; reject: (e: Error) => void }[] | undefined;
  #closed = false;

  /** True once the socket closed and the `end` event went out (or `close()` was called). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Calls `listener` for each event of `type` ("*" for all). Returns this, as EventEmitter does. */
  on(type: EventType | '*', listener: Listener): this {
    if (type === '*') (this.#all ??= new Set()).add(listener);
    else {
      const listeners = (this.#listeners ??= new Map());
      let set = listeners.get(type);
      if (set === undefined) listeners.set(type, (set = new Set()));
      set.add(listener);
    }
    return this;
  }

  off(type: EventType | '*', listener: Listener): this {
    if (type === '*') this.#all?.delete(listener);
    else this.#listeners?.get(type)?.delete(listener);
    return this;
  }

  /** The next event. Rejects with EBADF once the stream has ended. */
  receive(): Promise<SocketEvent> {
    if (this.#queue === undefined) this.#queue = [];
    const next = this.#queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#closed) return Promise.reject(new ZmqError('EBADF', 'event stream is closed: the socket was closed'));
    return new Promise((resolve, reject) => (this.#waiting ??= []).push({ resolve, reject }));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SocketEvent> {
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
    for (const w of this.#waiting?.splice(0) ?? []) w.reject(new ZmqError('EBADF', 'event stream is closed'));
  }

  /** @internal Whether anyone listens (so emitters can skip building events). */
  get observed(): boolean {
    return (this.#all !== undefined && this.#all.size > 0) || (this.#listeners !== undefined && this.#listeners.size > 0) || this.#queue !== undefined;
  }

  /** @internal */
  emit(event: SocketEvent): void {
    if (this.#closed) return;
    const set = this.#listeners?.get(event.type);
    if (set !== undefined) for (const l of set) l(event);
    if (this.#all !== undefined) for (const l of this.#all) l(event);
    const w = this.#waiting?.shift();
    if (w !== undefined) w.resolve(event);
    else if (this.#queue !== undefined) {
      this.#queue.push(event);
      if (this.#queue.length > QUEUE_LIMIT) this.#queue.shift();
    }
    if (event.type === 'end') this.close();
  }
}
