// Shared test helpers for the codec: hex literals and a sink that records what a decoder reports.

import type { FrameSink } from '../../src/protocol/index.js';

/** Bytes from a hex string with arbitrary whitespace, e.g. `hex('04 0a 05')`. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd hex length: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export type Event = { message: Uint8Array[] } | { command: string; data: Uint8Array };

/** Records messages and commands in order, copying bytes so later mutation cannot confuse a test. */
export class Recorder implements FrameSink {
  readonly events: Event[] = [];
  onMessage(frames: Uint8Array[]): void {
    this.events.push({ message: frames.map((f) => Uint8Array.from(f)) });
  }
  onCommand(name: string, data: Uint8Array): void {
    this.events.push({ command: name, data: Uint8Array.from(data) });
  }
}
