// The PLAIN security mechanism (RFC 24, as libzmq 4.3 `plain_client.cpp` / `plain_server.cpp` speak it) as
// a sans-IO `Mechanism`: it builds HELLO, WELCOME, INITIATE and READY, judges the peer's commands and
// hands the credentials to the engine for ZAP. Nothing here reads, writes, waits or checks a password.

import { allocBytes } from './bytes.js';
import { libzmqPlainErrorCommand, type Properties, readyCommand, socketMetadata } from './commands.js';
import { encodeCommand } from './frame-encoder.js';
import type { Greeting } from './greeting.js';
import {
  type HandshakeWait,
  type LocalSocket,
  type Mechanism,
  type MechanismStep,
  peerErrorViolation,
  readPeerMetadata,
  type ZapReply,
  zapRefusal,
} from './mechanism.js';
import { isViolation, type Violation, violation } from './violation.js';

/** Options of a {@link PlainMechanism}: what we announce, our role and, for a client, our credentials. */
export interface PlainOptions extends LocalSocket {
  /**
   * `ZMQ_PLAIN_SERVER`: true on the side that checks credentials (it waits for HELLO), false on the
   * client (it sends HELLO). The role comes from here, never from the peer's greeting: libzmq always
   * sends as-server 0 (libzmq#3863).
   */
  asServer: boolean;
  /** `ZMQ_PLAIN_USERNAME`: the client's username, 0..255 octets (empty when unset, as in libzmq). */
  username?: Uint8Array | undefined;
  /** `ZMQ_PLAIN_PASSWORD`: the client's password, 0..255 octets (empty when unset, as in libzmq). */
  password?: Uint8Array | undefined;
  /**
   * Server only: a ZAP handler is bound at `inproc://zeromq.zap.01`, so HELLO credentials are sent to it.
   * Without one a libzmq 4.3 PLAIN server cannot accept anybody (PROTOCOL.md §10), and neither do we.
   */
  zap?: boolean | undefined;
}

/** What the mechanism waits for next; `none` before `start`, after completion and after a failure. */
type Phase = 'none' | 'HELLO' | 'ZAP' | 'WELCOME' | 'INITIATE' | 'READY';

const EMPTY = new Uint8Array(0);

/**
 * PLAIN handshake (RFC 24): the client sends HELLO with its username and password in clear, the server
 * asks its ZAP handler and answers WELCOME, the client sends INITIATE with its metadata and the server
 * completes with READY. Either side may send ERROR instead.
 *
 * ```
 *   client                         server                      ZAP handler
 *   start ── HELLO user pass ────▶ onCommand ── zap step ─────▶ (host asks)
 *                                  zapReplied(200) ◀──────────── 200 user-id metadata
 *   onCommand ◀───────── WELCOME ─
 *             ── INITIATE meta ──▶ onCommand → ready (peer, zap)
 *   onCommand ◀────── READY meta ─
 *   → ready (peer)
 * ```
 *
 * The password appears only in the client's HELLO frame and the server's ZAP request; no violation
 * message or other step property names it.
 *
 * ```ts
 * const client = new PlainMechanism({ socketType: 'DEALER', asServer: false, username, password });
 * apply(client.start(peerGreeting));          // { status: 'continue', send: [HELLO] }
 * const server = new PlainMechanism({ socketType: 'ROUTER', asServer: true, zap: true });
 * apply(server.onCommand('HELLO', data));     // { status: 'zap', request: { mechanism: 'PLAIN', credentials } }
 * apply(server.zapReplied(reply));            // 200: { status: 'continue', send: [WELCOME] }
 * ```
 */
export class PlainMechanism implements Mechanism {
  readonly name = 'PLAIN';
  readonly asServer: boolean;
  readonly #local: PlainOptions;
  #phase: Phase = 'none';

  /** The command (or the ZAP verdict) the handshake waits for. */
  get awaiting(): HandshakeWait {
    return this.#phase === 'none' ? 'none' : (this.#phase.toLowerCase() as HandshakeWait);
  }
  /** What the ZAP handler said of the client once it accepted it; attached to the server's ready peer. */
  #zap: { readonly userId: string; readonly metadata: Properties } | undefined;

  constructor(local: PlainOptions) {
    this.#local = local;
    this.asServer = local.asServer;
  }

  /** A client sends HELLO at once; a server waits for it. */
  start(_peer: Greeting): MechanismStep {
    if (this.asServer) {
      this.#phase = 'HELLO';
      return { status: 'continue' };
    }
    this.#phase = 'WELCOME';
    return { status: 'continue', send: [this.#hello()] };
  }

  /**
   * Judges one handshake command. ERROR from the peer is fatal at any point (do not reconnect with the
   * same credentials); a command other than the one awaited is `ERR_ZMTP_UNEXPECTED_COMMAND`, as in
   * libzmq, which also closes without ERROR on an incompatible Socket-Type.
   */
  onCommand(name: string, data: Uint8Array): MechanismStep {
    if (name === 'ERROR' && this.#phase !== 'none') return this.#fail(peerErrorViolation(data));
    if (name === this.#phase) {
      // Only the four command phases have a case; a peer command spelled like another phase falls through.
      switch (this.#phase) {
        case 'HELLO':
          return this.#onHello(data);
        case 'WELCOME':
          return this.#onWelcome(data);
        case 'INITIATE':
          return this.#onInitiate(data);
        case 'READY':
          return this.#onReady(data);
      }
    }
    return this.#fail(violation('ERR_ZMTP_UNEXPECTED_COMMAND', this.#unexpected(name)));
  }

  /**
   * The ZAP verdict on the client's HELLO: 200 sends WELCOME and keeps the handler's User-Id and
   * metadata for the peer; 300 closes silently, 400 and 500 send ERROR with the status (`zap_client.cpp`).
   */
  zapReplied(reply: ZapReply): MechanismStep {
    if (this.#phase !== 'ZAP') {
      return this.#fail(
        violation(
          'ERR_ZAP_UNSPECIFIED',
          `a ZAP reply (status ${reply.status}) came, but the PLAIN ${this.asServer ? 'server' : 'client'} asked for none`,
        ),
      );
    }
    // libzmq's PLAIN clients read only libzmq's own ERROR spelling (see libzmqPlainErrorCommand).
    const refused = zapRefusal(reply, libzmqPlainErrorCommand);
    if (refused !== undefined) {
      this.#phase = 'none';
      return refused;
    }
    this.#zap = { userId: reply.userId, metadata: reply.metadata };
    this.#phase = 'INITIATE';
    return { status: 'continue', send: [encodeCommand('WELCOME')] };
  }

  /** HELLO = user-len(1) user pass-len(1) pass: the only frame that carries the password. */
  #hello(): Uint8Array {
    const user = this.#local.username ?? EMPTY;
    const pass = this.#local.password ?? EMPTY;
    const data = allocBytes(2 + user.length + pass.length);
    data[0] = user.length;
    data.set(user, 1);
    data[1 + user.length] = pass.length;
    data.set(pass, 2 + user.length);
    return encodeCommand('HELLO', data);
  }

  /** Server: parse the credentials and hand them to the ZAP handler, which libzmq 4.3 requires. */
  #onHello(data: Uint8Array): MechanismStep {
    const credentials = parseHello(data);
    if (isViolation(credentials)) return this.#fail(credentials);
    if (this.#local.zap !== true) {
      // plain_server.cpp: zap_connect() fails ⇒ the handshake fails, no ERROR is sent.
      return this.#fail({
        code: 'ERR_ZAP_NO_HANDLER',
        message:
          'a PLAIN server needs a ZAP handler bound at inproc://zeromq.zap.01 to check HELLO credentials; ' +
          'libzmq refuses PLAIN clients without one',
      });
    }
    this.#phase = 'ZAP';
    return { status: 'zap', request: { mechanism: 'PLAIN', credentials } };
  }

  /** Client: WELCOME must carry nothing (libzmq checks its size is exactly 8), then we send INITIATE. */
  #onWelcome(data: Uint8Array): MechanismStep {
    if (data.length !== 0) {
      return this.#fail(
        violation(
          'ERR_ZMTP_MALFORMED_COMMAND_WELCOME',
          `WELCOME carries ${data.length} octets of data; a PLAIN WELCOME must carry none`,
        ),
      );
    }
    this.#phase = 'READY';
    const { socketType, identity, metadata } = this.#local;
    return { status: 'continue', send: [encodeCommand('INITIATE', socketMetadata(socketType, identity, metadata))] };
  }

  /** Server: the client's metadata; if acceptable, our READY completes the handshake. */
  #onInitiate(data: Uint8Array): MechanismStep {
    const judged = readPeerMetadata(this.#local.socketType, data);
    if (judged.status === 'error') return this.#fail(judged.violation);
    this.#phase = 'none';
    const { socketType, identity, metadata } = this.#local;
    const zap = this.#zap;
    return {
      status: 'ready',
      send: [readyCommand(socketType, identity, metadata)],
      peer: zap === undefined ? judged.peer : { ...judged.peer, zap },
    };
  }

  /** Client: the server's metadata completes the handshake. */
  #onReady(data: Uint8Array): MechanismStep {
    const judged = readPeerMetadata(this.#local.socketType, data);
    if (judged.status === 'error') return this.#fail(judged.violation);
    this.#phase = 'none';
    return judged;
  }

  #fail(v: Violation): MechanismStep {
    this.#phase = 'none';
    return { status: 'error', violation: v };
  }

  /** Why `name` is unexpected now, naming what was expected instead. */
  #unexpected(name: string): string {
    const got = `peer sent ${JSON.stringify(name)}`;
    const role = this.asServer ? 'PLAIN server' : 'PLAIN client';
    switch (this.#phase) {
      case 'none':
        return `${got} to a ${role} that expects no handshake command (not started, complete or failed)`;
      case 'ZAP':
        // plain_server.cpp reads nothing while its ZAP request is pending: the client must wait for WELCOME.
        return `${got} while the ${role} awaited its ZAP handler's verdict on HELLO; nothing may come before WELCOME`;
      default:
        return `${got} to a ${role}; expected ${this.#phase} or ERROR`;
    }
  }
}

/**
 * Parses HELLO data into [username, password], copied out of the network chunk (the ZAP answer comes
 * later, after the chunk may have been reused). Like `plain_server.cpp` it refuses lengths past the data
 * and any octet after the password. Messages name lengths only, never the credentials.
 */
function parseHello(data: Uint8Array): [Uint8Array, Uint8Array] | Violation {
  const bad = (message: string): Violation => violation('ERR_ZMTP_MALFORMED_COMMAND_HELLO', message);
  if (data.length < 1) return bad('HELLO carries no data; it needs a username length');
  const userLength = data[0];
  const afterUser = 1 + userLength;
  if (afterUser > data.length) {
    return bad(`HELLO announces a ${userLength}-octet username but carries ${data.length - 1} octets after its length`);
  }
  if (afterUser >= data.length) return bad(`HELLO ends after its ${userLength}-octet username; it needs a password length`);
  const passLength = data[afterUser];
  const end = afterUser + 1 + passLength;
  if (end > data.length) {
    return bad(
      `HELLO announces a ${passLength}-octet password but carries ${data.length - afterUser - 1} octets after its length`,
    );
  }
  if (end < data.length) {
    return bad(
      `HELLO carries ${data.length - end} octets after its ${passLength}-octet password; nothing may follow the password`,
    );
  }
  return [copy(data, 1, afterUser), copy(data, afterUser + 1, end)];
}

/** An owned copy (`Buffer#slice` would return a view, so allocate and set). */
function copy(data: Uint8Array, start: number, end: number): Uint8Array {
  const out = allocBytes(end - start);
  out.set(data.subarray(start, end));
  return out;
}
