// What the socket tests share: sockets closed after each test, and small ways to look at results.

import { afterEach } from 'vitest';
import type { Socket } from '../../src/socket/socket.js';

/** Returns `track(socket)`: every socket tracked is closed after each test of the calling file. */
export function closeAfterEach(): <T extends Socket>(s: T) => T {
  const open: Socket[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  return (s) => {
    open.push(s);
    return s;
  };
}

/** Frames as strings. */
export const text = (m: Buffer[]): string[] => m.map((f) => f.toString());

/** One turn of the event loop. */
export const tick = (): Promise<unknown> => new Promise((r) => setTimeout(r, 0));

/**
 * Resolves once `done()` holds, looking again every few ms: for a state reached through I/O the
 * test cannot await directly (a descriptor the kernel lets go). Bounded by the test's timeout, not
 * by a guess of how long it takes.
 */
export async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 2));
}

/** Resolves to 'done' or 'waiting' once the event loop has had a turn. */
export async function settled(p: Promise<unknown>): Promise<'done' | 'waiting'> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await tick();
  await tick();
  return done ? 'done' : 'waiting';
}

/** The error code a call fails with, or 'resolved'. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'resolved';
}
