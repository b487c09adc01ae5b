// Helpers for the tour: print a scene's steps and every state change of the sockets it watches.

import type { Socket } from '../src/index.js';

const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

/** Turns a state value into `open.paired.ready` form. */
export function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  const [k, v] = Object.entries(value as Record<string, unknown>)[0] ?? ['?', ''];
  return `${k}.${stateName(v)}`;
}

export function scene(title: string): void {
  console.log(`\n${bold(`== ${title}`)}`);
}

export function step(text: string): void {
  console.log(`  ${text}`);
}

/** Prints each state change of the socket's machine, labelled. */
export function watch<T extends Socket>(label: string, socket: T): T {
  let last = stateName(socket.getSnapshot().value);
  console.log(dim(`    [${label}] ${last}`));
  socket.actor.subscribe((snap) => {
    const name = stateName(snap.value);
    if (name !== last) console.log(dim(`    [${label}] ${last} -> ${name}`));
    last = name;
  });
  return socket;
}

export const text = (frames: Uint8Array[]) => frames.map((f) => Buffer.from(f).toString()).join(' | ');
