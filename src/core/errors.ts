// Typed errors with ZeroMQ codes: one class, matched by `code`, never by `instanceof`.
// Imports nothing, so every layer (and a browser) can use it.

/** libzmq's base for its own errno values (`zmq.h` ZMQ_HAUSNUMERO). */
const HAUSNUMERO = 156384712;

/** The error codes monocoque raises, with libzmq's numeric errno on Linux where it has one. */
export const ERRNO = {
  EAGAIN: 11,
  EBADF: 9,
  EBUSY: 16,
  EINVAL: 22,
  ENOENT: 2,
  EACCES: 13,
  EPERM: 1,
  ENOTDIR: 20,
  ENODEV: 19,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ECONNREFUSED: 111,
  ECONNRESET: 104,
  ETIMEDOUT: 110,
  EHOSTUNREACH: 113,
  EMSGSIZE: 90,
  ENAMETOOLONG: 36,
  ENOTSUP: 95,
  EPROTONOSUPPORT: 93,
  EPROTO: 71,
  ECANCELED: 125,
  EFSM: HAUSNUMERO + 51,
  ENOCOMPATPROTO: HAUSNUMERO + 52,
  ETERM: HAUSNUMERO + 53,
} as const;

export type ZmqErrorCode = keyof typeof ERRNO | `ERR_ZMTP_${string}` | `ERR_ZAP_${string}`;

/**
 * The one error class of monocoque. Match on `code` (as zeromq.js users do), not on `instanceof`:
 * two copies of the library in one process have two classes but the same codes.
 *
 * ```ts
 * try { await push.send("x") } catch (e) { if ((e as ZmqError).code === "EAGAIN") retryLater() }
 * ```
 */
export class ZmqError extends Error {
  readonly code: ZmqErrorCode;
  readonly errno: number | undefined;
  /** The endpoint the failing call named, as zeromq.js sets it on bind/connect errors. */
  address?: string;
  /** A ZAP status (300, 400, 500) on an authentication failure, as zeromq.js reports it. */
  status?: number;
  /** For `sendMany`: how many of its messages were queued before this error (they stay queued). */
  sent?: number;

  constructor(code: ZmqErrorCode, message: string, options?: { cause?: unknown; address?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ZmqError';
    this.code = code;
    this.errno = (ERRNO as Record<string, number>)[code];
    if (options?.address !== undefined) this.address = options.address;
  }
}

/** True when `e` is an error carrying the ZeroMQ code `code`. */
export function isZmqError(e: unknown, code?: ZmqErrorCode): e is ZmqError {
  if (typeof e !== 'object' || e === null) return false;
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' && (code === undefined || c === code);
}

/**
 * A value as an error message shows it: strings quoted (long ones cut), numbers and booleans as
 * written, and for anything else what it is (`a Date object`, `an array of 2 items`, `8 bytes`),
 * never `[object Object]`.
 */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'bigint':
      return `the bigint ${v}n`;
    case 'symbol':
      return `a symbol${v.description === undefined ? '' : ` (${v.description})`}`;
    case 'function':
      return 'a function';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  const name = (v as object).constructor?.name;
  return name === undefined || name === 'Object' ? 'a plain object' : `a ${name} object`;
}
