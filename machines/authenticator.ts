// The ZAP handler (RFC 27, PROTOCOL.md §12) as a statechart: who may connect, by address, PLAIN user
// or CURVE public key, as pyzmq's `zmq.auth` judges. Binding, reading and replying are effects the
// runtime provides (src/socket/authenticator.ts). No password ever reaches it, only whether one matched.
// Its address lists grow in place (AuthenticatorContext.allow): a snapshot shares them with later ones,
// and exploring it down several paths from one snapshot goes through forkable.ts.

import { assign, setup } from 'xstate';

/** The only ZAP version there is (RFC 27). */
export const ZAP_VERSION = '1.0';

/** A ZAP status code (RFC 27): 200 OK, 300 temporary failure, 400 refused, 500 internal error. */
export type ZapStatus = '200' | '300' | '400' | '500';

/** What the machine keeps: its configuration and counters, plain JSON (no secret, no bytes). */
export interface AuthenticatorContext {
  /** The only ZAP domain judged; `*`: every domain. Requests for another domain are refused. */
  domain: string;
  /**
   * Addresses that may connect; when not empty, every other address is refused. `allow()` adds to
   * this array in place (as `deny()` to `deny`): one array for the machine's life, not a copy per
   * call, so a snapshot taken earlier shows the addresses added since.
   */
  allow: string[];
  /** Addresses refused; consulted only while `allow` is empty (as pyzmq does). */
  deny: string[];
  /** The PLAIN usernames (their passwords stay in the runtime), or null when PLAIN is not configured. */
  plainUsers: string[] | null;
  /** CURVE client public keys as Z85 text, `any`, or null when CURVE is not configured. */
  curveKeys: string[] | 'any' | null;
  /** Requests answered 200. */
  accepted: number;
  /** Requests answered 300, 400 or 500. */
  refused: number;
}

/** What the machine starts with. */
export interface AuthenticatorInput {
  /** The only ZAP domain to judge; `*` or omitted: every domain. */
  domain?: string;
}

/**
 * A ZAP request as the runtime reports it: its text frames, and in place of credentials what the
 * runtime found out about them. A PLAIN password never travels here, only `passwordOk`.
 */
export interface ZapRequestFacts {
  /** The version frame (`1.0` is the only one there is). */
  version: string;
  /** How many frames came after the empty delimiter: 6 (version to mechanism) plus the credentials. */
  frames: number;
  domain: string;
  /** The peer's address (its IP as text for tcp). */
  address: string;
  /** `NULL`, `PLAIN`, `CURVE`, or whatever the request named. */
  mechanism: string;
  /** PLAIN with both credentials: the username. */
  username?: string;
  /** PLAIN with both credentials: whether the password is the one configured for `username`. */
  passwordOk?: boolean;
  /** CURVE with one 32-byte credential: the client's public key as Z85 text. */
  clientKey?: string;
}

/** The answer to one ZAP request: the reply's status, status text and user id frames. */
export interface ZapVerdict {
  status: ZapStatus;
  statusText: string;
  /** Becomes the `User-Id` property of the peer's messages: the PLAIN username, the CURVE key as Z85, `anonymous` for NULL. */
  userId: string;
}

/** What the machine hears: commands from the Authenticator's methods, facts from its ZAP socket. */
export type AuthenticatorEvent =
  /** Bind the ZAP endpoint and serve it. */
  | { type: 'start' }
  | { type: 'bind.succeeded' }
  | { type: 'bind.failed'; code: string; message: string }
  /** Stop serving: close the ZAP socket, then end. */
  | { type: 'stop' }
  | { type: 'router.closed' }
  | ({ type: 'zap.requested' } & ZapRequestFacts)
  | { type: 'allow'; addresses: string[] }
  | { type: 'deny'; addresses: string[] }
  /** The PLAIN users, by name only: replaces the table. */
  | { type: 'configure.plain'; users: string[] }
  /** The CURVE client keys (Z85) or `any`: replaces the set. */
  | { type: 'configure.curve'; keys: string[] | 'any' };

/** Why a `start` is refused: this authenticator already started, or is stopping. */
export interface RefuseStartParams {
  reason: 'started' | 'stopping';
}

type Ev<T extends AuthenticatorEvent['type']> = Extract<AuthenticatorEvent, { type: T }>;

const ok = (userId: string): ZapVerdict => ({ status: '200', statusText: 'OK', userId });
const refused = (statusText: string): ZapVerdict => ({ status: '400', statusText, userId: '' });
const failed = (statusText: string): ZapVerdict => ({ status: '500', statusText, userId: '' });

// ---- the rules

/**
 * Why an address may not connect, or undefined when it may: with an allow list, only its addresses
 * pass; without one, every address but those of the deny list (pyzmq `Authenticator.handle_zap_message`).
 */
export function addressRefusal(allow: readonly string[], deny: readonly string[], address: string): string | undefined {
  if (allow.length > 0) return members(allow).has(address) ? undefined : 'Address is not allowed';
  return members(deny).has(address) ? 'Address is denied' : undefined;
}

/** Each list's Set, made at its first lookup (see members). */
const memberSets = /* @__PURE__ */ new WeakMap<readonly string[], Set<string>>();

/**
 * A list of the context as a Set, for lookups that cost the same with 10 entries or 100,000 (a
 * request is judged against every CURVE key or address configured). Made once per list, at its
 * first lookup. The actions replace the user and key lists, never change one; they add to the
 * address lists in place, and to their Sets with them ({@link addMembers}), so a Set stays right.
 */
function members(list: readonly string[]): Set<string> {
  let set = memberSets.get(list);
  if (set === undefined) memberSets.set(list, (set = new Set(list)));
  return set;
}

/**
 * The answer to a ZAP request. A request that cannot be read (a version other than 1.0, frames
 * missing, credentials of the wrong count or size) gets 500; one for another domain, from an
 * address that may not connect, for a mechanism not configured or unknown, or with credentials
 * that do not match gets 400; else 200, with the user id: the PLAIN username, the CURVE key as Z85,
 * `anonymous` for NULL (as pyzmq and libzmq's test handlers answer).
 */
export function zapVerdict(context: AuthenticatorContext, request: ZapRequestFacts): ZapVerdict {
  if (request.version !== ZAP_VERSION) return failed(`Unsupported ZAP version ${JSON.stringify(request.version)}; expected "1.0"`);
  if (request.frames < 6) return failed(`Malformed request: ${request.frames} frames after the delimiter; a request has at least 6`);
  if (context.domain !== '*' && request.domain !== context.domain) return refused(`Unknown domain ${JSON.stringify(request.domain)}`);
  const addressProblem = addressRefusal(context.allow, context.deny, request.address);
  if (addressProblem !== undefined) return refused(addressProblem);
  switch (request.mechanism) {
    case 'NULL':
      if (request.frames !== 6) return failed('Malformed request: NULL has no credentials');
      return ok('anonymous');
    case 'PLAIN':
      if (request.frames !== 8 || request.username === undefined) return failed('Malformed request: PLAIN has 2 credentials, a username and a password');
      if (context.plainUsers === null) return refused('PLAIN is not configured');
      if (!members(context.plainUsers).has(request.username)) return refused('Unknown user');
      if (request.passwordOk !== true) return refused('Wrong password');
      return ok(request.username);
    case 'CURVE':
      if (request.frames !== 7 || request.clientKey === undefined) return failed('Malformed request: CURVE has 1 credential, a 32-byte public key');
      if (context.curveKeys === null) return refused('CURVE is not configured');
      if (context.curveKeys !== 'any' && !members(context.curveKeys).has(request.clientKey)) return refused('Unknown key');
      return ok(request.clientKey);
    default:
      return refused(`Mechanism ${JSON.stringify(request.mechanism)} is not supported`);
  }
}

/**
 * Adds to `list`, in place, those of `more` it does not hold yet, each once, in the order first
 * given; returns `list`. A call costs the length of `more`, however long the list: 32,000 `allow()`
 * calls of one address each copied the list, and made its Set, at every call (51 s).
 */
function addMembers(list: string[], more: readonly string[]): string[] {
  const have = members(list);
  for (const item of more) {
    if (have.has(item)) continue;
    have.add(item);
    list.push(item);
  }
  return list;
}

const verdictOf = ({ context, event }: { context: AuthenticatorContext; event: AuthenticatorEvent }): ZapVerdict =>
  zapVerdict(context, event as Ev<'zap.requested'>);

/** The `reply` effect with the verdict on the request at hand. */
const reply = { type: 'reply', params: verdictOf } as const;

/**
 * A ZAP handler: idle until started, then it binds `inproc://zeromq.zap.01` (the runtime's `bind`),
 * answers each request (`reply`, with the verdict of {@link zapVerdict}) while running, and ends once
 * stopped. Configuration (`allow`, `deny`, `configure.plain`, `configure.curve`) is taken in any state.
 */
export const authenticatorMachine = /* @__PURE__ */ setup({
  types: {
    context: {} as AuthenticatorContext,
    events: {} as AuthenticatorEvent,
    input: {} as AuthenticatorInput | undefined,
  },
  guards: {
    isAccepted: (args) => verdictOf(args).status === '200',
  },
  actions: {
    addAllowed: assign({ allow: ({ context, event }) => addMembers(context.allow, (event as Ev<'allow'>).addresses) }),
    addDenied: assign({ deny: ({ context, event }) => addMembers(context.deny, (event as Ev<'deny'>).addresses) }),
    setPlainUsers: assign({ plainUsers: ({ event }) => [...(event as Ev<'configure.plain'>).users] }),
    setCurveKeys: assign({
      curveKeys: ({ event }) => {
        const keys = (event as Ev<'configure.curve'>).keys;
        return keys === 'any' ? 'any' : [...keys];
      },
    }),
    countAccepted: assign({ accepted: ({ context }) => context.accepted + 1 }),
    countRefused: assign({ refused: ({ context }) => context.refused + 1 }),
    // Effects, provided by the runtime.
    /** Binds the ZAP endpoint; the runtime answers `bind.succeeded` or `bind.failed`. */
    bind: () => {},
    /** The start() call that asked resolves. */
    confirmStart: () => {},
    /** The start() call that asked fails with the bind's error; the ZAP socket is closed. */
    reportBindFailure: () => {},
    /** A start() call is refused (EADDRINUSE: the endpoint is ours already; EFSM while stopping). */
    refuseStart: (_: unknown, _params: RefuseStartParams) => {},
    /** The start() call still waiting for its bind fails: stop came first. */
    abandonStart: () => {},
    /** Reads requests from the ZAP socket and tells them to the machine as `zap.requested`. */
    serve: () => {},
    /** Answers the request at hand with this verdict (echoing its routing id and request id). */
    reply: (_: unknown, _params: ZapVerdict) => {},
    /** Closes the ZAP socket; the runtime answers `router.closed` once it is released. */
    closeRouter: () => {},
  },
}).createMachine({
  id: 'authenticator',
  context: ({ input }) => ({
    domain: input?.domain ?? '*',
    allow: [],
    deny: [],
    plainUsers: null,
    curveKeys: null,
    accepted: 0,
    refused: 0,
  }),
  initial: 'idle',
  on: {
    allow: { actions: 'addAllowed' },
    deny: { actions: 'addDenied' },
    'configure.plain': { actions: 'setPlainUsers' },
    'configure.curve': { actions: 'setCurveKeys' },
  },
  states: {
    /** Configured, not serving: nothing is bound. */
    idle: {
      on: {
        start: 'starting',
        stop: 'stopped',
      },
    },
    /** Binding the ZAP endpoint. */
    starting: {
      entry: 'bind',
      on: {
        'bind.succeeded': { target: 'running', actions: 'confirmStart' },
        // Back to idle: a start may be tried again once the endpoint is free.
        'bind.failed': { target: 'idle', actions: 'reportBindFailure' },
        start: { actions: { type: 'refuseStart', params: { reason: 'started' } } },
        stop: { target: 'stopping', actions: 'abandonStart' },
      },
    },
    /** Bound: every request gets one reply. */
    running: {
      entry: 'serve',
      on: {
        'zap.requested': [
          { guard: 'isAccepted', actions: [reply, 'countAccepted'] },
          { actions: [reply, 'countRefused'] },
        ],
        start: { actions: { type: 'refuseStart', params: { reason: 'started' } } },
        stop: 'stopping',
      },
    },
    /** Closing the ZAP socket: the endpoint is free once it is released. */
    stopping: {
      entry: 'closeRouter',
      on: {
        'router.closed': 'stopped',
        start: { actions: { type: 'refuseStart', params: { reason: 'stopping' } } },
      },
    },
    stopped: { type: 'final' },
  },
});
