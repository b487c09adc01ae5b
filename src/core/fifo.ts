// A first-in first-out queue that stays O(1) a step (amortised) however long it grows. Array.prototype.shift
// moves every entry once an array is large (V8 trims only small arrays from the front): 100,000
// send() calls made without awaiting, waiting behind the HWM, took 4.9 s to flush (49 µs each)
// where 25,000 took 5.7 µs each.

/** What a removed entry leaves behind it until the head passes. */
const HOLE: unique symbol = Symbol('removed');

/**
 * @internal A queue with a head index instead of `shift()`: the spent front is cut off once it is
 * half of the array, and the array is kept when the queue empties (a queue that goes from 0 to 1
 * and back per message allocates nothing). An entry taken out from behind the head leaves a hole,
 * which shift steps over, so no entry moves: `push` gives a ticket, and `remove` finds its entry by
 * it at once, wherever it is. Entries are never undefined.
 */
export class Fifo<T> {
  #items: (T | typeof HOLE | undefined)[] = [];
  #head = 0;
  #tail = 0;
  /** The ticket of `#items[0]`: tickets count every push, across cuts and resets. */
  #base = 0;
  /** Holes between the head and the tail. */
  #holes = 0;

  /** How many entries are queued. */
  get size(): number {
    return this.#tail - this.#head - this.#holes;
  }

  /** Queues `item`; returns its ticket, which {@link remove} takes. */
  push(item: T): number {
    this.#items[this.#tail] = item;
    return this.#base + this.#tail++;
  }

  /** The oldest entry, left queued; undefined when empty. */
  peek(): T | undefined {
    return this.#items[this.#head] as T | undefined; // never a hole: shift moves past them
  }

  /** Takes the oldest entry; undefined when empty. */
  shift(): T | undefined {
    const items = this.#items;
    const item = items[this.#head];
    if (item === undefined) return undefined;
    items[this.#head++] = undefined;
    if (this.#holes > 0) this.#skipHoles();
    if (this.#head === this.#tail) {
      this.#base += this.#tail; // empty: the array is kept, the tickets go on
      this.#head = this.#tail = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#tail) {
      this.#items = items.slice(this.#head, this.#tail); // holes stay where they are: tickets hold
      this.#base += this.#head;
      this.#tail -= this.#head;
      this.#head = 0;
    }
    return item as T;
  }

  /**
   * Takes out `item`, pushed with `ticket`, wherever it is (a call timed out or was aborted); false
   * if it is not queued any more. The same cost at the head, the tail or in between.
   */
  remove(item: T, ticket: number): boolean {
    const i = ticket - this.#base;
    if (i < this.#head || i >= this.#tail || this.#items[i] !== item) return false;
    if (i === this.#head) this.shift(); // which moves past any holes after it
    else {
      this.#items[i] = HOLE;
      this.#holes++;
    }
    return true;
  }

  /** Takes every entry, oldest first. */
  drain(): T[] {
    const out = this.toArray();
    this.#base += this.#tail;
    this.#items = [];
    this.#head = this.#tail = this.#holes = 0;
    return out;
  }

  /** The entries, oldest first, left queued. */
  toArray(): T[] {
    const out = this.#items.slice(this.#head, this.#tail);
    return (this.#holes > 0 ? out.filter((x) => x !== HOLE) : out) as T[];
  }

  /** Moves the head past the holes at it. */
  #skipHoles(): void {
    const items = this.#items;
    while (items[this.#head] === HOLE) {
      items[this.#head++] = undefined;
      this.#holes--;
    }
  }
}
