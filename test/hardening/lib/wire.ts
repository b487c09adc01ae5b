// ZMTP bytes written by hand for peers that break the rules (PROTOCOL.md §2-§5): frames with any
// header, commands with any name, metadata with any lengths. Nothing here checks what it builds.

import { encodeGreeting } from '../../../src/protocol/index.js';

export const MORE = 0x01;
export const LONG = 0x02;
export const COMMAND = 0x04;

const bytes = (x: string | Uint8Array): Buffer => (typeof x === 'string' ? Buffer.from(x, 'latin1') : Buffer.from(x));

/** A frame: short header for bodies up to 255 octets unless `long`, else a LONG header. */
export function frame(flags: number, body: string | Uint8Array = '', long = false): Buffer {
  const b = bytes(body);
  if (!long && b.length <= 255) return Buffer.concat([Buffer.from([flags, b.length]), b]);
  return Buffer.concat([longHeader(flags, BigInt(b.length)), b]);
}

/** A LONG frame header declaring `size` octets, whatever follows. */
export function longHeader(flags: number, size: bigint): Buffer {
  const h = Buffer.alloc(9);
  h[0] = flags | LONG;
  h.writeBigUInt64BE(size, 1);
  return h;
}

/** A message: every frame but the last with MORE. */
export function message(...frames: (string | Uint8Array)[]): Buffer {
  return Buffer.concat(frames.map((f, i) => frame(i < frames.length - 1 ? MORE : 0, f)));
}

/** A command body: name-len, name, data (name-len may lie: `nameLength`). */
export function commandBody(name: string, data: string | Uint8Array = '', nameLength = name.length): Buffer {
  return Buffer.concat([Buffer.from([nameLength]), Buffer.from(name, 'latin1'), bytes(data)]);
}

/** A command frame. */
export function command(name: string, data: string | Uint8Array = '', opts: { nameLength?: number; long?: boolean } = {}): Buffer {
  return frame(COMMAND, commandBody(name, data, opts.nameLength), opts.long);
}

/** One metadata property; `valueLength` may lie about the value that follows. */
export function property(name: string, value: string | Uint8Array, valueLength?: number): Buffer {
  const v = bytes(value);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(valueLength ?? v.length);
  return Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'latin1'), len, v]);
}

/** A READY command with the given metadata (raw). */
export const ready = (...props: Buffer[]): Buffer => command('READY', Buffer.concat(props));

/** A PING with a ttl in deciseconds and a context. */
export function ping(ttl: number, context: string | Uint8Array = ''): Buffer {
  const t = Buffer.alloc(2);
  t.writeUInt16BE(ttl);
  return command('PING', Buffer.concat([t, bytes(context)]));
}

/** A 64-octet greeting with any field changed. */
export function greetingWith(opts: {
  mechanism?: string | Uint8Array;
  first?: number;
  padding?: Uint8Array;
  signatureEnd?: number;
  major?: number;
  minor?: number;
  asServer?: number;
  filler?: number;
} = {}): Buffer {
  const g = Buffer.from(encodeGreeting('NULL', false));
  if (opts.first !== undefined) g[0] = opts.first;
  if (opts.padding !== undefined) g.set(opts.padding, 1);
  if (opts.signatureEnd !== undefined) g[9] = opts.signatureEnd;
  if (opts.major !== undefined) g[10] = opts.major;
  if (opts.minor !== undefined) g[11] = opts.minor;
  if (opts.mechanism !== undefined) {
    g.fill(0, 12, 32);
    g.set(bytes(opts.mechanism).subarray(0, 20), 12);
  }
  if (opts.asServer !== undefined) g[32] = opts.asServer;
  if (opts.filler !== undefined) g.fill(opts.filler, 33, 64);
  return g;
}
