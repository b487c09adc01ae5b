// A node:net socket (tcp or ipc) as a ByteStream: corked gathered writes, pause/resume, the end and
// close events, a graceful end with a grace time. Nothing about ZMTP or sockets.

import type { Socket as NetSocket } from 'node:net';
import type { ByteStream, ByteStreamListener } from './byte-stream.js';

/** A no-op 'error' listener: the 'close' that follows carries the news. */
export function ignoreError(): void {}

/**
 * Bytes waiting in node:net's buffer (the kernel took no more yet) below which a write still counts
 * as taken. node:net says "wait for drain" past its `writableHighWaterMark` (16 KiB on Node 20,
 * 64 KiB from Node 22); the engine then stopped at each such write until the buffer was empty,
 * and the kernel had nothing to send meanwhile (an ipc sender sat idle 28 % of the time). Writing
 * on up to this much: ipc 16 B PUSH->PULL +12 %, tcp fan-out to 10 +13 %, tcp 16 B +9 % (medians
 * of three alternating runs; bench/README).
 */
const IN_FLIGHT = 256 * 1024;

/** A node:net stream behind the {@link ByteStream} interface. Disables Nagle (ZMTP frames are small). */
export class NodeStream implements ByteStream {
  readonly #socket: NetSocket;
  #listener: ByteStreamListener | undefined;
  #closed = false;

  // Bound once per stream: node:net calls these for every chunk and drain.
  readonly #onData = (chunk: Buffer): void => this.#listener!.onStreamData(chunk);
  readonly #onDrain = (): void => this.#listener!.onStreamDrain();
  readonly #onEnd = (): void => {
    if (!this.#closed) this.#listener!.onStreamEnd();
  };
  readonly #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener!.onStreamClose();
  };

  constructor(socket: NetSocket) {
    this.#socket = socket;
  }

  open(listener: ByteStreamListener): void {
    this.#listener = listener;
    const s = this.#socket;
    s.setNoDelay?.(true);
    s.on('data', this.#onData);
    s.on('drain', this.#onDrain);
    s.on('end', this.#onEnd);
    s.on('close', this.#onClose);
    s.on('error', ignoreError); // 'close' follows; the listener hears of it there
  }

  write(chunks: readonly Uint8Array[]): boolean {
    const s = this.#socket;
    if (chunks.length === 1) {
      s.write(chunks[0]);
    } else {
      // One corked batch: node:net hands the chunks to the kernel in one writev.
      s.cork();
      for (let i = 0; i < chunks.length; i++) s.write(chunks[i]);
      s.uncork();
    }
    return !s.destroyed && s.writableLength < IN_FLIGHT;
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  end(graceMs: number): void {
    const s = this.#socket;
    if (s.destroyed) return;
    if (s.writableLength === 0 || graceMs === 0) {
      s.destroy();
      return;
    }
    s.once('finish', () => s.destroy());
    s.end();
    if (graceMs > 0) setTimeout(() => s.destroy(), graceMs).unref?.();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
