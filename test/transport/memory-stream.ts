// Two ByteStreams joined in memory, for engine tests without node:net. Each gathered write travels
// as one "packet" on a later turn of the loop (setImmediate, FIFO), as a socket's bytes would; the
// packets are recorded, so a test can look at the wire. Like node:net: a paused side holds what
// arrives (and does not see the FIN) until resumed; a side that sees the FIN closes too, as node:net
// does without allowHalfOpen.

import type { ByteStream, ByteStreamListener } from '../../src/transport/byte-stream.js';

export class MemoryStream implements ByteStream {
  /** Every gathered write this side made, as one packet each, in order. */
  readonly wire: Uint8Array[] = [];
  /** Set to false to play a peer that does not read: writes are taken, but refused from then on. */
  accepting = true;
  paused = false;
  /** Closed on this side (destroyed, ended, or after the peer's FIN). */
  closed = false;
  peer!: MemoryStream;
  #listener: ByteStreamListener | undefined;
  #held: (Uint8Array | 'fin')[] = [];
  #closeReported = false;

  open(listener: ByteStreamListener): void {
    this.#listener = listener;
  }

  write(chunks: readonly Uint8Array[]): boolean {
    if (this.closed) return false;
    let n = 0;
    for (const c of chunks) n += c.length;
    const packet = new Uint8Array(n);
    let at = 0;
    for (const c of chunks) {
      packet.set(c, at);
      at += c.length;
    }
    this.wire.push(packet);
    const peer = this.peer;
    setImmediate(() => peer.#arrive(packet));
    return this.accepting;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.#held;
    this.#held = [];
    setImmediate(() => {
      for (const h of held) this.#arrive(h);
    });
  }

  end(_graceMs: number): void {
    this.#close();
  }

  destroy(): void {
    this.#close();
  }

  /** Lets the listener know the stream drained (a test playing a peer that reads again). */
  drain(): void {
    this.accepting = true;
    this.#listener?.onStreamDrain();
  }

  // Our FIN follows whatever we wrote; our own close is reported on a later turn, as node:net does.
  #close(): void {
    if (this.closed) return;
    this.closed = true;
    const peer = this.peer;
    setImmediate(() => peer.#arrive('fin'));
    setImmediate(() => this.#reportClose());
  }

  #arrive(what: Uint8Array | 'fin'): void {
    if (this.closed) return;
    if (this.paused) {
      this.#held.push(what);
      return;
    }
    if (what !== 'fin') {
      this.#listener?.onStreamData(what);
      return;
    }
    this.#listener?.onStreamEnd();
    this.#close();
  }

  #reportClose(): void {
    if (this.#closeReported) return;
    this.#closeReported = true;
    this.#listener?.onStreamClose();
  }
}

/** Two joined streams: what one writes, the other reads. */
export function memoryStreams(): [MemoryStream, MemoryStream] {
  const a = new MemoryStream();
  const b = new MemoryStream();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
