// The NULL security mechanism (RFC 23/37 "The NULL Security Mechanism") as a sans-IO `Mechanism`:
// it produces our READY, judges the peer's handshake commands and, when asked to, waits for a ZAP
// verdict before sending READY. The engine moves the bytes; nothing here reads, writes or waits.

import { readyCommand } from './commands.js';
import type { Greeting } from './greeting.js';
import {
  type HandshakeWait,
  type LocalSocket,
  type Mechanism,
  type MechanismStep,
  type PeerInfo,
  peerErrorViolation,
  readPeerMetadata,
  type ZapReply,
  zapRefusal,
} from './mechanism.js';
import { violation } from './violation.js';

/** Options of a {@link NullMechanism}: what we announce, and whether a ZAP handler judges the peer. */
export interface NullOptions extends LocalSocket {
  /**
   * Ask the ZAP handler (mechanism `NULL`, no credentials) before sending READY. libzmq does so when
   * `ZMQ_ZAP_DOMAIN` is set and a handler is bound at `inproc://zeromq.zap.01` (PROTOCOL.md §6).
   */
  zap?: boolean | undefined;
}

const NO_CREDENTIALS: readonly Uint8Array[] = [];

/**
 * NULL handshake: each side sends READY right after the greeting (libzmq does not wait for the client)
 * and traffic flows once READY has been sent and received. With `zap`, our READY waits for the
 * handler's 200; a peer READY arriving meanwhile is kept until then.
 *
 * ```ts
 * const mech = new NullMechanism({ socketType: 'DEALER' });
 * apply(mech.start(peerGreeting));           // { status: 'continue', send: [READY] }
 * apply(mech.onCommand('READY', data));      // { status: 'ready', peer } or { status: 'error', violation }
 * ```
 */
export class NullMechanism implements Mechanism {
  readonly name = 'NULL';
  readonly asServer = false;
  readonly #local: NullOptions;
  /** The peer's READY, judged and accepted while the ZAP verdict (and so our READY) was pending. */
  #peer: PeerInfo | undefined;
  #readyReceived = false;
  #zapPending = false;
  #started = false;

  /** ZAP first when it was asked; then the peer's READY, until it came. */
  get awaiting(): HandshakeWait {
    if (!this.#started) return 'none';
    if (this.#zapPending) return 'zap';
    return this.#readyReceived ? 'none' : 'ready';
  }

  constructor(local: NullOptions) {
    this.#local = local;
  }

  /** Our READY command frame, to send right after the greeting (or after the ZAP handler's 200). */
  #ready(): Uint8Array {
    return readyCommand(this.#local.socketType, this.#local.identity, this.#local.metadata);
  }

  /** Sends our READY, unless a ZAP handler must first judge the peer. */
  start(_peer: Greeting): MechanismStep {
    this.#started = true;
    if (this.#local.zap === true) {
      this.#zapPending = true;
      return { status: 'zap', request: { mechanism: 'NULL', credentials: NO_CREDENTIALS } };
    }
    return { status: 'continue', send: [this.#ready()] };
  }

  /**
   * Judges one handshake command from the peer. READY with valid metadata completes the handshake
   * (once ours is out); ERROR is fatal (do not reconnect with the same credentials); anything else, or
   * a second READY, is an unexpected command (libzmq `ZMTP_UNEXPECTED_COMMAND`). On an incompatible
   * Socket-Type libzmq just closes rather than sending ERROR (RFC 23 says ERROR then close); so do we.
   */
  onCommand(name: string, data: Uint8Array): MechanismStep {
    if (name === 'READY' && !this.#readyReceived) {
      this.#readyReceived = true;
      const judged = readPeerMetadata(this.#local.socketType, data);
      if (judged.status === 'error' || !this.#zapPending) return judged;
      this.#peer = judged.peer;
      return { status: 'continue' };
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

  /** The ZAP verdict: 200 sends our READY (and completes if the peer's came already); others fail. */
  zapReplied(reply: ZapReply): MechanismStep {
    if (!this.#zapPending) {
      return {
        status: 'error',
        violation: violation('ERR_ZAP_UNSPECIFIED', `a ZAP reply (status ${reply.status}) came, but the NULL handshake asked for none`),
      };
    }
    this.#zapPending = false;
    const refused = zapRefusal(reply);
    if (refused !== undefined) return refused;
    const send = [this.#ready()];
    const peer = this.#peer;
    if (peer === undefined) return { status: 'continue', send };
    this.#peer = undefined;
    return { status: 'ready', send, peer };
  }
}
