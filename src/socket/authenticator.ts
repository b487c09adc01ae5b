// The Authenticator: a ZAP handler (RFC 27) in the spirit of pyzmq's `zmq.auth`. It binds a Router at
// inproc://zeromq.zap.01 in its Context, reads each request and answers as its machine
// (machines/authenticator.ts) decides. Passwords stay in this class: the machine hears whether one matched.

import { createActor } from 'xstate';
import type { Actor, AnyActorRef, SnapshotFrom } from 'xstate';
import { describeValue, ZmqError } from '../core/errors.js';
import { z85Decode, z85Encode } from '../core/z85.js';
import { fromUtf8, utf8 } from '../protocol/bytes.js';
import { ZAP_ENDPOINT } from '../protocol/zap.js';
import { authenticatorMachine, ZAP_VERSION } from '../../machines/authenticator.js';
import type { AuthenticatorEvent, RefuseStartParams, ZapRequestFacts, ZapVerdict } from '../../machines/authenticator.js';
import type { Context } from './context.js';
import { defaultContext } from './context.js';
import { Router } from './dealer-router.js';

export { ZAP_ENDPOINT } from '../protocol/zap.js';

/** Options of an {@link Authenticator}. */
export interface AuthenticatorOptions {
  /** The Context whose ZAP endpoint it serves (ZAP is per Context, as in libzmq); the global one by default. */
  context?: Context;
  /**
   * The only ZAP domain it judges (the servers' ZMQ_ZAP_DOMAIN); requests for any other domain are
   * refused (400). `*` or omitted: every domain.
   */
  domain?: string;
}

/** PLAIN users: username → password, as an object or a Map. */
export type PlainUsers = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

/**
 * CURVE clients that may connect: their public keys (40-character Z85 text or 32 bytes), or `any`
 * for every client that completes the CURVE handshake (the key is still checked by the handshake).
 */
export type CurveClients = 'any' | Iterable<string | Uint8Array>;

/** The Authenticator's machine, with its effects provided by the Authenticator. */
export type AuthenticatorMachine = typeof authenticatorMachine;

interface Call {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The frames of the request at hand that its reply echoes. */
interface RequestAtHand {
  routingId: Uint8Array;
  requestId: Uint8Array;
}

const OPTIONS = ['context', 'domain'];
/** PLAIN (RFC 24) carries a username and a password of 0..255 bytes each. */
const MAX_PLAIN_FIELD = 255;
/** ms replies already sent may take to leave when stopping: pyzmq's `Authenticator.start` sets its ZAP socket's linger to 1. */
const ZAP_LINGER = 1;
const EMPTY = new Uint8Array(0);

/**
 * A ZAP handler (ZeroMQ RFC 27) for the PLAIN and CURVE servers (and NULL servers with a ZAP domain)
 * of a Context: it decides who may connect, by address, PLAIN username and password, or CURVE client
 * public key, as pyzmq's `zmq.auth` Authenticator does. It binds a Router at `inproc://zeromq.zap.01`,
 * where the servers send their requests; one Authenticator per Context.
 *
 * Its rules live in an XState machine (`actor`, machines/authenticator.ts) that an inspector can
 * watch: the lists, usernames, public keys and counters are in its context, the passwords never.
 *
 * ```ts
 * const auth = new Authenticator()
 * auth.allow("127.0.0.1")                    // only local peers; none of the others
 * auth.configurePlain({ admin: "secret" })
 * await auth.start()
 * // … PLAIN servers of the default Context now ask it about each client …
 * await auth.stop()
 * ```
 *
 * Decisions (the reply's status code and text): a request that cannot be read gets 500; one for
 * another domain (when `domain` is set), from an address not allowed or denied, for a mechanism not
 * configured, with a wrong username, password or key gets 400; NULL from an address that passes
 * gets 200 (user id `anonymous`), PLAIN 200 with the username as user id, CURVE 200 with the client's
 * key as Z85 text.
 */
export class Authenticator {
  /** The Context whose ZAP endpoint this serves. */
  readonly context: Context;
  /**
   * The running XState actor of `authenticatorMachine`: subscribe to it or inspect it (its state is
   * `idle`, `starting`, `running`, `stopping` or `stopped`); use the methods to drive it.
   */
  readonly actor: Actor<AuthenticatorMachine>;
  #router: Router | undefined;
  /** username → password as UTF-8, the one place passwords are kept. */
  #passwords = new Map<string, Uint8Array>();
  /** The start() call being told to the machine right now. */
  #call: Call | undefined;
  /** The start() call waiting for its bind. */
  #starting: Call | undefined;
  #bindError: unknown;
  #request: RequestAtHand | undefined;
  #whenStopped: Promise<void>;

  static #byActor = new WeakMap<AnyActorRef, Authenticator>();
  /** The machine with its effects, provided once: each effect finds its Authenticator from the actor. */
  static #logic = authenticatorMachine.provide({
    actions: {
      bind: Authenticator.#effect((a) => a.#bind()),
      confirmStart: Authenticator.#effect((a) => a.#confirmStart()),
      reportBindFailure: Authenticator.#effect((a) => a.#reportBindFailure()),
      refuseStart: Authenticator.#effect((a, params: RefuseStartParams) => a.#refuseStart(params)),
      abandonStart: Authenticator.#effect((a) => a.#abandonStart()),
      serve: Authenticator.#effect((a) => a.#serve()),
      reply: Authenticator.#effect((a, params: ZapVerdict) => a.#reply(params)),
      closeRouter: Authenticator.#effect((a) => a.#closeRouter()),
    },
  });

  /** An effect that runs on the Authenticator of the actor it runs in. */
  static #effect<P>(run: (auth: Authenticator, params: P) => void): (args: { self: AnyActorRef }, params: P) => void {
    return ({ self }, params) => {
      const auth = Authenticator.#byActor.get(self);
      if (auth !== undefined) run(auth, params);
    };
  }

  constructor(options: AuthenticatorOptions = {}) {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new ZmqError('EINVAL', `options of an Authenticator must be an object like { domain: "global" }, not ${describeValue(options)}`);
    }
    for (const name of Object.keys(options)) {
      if (!OPTIONS.includes(name)) throw new ZmqError('EINVAL', `option "${name}" is not an option of an Authenticator; accepted: ${OPTIONS.join(', ')}`);
    }
    const { context, domain } = options;
    // Duck-typed, as sockets check it: a Context from another copy of the library is still one.
    const ctx = context as Partial<Context> | undefined;
    if (ctx !== undefined && (typeof ctx !== 'object' || ctx === null || typeof ctx.register !== 'function' || typeof ctx.transport !== 'function')) {
      throw new ZmqError('EINVAL', `option context of an Authenticator: ${describeValue(context)} is not a Context (new Context())`);
    }
    if (domain !== undefined && typeof domain !== 'string') {
      throw new ZmqError('EINVAL', `option domain of an Authenticator: ${describeValue(domain)} is not a string (a ZAP domain such as "global", or "*" for every domain)`);
    }
    this.context = context ?? defaultContext();
    // Its own actor system, watched by the Context's inspector (a child of the supervisor would
    // take the supervisor down with it if it failed).
    this.actor = createActor(Authenticator.#logic, { id: 'authenticator', input: { domain }, inspect: this.context.inspector });
    Authenticator.#byActor.set(this.actor, this);
    this.#whenStopped = new Promise((resolve, reject) => this.actor.subscribe({ complete: () => resolve(), error: reject }));
    this.#whenStopped.catch(() => {}); // reported to whoever awaits stop()
    this.actor.start();
  }

  /**
   * The machine's current snapshot: its state and context (lists, users, keys, counters). The
   * `allow` and `deny` arrays are the machine's own and grow in place with each call: copy them to
   * keep them as they are now.
   */
  getSnapshot(): SnapshotFrom<AuthenticatorMachine> {
    return this.actor.getSnapshot();
  }

  /**
   * Lets these addresses connect (the peers' IPs as text, such as `127.0.0.1`), adding to the allow
   * list. While the allow list is not empty, every other address is refused and the deny list is
   * not consulted (as in pyzmq).
   */
  allow(...addresses: string[]): this {
    this.#configure('allow', { type: 'allow', addresses: checkAddresses('allow', addresses) });
    return this;
  }

  /** Refuses these addresses, adding to the deny list; it is consulted only while the allow list is empty. */
  deny(...addresses: string[]): this {
    this.#configure('deny', { type: 'deny', addresses: checkAddresses('deny', addresses) });
    return this;
  }

  /**
   * Sets the PLAIN users (username → password), replacing any set before. Until this is called,
   * every PLAIN request is refused ("PLAIN is not configured").
   *
   * ```ts
   * auth.configurePlain({ admin: "secret", guest: "guest" })
   * ```
   */
  configurePlain(users: PlainUsers): this {
    this.#assertNotStopped('configurePlain');
    const entries = plainEntries(users);
    const passwords = new Map<string, Uint8Array>();
    for (const [username, password] of entries) {
      if (typeof username !== 'string') throw new ZmqError('EINVAL', `configurePlain(): username ${describeValue(username)} is not a string`);
      if (utf8(username).length > MAX_PLAIN_FIELD) {
        throw new ZmqError('EINVAL', `configurePlain(): username ${describeValue(username)} has more than ${MAX_PLAIN_FIELD} bytes in UTF-8, more than PLAIN (RFC 24) can carry`);
      }
      // The message names the user, never the password's value.
      if (typeof password !== 'string') throw new ZmqError('EINVAL', `configurePlain(): the password of user ${JSON.stringify(username)} is ${kindOf(password)}, not a string`);
      const bytes = utf8(password);
      if (bytes.length > MAX_PLAIN_FIELD) {
        throw new ZmqError('EINVAL', `configurePlain(): the password of user ${JSON.stringify(username)} has ${bytes.length} bytes in UTF-8; PLAIN (RFC 24) carries at most ${MAX_PLAIN_FIELD}`);
      }
      passwords.set(username, bytes);
    }
    this.#passwords = passwords;
    this.#configure('configurePlain', { type: 'configure.plain', users: [...passwords.keys()] });
    return this;
  }

  /**
   * Sets the CURVE clients that may connect, replacing any set before: their public keys (40
   * characters of Z85 or 32 bytes), or `any` for every client. Until this is called, every CURVE
   * request is refused ("CURVE is not configured").
   *
   * ```ts
   * auth.configureCurve([clientPublicKey])   // or auth.configureCurve("any")
   * ```
   */
  configureCurve(clients: CurveClients): this {
    this.#assertNotStopped('configureCurve');
    let keys: string[] | 'any';
    if (clients === 'any') {
      keys = 'any';
    } else if (typeof clients === 'string' || typeof clients !== 'object' || clients === null || !(Symbol.iterator in clients) || clients instanceof Uint8Array) {
      throw new ZmqError('EINVAL', `configureCurve(): ${describeValue(clients)} is neither "any" nor a list of public keys (40-character Z85 strings or 32 bytes each); for one key, pass [key]`);
    } else {
      const unique = new Set<string>();
      let i = 0;
      for (const key of clients) unique.add(clientKeyText(key, i++));
      keys = [...unique];
    }
    this.#configure('configureCurve', { type: 'configure.curve', keys });
    return this;
  }

  /**
   * Binds the ZAP endpoint of its Context and starts answering. Rejects with EADDRINUSE when the
   * endpoint is taken (another Authenticator or socket in this Context, or this one already
   * started), EFSM once stopped. After a failed start it may be started again.
   */
  start(): Promise<void> {
    if (this.#isStopped()) return Promise.reject(new ZmqError('EFSM', 'start(): this Authenticator was stopped; make a new one'));
    return new Promise<void>((resolve, reject) => {
      // Made here, not in the `bind` effect: starting an actor inside another actor's action makes xstate warn.
      if (this.getSnapshot().value === 'idle') this.#router = new Router({ context: this.context, linger: ZAP_LINGER });
      this.#call = { resolve, reject };
      try {
        this.actor.send({ type: 'start' });
      } finally {
        this.#call = undefined;
      }
    });
  }

  /**
   * Stops answering: closes the ZAP socket (its endpoint is free again once this resolves) and ends
   * the machine. A start() still waiting for its bind fails with ECANCELED. Calling it again is harmless.
   */
  stop(): Promise<void> {
    if (!this.#isStopped()) this.actor.send({ type: 'stop' });
    return this.#whenStopped;
  }

  #isStopped(): boolean {
    return this.actor.getSnapshot().status !== 'active';
  }

  #assertNotStopped(method: string): void {
    if (this.#isStopped()) throw new ZmqError('EFSM', `${method}(): this Authenticator was stopped; make a new one`);
  }

  #configure(method: string, event: AuthenticatorEvent): void {
    this.#assertNotStopped(method);
    this.actor.send(event);
  }

  #tell(event: AuthenticatorEvent): void {
    if (!this.#isStopped()) this.actor.send(event);
  }

  // ---- effects ----

  #bind(): void {
    this.#starting = this.#call;
    const router = this.#router as Router;
    router.bind(ZAP_ENDPOINT).then(
      () => this.#tell({ type: 'bind.succeeded' }),
      (e: unknown) => {
        this.#bindError = e;
        const error = e as Partial<ZmqError>;
        this.#tell({ type: 'bind.failed', code: String(error.code ?? 'EINVAL'), message: String(error.message ?? e) });
      },
    );
  }

  #confirmStart(): void {
    const call = this.#starting;
    this.#starting = undefined;
    call?.resolve();
  }

  #reportBindFailure(): void {
    const call = this.#starting;
    const error = this.#bindError;
    this.#starting = undefined;
    this.#bindError = undefined;
    this.#router?.close();
    this.#router = undefined;
    call?.reject(error);
  }

  #refuseStart({ reason }: RefuseStartParams): void {
    this.#call?.reject(reason === 'started'
      ? new ZmqError('EADDRINUSE', `start(): this Authenticator was started already; it holds ${ZAP_ENDPOINT} in its context`, { address: ZAP_ENDPOINT })
      : new ZmqError('EFSM', 'start(): this Authenticator is stopping; make a new one'));
  }

  #abandonStart(): void {
    const call = this.#starting;
    this.#starting = undefined;
    call?.reject(new ZmqError('ECANCELED', 'start(): stop() was called before the ZAP endpoint was bound'));
  }

  #serve(): void {
    const router = this.#router as Router;
    void (async () => {
      // The iteration ends when the router is closed (stop).
      for await (const msg of router) this.#answer(msg);
    })();
  }

  /**
   * One request, as the Router hands it over:
   * `[routing id, '', version, request id, domain, address, identity, mechanism, ...credentials]`.
   */
  #answer(msg: Uint8Array[]): void {
    // A reply echoes the routing id, the delimiter and the request id: without them none can be
    // formed that a requester would take, so the message is dropped.
    if (msg.length < 4 || msg[1].length !== 0) return;
    const text = (i: number) => (i < msg.length ? fromUtf8(msg[i]) : '');
    const facts: ZapRequestFacts = {
      version: text(2),
      frames: msg.length - 2,
      domain: text(4),
      address: text(5),
      mechanism: text(7),
    };
    if (facts.mechanism === 'PLAIN' && msg.length === 10) {
      facts.username = fromUtf8(msg[8]);
      facts.passwordOk = this.#passwordMatches(facts.username, msg[9]);
    } else if (facts.mechanism === 'CURVE' && msg.length === 9 && msg[8].length === 32) {
      facts.clientKey = z85Encode(msg[8]);
    }
    this.#request = { routingId: msg[0], requestId: msg[3] };
    try {
      this.#tell({ type: 'zap.requested', ...facts });
    } finally {
      this.#request = undefined;
    }
  }

  #passwordMatches(username: string, given: Uint8Array): boolean {
    const expected = this.#passwords.get(username);
    return expected !== undefined && sameBytes(expected, given);
  }

  #reply(verdict: ZapVerdict): void {
    const request = this.#request;
    const router = this.#router;
    if (request === undefined || router === undefined) return;
    this.#request = undefined; // one reply per request
    // Exactly 7 frames after the routing id (libzmq `zap_client.cpp` refuses any other count).
    const reply = [request.routingId, EMPTY, ZAP_VERSION, request.requestId, verdict.status, verdict.statusText, verdict.userId, EMPTY];
    // A ROUTER without `mandatory` never waits: it delivers or drops (the requester left). It fails
    // only once closed, when nobody waits for the answer any more.
    router.send(reply).catch(() => {});
  }

  #closeRouter(): void {
    const router = this.#router;
    if (router === undefined) {
      this.#tell({ type: 'router.closed' });
      return;
    }
    router.close();
    void router.whenReleased().then(() => {
      if (this.#router === router) this.#router = undefined;
      this.#tell({ type: 'router.closed' });
    });
  }
}

/** The addresses given to allow() or deny(), checked: strings (an ipc peer's address is ''). */
function checkAddresses(method: string, addresses: unknown[]): string[] {
  addresses.forEach((a, i) => {
    if (typeof a !== 'string') throw new ZmqError('EINVAL', `${method}(): address ${i + 1} is ${describeValue(a)}, not a string such as "127.0.0.1"`);
  });
  return addresses as string[];
}

/** The [username, password] pairs of an object or a Map, before they are checked. */
function plainEntries(users: unknown): [unknown, unknown][] {
  if (users instanceof Map) return [...(users as Map<unknown, unknown>)];
  if (typeof users !== 'object' || users === null || Array.isArray(users) || users instanceof Uint8Array) {
    throw new ZmqError('EINVAL', `configurePlain(): ${describeValue(users)} is not a table of users, such as { admin: "secret" } or a Map`);
  }
  return Object.entries(users);
}

/** A CURVE client key given to configureCurve(), as Z85 text; EINVAL naming it if it is not a 32-byte key. */
function clientKeyText(key: unknown, index: number): string {
  const what = `configureCurve(): key ${index} (${describeValue(key)})`;
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new ZmqError('EINVAL', `${what} has ${key.length} bytes; a CURVE public key has 32 (or 40 characters of Z85)`);
    return z85Encode(key);
  }
  if (typeof key === 'string') {
    if (key.length !== 40) throw new ZmqError('EINVAL', `${what} has ${key.length} characters; a CURVE public key in Z85 has 40 (or is 32 bytes)`);
    try {
      z85Decode(key);
    } catch (e) {
      throw new ZmqError('EINVAL', `${what} is not Z85: ${(e as Error).message}`);
    }
    return key;
  }
  throw new ZmqError('EINVAL', `${what} is not a CURVE public key: give 40 characters of Z85 or 32 bytes`);
}

/** What kind of value `v` is, without showing it (it may be a secret). */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'bytes';
  const t = typeof v;
  return t === 'object' ? 'an object' : `a ${t}`;
}

/** Whether two byte strings are equal, in a time that does not depend on where they differ. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
