// The next turn of the event loop: setImmediate where the runtime has it (Node, Bun, Deno), a zero
// timeout elsewhere (a browser). No imports: this runs in a browser too.

/** Runs `f` on a later turn of the event loop, after the I/O already waiting. */
export const onNextTurn: (f: () => void) => void =
  (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate ?? ((f) => setTimeout(f, 0));
