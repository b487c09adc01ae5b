// The floor for the network round trips: messages over a bare node:net stream, tcp or ipc (a
// 4-byte length before each message, Nagle off, one peer), with no ZeroMQ at all. It wears the BenchSocket shape
// so the same child process and the same timing loop run it; what it measures is what Node and
// the kernel cost for a round trip between two processes on this machine.

import net from 'node:net';
import { dial, listen } from './ceiling.js';
import type { BenchSocket } from './impl.js';

export class NodeNetPair implements BenchSocket {
  sendHighWaterMark = 1000;
  receiveHighWaterMark = 1000;
  linger = 0;
  lastEndpoint: string | null = null;
  #server: net.Server | undefined;
  #stream: net.Socket | undefined;
  #connected: Promise<net.Socket> | undefined;
  #pending: Buffer = Buffer.alloc(0);
  #inbox: Buffer[][] = [];
  #waiting: ((m: Buffer[]) => void) | undefined;

  async bind(address: string): Promise<void> {
    let accepted!: (s: net.Socket) => void;
    this.#connected = new Promise((resolve) => (accepted = resolve));
    const server = net.createServer((s) => {
      this.#attach(s);
      accepted(s);
    });
    this.#server = server;
    this.lastEndpoint = await listen(server, address);
  }

  connect(address: string): void {
    const s = dial(address);
    this.#attach(s);
    this.#connected = new Promise((resolve) => s.once('connect', () => resolve(s)));
  }

  /** Sends one frame (the echo benchmarks send one): its length, then its bytes, in one write. */
  async send(message: Uint8Array | string | (Uint8Array | string)[]): Promise<void> {
    const frame = Array.isArray(message) ? message[0] : message;
    const body = typeof frame === 'string' ? Buffer.from(frame) : (frame as Uint8Array);
    const s = this.#stream ?? (await (this.#connected as Promise<net.Socket>));
    const out = Buffer.allocUnsafe(4 + body.length);
    out.writeUInt32BE(body.length, 0);
    out.set(body, 4);
    s.write(out);
  }

  receive(): Promise<Buffer[]> {
    const m = this.#inbox.shift();
    if (m !== undefined) return Promise.resolve(m);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  close(): void {
    this.#stream?.destroy();
    this.#server?.close();
  }

  #attach(s: net.Socket): void {
    this.#stream = s;
    s.setNoDelay(true);
    s.on('error', () => {});
    s.on('data', (chunk: Buffer) => {
      let buf: Buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const n = buf.readUInt32BE(0);
        const msg = [buf.subarray(4, 4 + n)];
        buf = buf.subarray(4 + n);
        const w = this.#waiting;
        if (w !== undefined) {
          this.#waiting = undefined;
          w(msg);
        } else {
          this.#inbox.push(msg);
        }
      }
      this.#pending = buf;
    });
  }
}
