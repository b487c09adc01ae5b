// The queue of a socket's waiting send() or receive() calls, linked through the calls themselves.
// A call leaves from the front when it is served, and from anywhere when it times out or is
// aborted: both cost the same, and a call that has left leaves nothing behind in the queue.

/** @internal What an entry of a {@link LinkedQueue} carries: its neighbours while it is queued. */
export interface Linked<T> {
  /** The entry queued before it; undefined at the front, or when not queued. */
  prev: T | undefined;
  /** The entry queued after it; undefined at the back, or when not queued. */
  next: T | undefined;
}

/**
 * @internal First in, first out, through the entries' own links: push, shift and remove from
 * anywhere are O(1), with no array to search, move or cut. An entry is in one queue at a time.
 */
export class LinkedQueue<T extends Linked<T>> {
  #head: T | undefined;
  #tail: T | undefined;
  #size = 0;

  /** How many entries are queued. */
  get size(): number {
    return this.#size;
  }

  /** Queues `item`, which is in no queue (its links are undefined). */
  push(item: T): void {
    const tail = this.#tail;
    item.prev = tail;
    if (tail === undefined) this.#head = item;
    else tail.next = item;
    this.#tail = item;
    this.#size++;
  }

  /** The oldest entry, left queued; undefined when empty. */
  peek(): T | undefined {
    return this.#head;
  }

  /** Takes the oldest entry; undefined when empty. */
  shift(): T | undefined {
    const item = this.#head;
    if (item === undefined) return undefined;
    // #unlink for the front, written out: a receive that waits passes here once per message. With
    // push not clearing `next`, this saved about 26 of the 38 instructions the queue first added per
    // inproc PUSH->PULL message (cachegrind).
    const next = item.next; // the front has no prev
    this.#head = next;
    if (next === undefined) this.#tail = undefined;
    else {
      next.prev = undefined;
      item.next = undefined;
    }
    this.#size--;
    return item;
  }

  /** Takes `item` out wherever it is (a call timed out or was aborted); false if it is not queued. */
  remove(item: T): boolean {
    if (item.prev === undefined ? this.#head !== item : item.prev.next !== item) return false;
    this.#unlink(item);
    return true;
  }

  /** Takes every entry, oldest first. */
  drain(): T[] {
    const out = this.toArray();
    for (const item of out) item.prev = item.next = undefined;
    this.#head = this.#tail = undefined;
    this.#size = 0;
    return out;
  }

  /** The entries, oldest first, left queued. */
  toArray(): T[] {
    const out: T[] = [];
    for (let item = this.#head; item !== undefined; item = item.next) out.push(item);
    return out;
  }

  #unlink(item: T): void {
    const { prev, next } = item;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    item.prev = item.next = undefined;
    this.#size--;
  }
}
