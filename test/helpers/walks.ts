// Counting the steps of Map or Set walks, for tests that prove a lookup walks nothing (a cost that
// would grow with the table), without timing anything.

type Walkable = Map<unknown, unknown> | Set<unknown>;

/**
 * Runs `work` and returns how many steps it took over Maps or Sets (as `kind` says) of more than
 * `over` entries (every entry by default): each step of a for-of, `values()`, `keys()` or
 * `entries()` walk, and `size` steps for a `forEach`. Puts the prototype back however `work` ends.
 */
export function countWalks(kind: MapConstructor | SetConstructor, work: () => void, over = -1): number {
  let steps = 0;
  const proto = kind.prototype as unknown as Record<PropertyKey, (this: Walkable, ...args: unknown[]) => unknown>;
  const names = ['values', 'entries', 'keys', Symbol.iterator] as const;
  const saved = names.map((name) => proto[name]!);
  const forEach = proto.forEach!;
  const counted = (walk: Walkable, it: IterableIterator<unknown>): IterableIterator<unknown> => walk.size <= over ? it : ({
    next: () => (steps++, it.next()),
    [Symbol.iterator]() {
      return this;
    },
  }) as IterableIterator<unknown>;
  names.forEach((name, i) => {
    proto[name] = function (this: Walkable) {
      return counted(this, saved[i]!.call(this) as IterableIterator<unknown>);
    };
  });
  proto.forEach = function (this: Walkable, ...args: unknown[]) {
    if (this.size > over) steps += this.size;
    return forEach.apply(this, args);
  };
  try {
    work();
  } finally {
    names.forEach((name, i) => {
      proto[name] = saved[i]!;
    });
    proto.forEach = forEach;
  }
  return steps;
}

/**
 * Array.prototype members that walk, move or copy an array's entries. `Symbol.iterator` is every
 * for-of, spread (`[...list]`) and `new Set(list)` of an array. Replacing it turns off V8's fast
 * path for iterating arrays for the rest of the process, even once it is put back: count it only
 * in tests that time nothing.
 */
type ArrayMethod = 'includes' | 'indexOf' | 'shift' | 'splice' | 'slice' | 'concat' | 'filter' | 'map' | typeof Symbol.iterator;

/**
 * Runs `work` and returns how many entries the named Array methods could have walked, moved or
 * copied meanwhile: the length of each array they were called on, counted for arrays of more than `over`
 * entries. Puts Array.prototype back once `work` ends (or its promise settles), however it ends.
 */
export function countArrayWork(methods: readonly ArrayMethod[], work: () => void, over?: number): number;
export function countArrayWork(methods: readonly ArrayMethod[], work: () => Promise<void>, over?: number): Promise<number>;
export function countArrayWork(methods: readonly ArrayMethod[], work: () => void | Promise<void>, over = -1): number | Promise<number> {
  let entries = 0;
  const proto = Array.prototype as unknown as Record<ArrayMethod, (this: unknown[], ...args: unknown[]) => unknown>;
  const saved = methods.map((name) => proto[name]);
  const restore = (): void => {
    methods.forEach((name, i) => {
      proto[name] = saved[i]!;
    });
  };
  methods.forEach((name, i) => {
    proto[name] = function (this: unknown[], ...args: unknown[]) {
      if (this.length > over) entries += this.length;
      return saved[i]!.apply(this, args);
    };
  });
  let done: void | Promise<void>;
  try {
    done = work();
  } catch (e) {
    restore();
    throw e;
  }
  if (done instanceof Promise) return done.finally(restore).then(() => entries);
  restore();
  return entries;
}
