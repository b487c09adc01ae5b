// Protocol violations as values: the codec reports what is wrong with the peer's bytes and never throws
// on wire input; the connection layer turns a violation into an event and closes that one connection.

/**
 * Codes the codec reports. `ERR_ZMTP_*` and `ERR_ZAP_*` names follow zeromq.js (`ProtoError` in its
 * `src/native.ts`) where libzmq has an equivalent; `EMSGSIZE` is libzmq's answer to a frame over
 * `ZMQ_MAXMSGSIZE`. Every code is also a valid `ZmqErrorCode`, so `new ZmqError(v.code, v.message)` works.
 */
export type ViolationCode = 'EMSGSIZE' | 'EPROTO' | `ERR_ZMTP_${string}` | `ERR_ZAP_${string}`;

/** What the peer did wrong, with a message that names the offending value. */
export interface Violation {
  readonly code: ViolationCode;
  readonly message: string;
  /**
   * A ZAP status ("300", "400", "500"): from a peer's ERROR, or from our own ZAP handler's refusal.
   * libzmq reports these as authentication failures.
   */
  readonly status?: 300 | 400 | 500;
  /** The reason text of a peer ERROR command. */
  readonly reason?: string;
}

/** Builds a violation. */
export function violation(code: ViolationCode, message: string): Violation {
  return { code, message };
}

/**
 * True when `x` is a violation. Safe to use on `decodeMetadata` results: property values are byte
 * arrays, so a peer property named `code` cannot be mistaken for one.
 */
export function isViolation(x: unknown): x is Violation {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as { code?: unknown }).code === 'string' &&
    typeof (x as { message?: unknown }).message === 'string'
  );
}
