// The NULL security mechanism (RFC 23/37 "The NULL Security Mechanism") as a sans-IO step object:
// it produces our READY and judges the peer's handshake commands; the connection moves the bytes.

import { latin1 } from './bytes.js';
import {
  decodeMetadata,
  getProperty,
  parseError,
  type Properties,
  type PropertyValue,
  readyCommand,
} from './commands.js';
import { canPair } from './socket-types.js';
import { isViolation, type Violation, violation } from './violation.js';

/** Our side of a handshake: what we announce. */
export interface LocalSocket {
  /** Our socket type as spelled on the wire, e.g. `DEALER`. */
  socketType: string;
  /** `ZMQ_ROUTING_ID`; sent (empty when unset) only by REQ, DEALER and ROUTER, as libzmq does. */
  identity?: Uint8Array;
  /** `ZMQ_METADATA`: extra properties, conventionally `X-*` names. */
  metadata?: Record<string, PropertyValue>;
}

/** What the peer announced in its handshake. */
export interface PeerInfo {
  /** The peer's Socket-Type, or '' when it sent none (libzmq accepts that). */
  socketType: string;
  /** The peer's Identity property, undefined when absent (only a ROUTER uses it, and only if non-empty). */
  identity: Uint8Array | undefined;
  /** Every property the peer sent, names as spelled; look up with `getProperty` to ignore case. */
  properties: Properties;
}

/** Outcome of one handshake command. */
export type HandshakeStep =
  | { status: 'ready'; peer: PeerInfo }
  | { status: 'error'; violation: Violation };

/**
 * Validates a peer's handshake metadata: well-formed properties and a Socket-Type we may pair with.
 * Shared by the NULL READY and the PLAIN/CURVE commands that carry metadata.
 */
export function readPeerMetadata(localSocketType: string, data: Uint8Array): HandshakeStep {
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
 * NULL handshake: each side sends READY right after the greeting (libzmq does not wait for the client)
 * and traffic flows once READY has been sent and received.
 *
 * ```ts
 * const mech = new NullMechanism({ socketType: 'DEALER' });
 * write(mech.start());
 * // for each command the decoder reports before the handshake completes:
 * const step = mech.onCommand(name, data);
 * if (step.status === 'error') close(step.violation); else attach(step.peer);
 * ```
 */
export class NullMechanism {
  readonly name = 'NULL';
  readonly #local: LocalSocket;
  #done = false;

  constructor(local: LocalSocket) {
    this.#local = local;
  }

  /** Our READY command frame, to send right after the greeting. */
  start(): Uint8Array {
    return readyCommand(this.#local.socketType, this.#local.identity, this.#local.metadata);
  }

  /**
   * Judges one handshake command from the peer. READY with valid metadata completes the handshake; ERROR
   * is fatal (do not reconnect with the same credentials); anything else, or a second READY, is an
   * unexpected command (libzmq `ZMTP_UNEXPECTED_COMMAND`). On an incompatible Socket-Type libzmq just
   * closes rather than sending ERROR (RFC 23 says ERROR then close); the caller chooses.
   */
  onCommand(name: string, data: Uint8Array): HandshakeStep {
    if (name === 'READY' && !this.#done) {
      const step = readPeerMetadata(this.#local.socketType, data);
      this.#done = true;
      return step;
    }
    if (name === 'ERROR') return { status: 'error', violation: peerErrorViolation(data) };
    return {
      status: 'error',
      violation: violation(
        'ERR_ZMTP_UNEXPECTED_COMMAND',
        name === 'READY'
          ? 'peer sent a second READY during the NULL handshake'
          : `peer sent ${JSON.stringify(name)} during the NULL handshake; expected READY or ERROR`,
      ),
    };
  }
}
