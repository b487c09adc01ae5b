// This process's memory after a full collection, for tests that bound what a peer can make us hold.
// `--expose-gc` set at run time: the flag takes effect for functions compiled after it, and a fresh
// context compiles `gc` for us (the usual way to collect without restarting node with the flag).

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Two full collections now, synchronously (what a WeakRef test needs: nothing else runs meanwhile). */
export function collectGarbage(): void {
  collect();
  collect();
}

/** Bytes in use after two full collections: the JS heap, and Buffer/ArrayBuffer memory. */
export function memoryNow(): { heap: number; buffers: number } {
  collect();
  collect();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

export const MiB = 1024 * 1024;
