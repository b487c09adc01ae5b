// The plug-in point for ZMTP security mechanisms (RFC 23/37 "Security"; NULL here, PLAIN RFC 24 and
// CURVE RFC 25/26 later): the steps a mechanism hands the engine, and what every mechanism shares.
// Sans-IO: a mechanism never touches a stream, a timer or a ZAP handler. It returns steps ("write
// these commands", "ask ZAP this", "ready", "failed") and the engine carries them out.
//
//   engine                                   mechanism
//   greeting in (same mechanism) ──────────▶ start(greeting)        ─▶ step
//   handshake command in ──────────────────▶ onCommand(name, data)  ─▶ step
//   ZAP reply (from the host, later) ──────▶ zapReplied(reply)      ─▶ step
//   step 'ready' with a cipher ◀───────────── every later frame is sealed / opened by it (CURVE MESSAGE)

import { latin1 } from './bytes.js';
import {
  decodeMetadata,
  errorCommand,
  getProperty,
  parseError,
  type Properties,
  type PropertyValue,
} from './commands.js';
import type { Greeting, MechanismName } from './greeting.js';
import { canPair } from './socket-types.js';
import { isViolation, type Violation, violation } from './violation.js';

/** Our side of a handshake: what we announce. */
export interface LocalSocket {
  /** Our socket type as spelled on the wire, e.g. `DEALER`. */
  socketType: string;
  /** `ZMQ_ROUTING_ID`; sent (empty when unset) only by REQ, DEALER and ROUTER, as libzmq does. */
  identity?: Uint8Array | undefined;
  /** `ZMQ_METADATA`: extra properties, conventionally `X-*` names. */
  metadata?: Record<string, PropertyValue> | undefined;
}

/** What the peer announced in its handshake. */
export interface PeerInfo {
  /** The peer's Socket-Type, or '' when it sent none (libzmq accepts that). */
  socketType: string;
  /** The peer's Identity property, undefined when absent (only a ROUTER uses it, and only if non-empty). */
  identity: Uint8Array | undefined;
  /** Every property the peer sent, names as spelled; look up with `getProperty` to ignore case. */
  properties: Properties;
  /**
   * What the ZAP handler said of this peer when it accepted it (RFC 27 reply): its User-Id and the
   * metadata it added. Absent when no ZAP handler judged the peer.
   */
  zap?: { readonly userId: string; readonly metadata: Properties };
}

/**
 * What a mechanism asks the ZAP handler (RFC 27). The host adds the rest of the request (version,
 * request id, domain, peer address, our routing id) and answers with {@link Mechanism.zapReplied}.
 */
export interface ZapRequest {
  /** The mechanism frame of the request: `NULL`, `PLAIN` or `CURVE`. */
  readonly mechanism: MechanismName;
  /** NULL: none; PLAIN: username and password; CURVE: the client's 32-byte public key. */
  readonly credentials: readonly Uint8Array[];
}

/**
 * The ZAP handler's answer (RFC 27 reply), as the host hands it over after checking its frames
 * (a malformed reply is a failure of the exchange, not a reply: PROTOCOL.md §12).
 */
export interface ZapReply {
  /** 200 accepted; 300 temporary failure; 400 refused; 500 handler error. */
  readonly status: 200 | 300 | 400 | 500;
  readonly statusText: string;
  /** Becomes the `User-Id` property of messages from this peer. */
  readonly userId: string;
  /** Further properties for messages from this peer (RFC 27 metadata frame, decoded). */
  readonly metadata: Properties;
}

/**
 * Inner flags of a sealed frame (RFC 26 MESSAGE: bit 0 MORE; libzmq also sets bit 1 for a command
 * travelling sealed, such as PING or SUBSCRIBE, PROTOCOL.md §11).
 */
export const SEALED_MORE = 0x01;
export const SEALED_COMMAND = 0x02;

/**
 * Per-frame protection after the handshake, for mechanisms that encrypt (CURVE). With a cipher every
 * frame travels as one carrier command body: a message frame sealed with its MORE flag, a command
 * (PING, SUBSCRIBE, …) sealed whole, name included, with the COMMAND flag. libzmq puts that body in
 * a data frame (outer flags 0, never MORE); the engine sends it so and reads it in either kind.
 */
export interface FrameCipher {
  /** The command each frame travels in, `MESSAGE` for CURVE. Any other frame from the peer is a violation. */
  readonly carrier: string;
  /** Seals one frame. `flags` combines {@link SEALED_MORE} and {@link SEALED_COMMAND}. Returns the carrier's data. */
  seal(flags: number, body: Uint8Array): Uint8Array;
  /**
   * Opens one carrier command's data: returns the flags octet followed by the frame body, or a
   * violation (the engine closes without ERROR, as libzmq does for MESSAGE errors).
   */
  open(data: Uint8Array): Uint8Array | Violation;
}

/**
 * What to do next. `send` holds whole command frames to write first, in order (omitted when none).
 * - `continue`: wait for the peer's next handshake command.
 * - `zap`: ask the ZAP handler `request`, then feed its answer to `zapReplied`; commands from the
 *   peer may still arrive meanwhile (the mechanism judges them).
 * - `ready`: the handshake is complete; traffic may flow, through `cipher` when there is one.
 * - `error`: the handshake failed; after `send` (an ERROR command, if any) the connection closes.
 */
export type MechanismStep =
  | { readonly status: 'continue'; readonly send?: readonly Uint8Array[] }
  | { readonly status: 'zap'; readonly send?: readonly Uint8Array[]; readonly request: ZapRequest }
  | { readonly status: 'ready'; readonly send?: readonly Uint8Array[]; readonly peer: PeerInfo; readonly cipher?: FrameCipher }
  | { readonly status: 'error'; readonly send?: readonly Uint8Array[]; readonly violation: Violation };

/**
 * What a handshake waits for next, for the connection machine to show as its state: a command from
 * the peer (`hello`, `welcome`, `initiate`, `ready`), the ZAP handler's verdict (`zap`), or nothing
 * (`none`: not started, complete or failed).
 */
export type HandshakeWait = 'hello' | 'welcome' | 'initiate' | 'ready' | 'zap' | 'none';

/**
 * A security mechanism for one connection, as a stream engine drives it. One object per connection:
 * it keeps the handshake's state (and, for CURVE, the session keys and nonces of its cipher).
 *
 * ```ts
 * write(encodeGreeting(mech.name, mech.asServer));
 * // peer greeting decoded and checkMechanism(mech.name, greeting) passed:
 * apply(mech.start(greeting));
 * // each command while handshaking:           apply(mech.onCommand(name, data));
 * // a step asked ZAP, and the answer came:    apply(mech.zapReplied(reply));
 * ```
 */
export interface Mechanism {
  /** The greeting's mechanism field (RFC 23); the peer must announce the same. */
  readonly name: MechanismName;
  /** The greeting's as-server octet: true for a PLAIN or CURVE server; false for NULL (libzmq never reads it, §2). */
  readonly asServer: boolean;
  /** What the handshake waits for now (read after each step; the engine reports changes). */
  readonly awaiting: HandshakeWait;
  /** The peer's greeting was accepted: our first commands (NULL READY, a PLAIN/CURVE client's HELLO; a server waits). */
  start(peer: Greeting): MechanismStep;
  /** One command from the peer before the handshake completed: its name and the data after the name. */
  onCommand(name: string, data: Uint8Array): MechanismStep;
  /** The ZAP handler's answer to the request of the last `zap` step. */
  zapReplied(reply: ZapReply): MechanismStep;
}

/**
 * Validates a peer's handshake metadata: well-formed properties and a Socket-Type we may pair with.
 * Shared by the NULL READY and the PLAIN/CURVE commands that carry metadata.
 */
export function readPeerMetadata(
  localSocketType: string,
  data: Uint8Array,
): { status: 'ready'; peer: PeerInfo } | { status: 'error'; violation: Violation } {
  const properties = decodeMetadata(data);
  if (isViolation(properties)) return { status: 'error', violation: properties };
  const type = getProperty(properties, 'Socket-Type');
  const socketType = type === undefined ? '' : latin1(type, 0, type.length);
  if (type !== undefined && !canPair(localSocketType, socketType)) {
    return {
      status: 'error',
      violation: violation(
        'ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE',
        `a ${localSocketType} socket cannot talk to a peer of type ${JSON.stringify(socketType)}`,
      ),
    };
  }
  return { status: 'ready', peer: { socketType, identity: getProperty(properties, 'Identity'), properties } };
}

/**
 * Turns a peer's ERROR command into a violation carrying its reason; a reason "300", "400" or "500"
 * also sets `status`, which libzmq reports as an authentication failure (`mechanism_base.cpp`).
 */
export function peerErrorViolation(data: Uint8Array): Violation {
  const reason = parseError(data);
  if (isViolation(reason)) return reason;
  const status = reason === '300' ? 300 : reason === '400' ? 400 : reason === '500' ? 500 : undefined;
  const v: Violation = {
    code: 'ERR_ZMTP_PEER_ERROR',
    message: `peer refused the handshake with ERROR ${JSON.stringify(reason)}`,
    reason,
  };
  return status === undefined ? v : { ...v, status };
}

/**
 * The step a ZAP refusal leads to, or undefined for 200 (go on). As libzmq does (`zap_client.cpp`):
 * 300 closes without a word (the client will retry), 400 and 500 send ERROR with the status as its
 * reason, so the client stops reconnecting.
 */
export function zapRefusal(reply: ZapReply, errorFrame: (reason: string) => Uint8Array = errorCommand): MechanismStep | undefined {
  if (reply.status === 200) return undefined;
  const v: Violation = {
    code: 'ERR_ZAP_REFUSED',
    message: `the ZAP handler refused the peer with status ${reply.status} ${JSON.stringify(reply.statusText)}`,
    status: reply.status,
  };
  if (reply.status === 300) return { status: 'error', violation: v };
  return { status: 'error', send: [errorFrame(String(reply.status))], violation: v };
}

/**
 * A command's body (name-len, name, data), as a cipher seals it (RFC 37 command grammar). `name` is
 * one of the ZMTP command names, so 1..255 ASCII characters.
 */
export function commandBody(name: string, data: Uint8Array | undefined): Uint8Array {
  const n = name.length;
  const body = new Uint8Array(1 + n + (data === undefined ? 0 : data.length));
  body[0] = n;
  for (let i = 0; i < n; i++) body[1 + i] = name.charCodeAt(i);
  if (data !== undefined) body.set(data, 1 + n);
  return body;
}

/** Splits an opened command body into name and data, or reports why it is not one (as the frame decoder does). */
export function splitCommandBody(body: Uint8Array): { name: string; data: Uint8Array } | Violation {
  const n = body.length > 0 ? body[0] : 0;
  if (n === 0 || n > body.length - 1) {
    return violation(
      'ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED',
      `peer sealed a command whose name length is ${n} in a body of ${body.length} octets; ` +
        'the name must have 1..255 octets and fit in the body',
    );
  }
  return { name: latin1(body, 1, 1 + n), data: body.subarray(1 + n) };
}
