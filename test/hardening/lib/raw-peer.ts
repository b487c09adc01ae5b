// One raw node:net stream playing a ZMTP peer by hand: it writes whatever a case gives it and reads
// back what our socket says (the greeting, then commands and data frames, through our own codec).

import type { Socket as NetSocket } from 'node:net';
import { FrameDecoder, GreetingDecoder } from '../../../src/protocol/index.js';
import type { FrameSink } from '../../../src/protocol/index.js';

/** What the socket sent after its greeting, in order. */
export type Heard = { kind: 'command'; name: string; data: Buffer } | { kind: 'message'; frames: Buffer[] };

export class RawPeer implements FrameSink {
  readonly closed: Promise<void>;
  /** Every octet our socket sent on this stream. */
  received = Buffer.alloc(0);
  /** The peer's greeting came whole (64 octets). */
  greeted = false;
  readonly #greeting = new GreetingDecoder();
  readonly #frames = new FrameDecoder();
  readonly #heard: Heard[] = [];
  readonly #waiting: ((h: Heard | undefined) => void)[] = [];
  #gone = false;

  /** `inode`: our socket's side of this connection (see descriptors.ts), when known. */
  constructor(
    readonly stream: NetSocket,
    readonly inode: string | undefined,
  ) {
    stream.on('error', () => {});
    stream.on('data', (c: Buffer) => this.#data(c));
    this.closed = new Promise((resolve) =>
      stream.destroyed && stream.closed ? resolve() : stream.once('close', () => resolve()),
    );
    void this.closed.then(() => {
      this.#gone = true;
      for (const w of this.#waiting.splice(0)) w(undefined);
    });
  }

  write(...chunks: Uint8Array[]): void {
    for (const c of chunks) this.stream.write(c);
  }

  /** The next command or message from our socket; undefined once the stream closed. */
  next(): Promise<Heard | undefined> {
    const h = this.#heard.shift();
    if (h !== undefined) return Promise.resolve(h);
    if (this.#gone) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** The next command, skipping nothing: throws if a message or the close comes first, or the name differs. */
  async command(name?: string): Promise<{ name: string; data: Buffer }> {
    const h = await this.next();
    if (h === undefined) throw new Error(`the socket closed the stream while ${name ?? 'a command'} was awaited`);
    if (h.kind !== 'command') throw new Error(`the socket sent a message while ${name ?? 'a command'} was awaited`);
    if (name !== undefined && h.name !== name) throw new Error(`the socket sent ${h.name} while ${name} was awaited`);
    return h;
  }

  /** FIN after what was written. */
  end(): void {
    this.stream.end();
  }

  destroy(): void {
    this.stream.destroy();
  }

  onMessage(frames: Uint8Array[]): void {
    this.#push({ kind: 'message', frames: frames.map((f) => Buffer.from(f)) });
  }

  onCommand(name: string, data: Uint8Array): void {
    this.#push({ kind: 'command', name, data: Buffer.from(data) });
  }

  #push(h: Heard): void {
    const w = this.#waiting.shift();
    if (w !== undefined) w(h);
    else this.#heard.push(h);
  }

  #data(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    let rest: Uint8Array = chunk;
    if (!this.greeted) {
      const r = this.#greeting.push(chunk);
      if (!r.done || r.error !== undefined) return;
      this.greeted = true;
      rest = r.rest;
    }
    if (rest.length > 0) this.#frames.push(Buffer.from(rest), this);
  }
}
