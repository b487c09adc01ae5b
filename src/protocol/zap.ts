// ZAP (RFC 27) messages, sans-IO: the request a server sends its handler and the checks its reply
// must pass (PROTOCOL.md §12). Who sends and waits is the socket layer's business (Context.askZap).

import { fromUtf8, utf8 } from './bytes.js';
import { decodeMetadata } from './commands.js';
import type { MechanismName } from './greeting.js';
import type { ZapReply } from './mechanism.js';
import { isViolation, type Violation, violation } from './violation.js';

/** Where ZAP handlers bind (RFC 27), in the Context of the sockets they judge. */
export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/** What a ZAP request says besides its version and id. */
export interface ZapQuery {
  /** ZMQ_ZAP_DOMAIN of the server socket ('' when unset, as libzmq allows). */
  readonly domain: string;
  /** The peer's address: the IP as text for tcp, '' where there is none. */
  readonly address: string;
  /** The server socket's own routing id (libzmq sends its own, not the peer's); empty when unset. */
  readonly identity: Uint8Array;
  readonly mechanism: MechanismName;
  readonly credentials: readonly Uint8Array[];
}

/** The request's frames, led by the empty delimiter a DEALER sends so that REP and ROUTER handlers both work. */
export function zapRequestFrames(requestId: string, q: ZapQuery): Uint8Array[] {
  return [
    new Uint8Array(0),
    utf8('1.0'),
    utf8(requestId),
    utf8(q.domain),
    utf8(q.address),
    q.identity,
    utf8(q.mechanism),
    ...q.credentials,
  ];
}

const STATUS: Record<string, ZapReply['status']> = { '200': 200, '300': 300, '400': 400, '500': 500 };

/**
 * Checks a handler's reply (as a DEALER receives it: delimiter first) to the request `requestId`, as
 * libzmq does (`zap_client.cpp receive_and_process_zap_reply`): exactly 7 frames, an empty delimiter,
 * version 1.0, the same request id, a status of 200/300/400/500, well-formed metadata. A reply that
 * fails is a violation of the ZAP protocol, never a verdict.
 */
export function parseZapReply(frames: readonly Uint8Array[], requestId: string): ZapReply | Violation {
  if (frames.length !== 7 || frames[0].length !== 0) {
    return violation(
      'ERR_ZAP_MALFORMED_REPLY',
      frames.length !== 7
        ? `the ZAP handler replied with ${frames.length} frame(s) after its routing; a reply has 7 (delimiter, version, request id, status, text, user id, metadata)`
        : `the ZAP handler's reply starts with a ${frames[0].length}-byte frame; the delimiter must be empty`,
    );
  }
  const version = fromUtf8(frames[1]);
  if (version !== '1.0') return violation('ERR_ZAP_BAD_VERSION', `the ZAP handler replied with version ${JSON.stringify(version)}; expected "1.0"`);
  const id = fromUtf8(frames[2]);
  if (id !== requestId) return violation('ERR_ZAP_BAD_REQUEST_ID', `the ZAP handler replied to request ${JSON.stringify(id)}; expected ${JSON.stringify(requestId)}`);
  const code = fromUtf8(frames[3]);
  const status = STATUS[code];
  if (status === undefined) return violation('ERR_ZAP_INVALID_STATUS_CODE', `the ZAP handler replied with status ${JSON.stringify(code)}; expected 200, 300, 400 or 500`);
  const metadata = frames[6].length === 0 ? {} : decodeMetadata(frames[6]);
  if (isViolation(metadata)) return violation('ERR_ZAP_INVALID_METADATA', `the ZAP handler's metadata is malformed: ${metadata.message}`);
  return { status, statusText: fromUtf8(frames[4]), userId: fromUtf8(frames[5]), metadata };
}
