// One tcp/ipc connection's life: connecting → handshaking (greeting, mechanism) → active ⇄ heartbeat →
// disconnected → waiting (reconnect backoff, connecting side only) → closed. The stream engine reports
// facts; this machine decides, and holds the timers (handshake deadline, heartbeats, backoff). Bytes,
// streams and pipes live in the runtime (src/transport/), which provides the effects named here.

import { assign, setup } from 'xstate';
import { NEXT_POLL_DELAY } from '../src/core/turn.js';

/** Who opened the stream: the connecting side reconnects, the accepting side ends with its stream. */
export type ConnectionRole = 'connect' | 'accept';

/** How a failure is reported, after zeromq.js's `handshake:error:*` events. */
export type FailureKind = 'protocol' | 'auth' | 'other' | 'connection';

/** The last thing that went wrong, as plain JSON (the inspector serialises context). */
export interface ConnectionFailure {
  kind: FailureKind;
  /** A ZeroMQ code (`ERR_ZMTP_*`, `EMSGSIZE`, `ETIMEDOUT`, `ECONNREFUSED`, …). */
  code: string;
  message: string;
  /** True when the failure happened before the handshake completed. */
  handshaking: boolean;
  /** The ZAP status of an authentication failure (ours refused the peer, or the peer's ERROR said so). */
  status?: number;
}

export interface ConnectionInput {
  role: ConnectionRole;
  /** The endpoint as bind/connect resolved it, e.g. `tcp://127.0.0.1:5555`. */
  endpoint: string;
  /** ZMQ_HANDSHAKE_IVL: ms from stream open to handshake completion; 0 = no limit. */
  handshakeInterval: number;
  /** ZMQ_HEARTBEAT_IVL: ms between PINGs; 0 = no heartbeats. */
  heartbeatInterval: number;
  /** ZMQ_HEARTBEAT_TIMEOUT: ms after a PING without any traffic before closing; -1 = the interval, 0 = never. */
  heartbeatTimeout: number;
  /** ZMQ_RECONNECT_IVL: base reconnect delay in ms; 0 or -1 = never reconnect (as libzmq). */
  reconnectInterval: number;
  /** ZMQ_RECONNECT_IVL_MAX: over 0, the delay doubles from the base up to this, without jitter; 0 = the base plus jitter. */
  reconnectMaxInterval: number;
  /** ZMQ_CONNECT_TIMEOUT: ms a connect attempt may take; 0 = the OS decides. */
  connectTimeout: number;
  /**
   * ZAP is on: a mechanism other than NULL, or a ZMQ_ZAP_DOMAIN (libzmq `session_base.cpp
   * zap_enabled`). libzmq then refuses a ZMTP 1.0/2.0 peer for good instead of speaking to it.
   */
  zap?: boolean;
  /**
   * Seed of the reconnect jitter. The pseudo-random sequence lives in context (a number), so the
   * machine stays pure, replayable and serialisable; the runtime seeds it from Math.random.
   */
  seed: number;
}

export interface ConnectionContext extends ConnectionInput {
  /** False once reconnecting was stopped (a lingering close) or a protocol error ended the session (not a peer that is not ZMTP 3 while ZAP is off: see speaksAnotherProtocol). */
  reconnecting: boolean;
  /** The interval the next wait starts from: the base, or with reconnectMaxInterval the last delay doubled, at most that maximum. */
  currentInterval: number;
  /** Milliseconds of the current or last wait before reconnecting (connect:retry reports it). */
  nextDelay: number;
  /** Connect attempts started (connecting side). */
  attempts: number;
  /** The peer speaks ZMTP 3.1 or later (PING/PONG, SUBSCRIBE/CANCEL commands). */
  zmtp31: boolean;
  /** The peer's Socket-Type, once the handshake succeeded. */
  peerType: string | undefined;
  /** The peer's Identity as hex, when it sent a non-empty one. */
  routingId: string | undefined;
  remoteAddress: string | undefined;
  /** The TTL (ms) the peer asked for in its last PING. */
  peerTtl: number;
  failure: ConnectionFailure | undefined;
}

/** Facts the stream engine and the transport report (past tense), and commands (imperative). */
export type ConnectionEvent =
  | { type: 'stream.opened'; remoteAddress?: string }
  | { type: 'stream.failed'; code: string; message: string }
  | { type: 'stream.closed' }
  | { type: 'greeting.received'; major: number; minor: number }
  /** A raw stream (a STREAM socket's) opened: no greeting, no mechanism, nothing to agree on. */
  | { type: 'raw.opened' }
  | { type: 'awaiting.hello' | 'awaiting.welcome' | 'awaiting.initiate' | 'awaiting.zap' | 'awaiting.ready' }
  | { type: 'handshake.succeeded'; peerType: string; routingId?: string }
  | { type: 'handshake.failed'; kind: 'protocol' | 'auth' | 'other'; code: string; message: string; status?: number }
  | { type: 'protocol.failed'; code: string; message: string }
  | { type: 'traffic.seen' }
  /**
   * Our PING left: the engine handed it to the stream. The PING timeout counts from here, not from
   * `sendPing` (the write comes later in the turn, or a turn later), as libzmq arms it when it
   * encodes the PING.
   */
  | { type: 'ping.sent' }
  | { type: 'peer.pinged'; ttl: number }
  | { type: 'close' }
  | { type: 'reconnect.stop' };

type Ev<T extends ConnectionEvent['type']> = Extract<ConnectionEvent, { type: T }>;

/**
 * One step of the reconnect backoff, as libzmq 4.3.5 computes it (`stream_connecter_base.cpp
 * get_new_reconnect_ivl`). `current` is the interval this step starts from: the base after a
 * connection, then what the step before returned as `next`.
 * - reconnectMaxInterval 0: the base plus a jitter below it, every time (`random` is in [0, 1)).
 * - reconnectMaxInterval over 0: no jitter; the interval, at most the maximum, doubles from one
 *   step to the next (so a maximum below the base is the delay every time).
 */
export function backoffStep(
  base: number,
  max: number,
  current: number,
  random: number,
): { delay: number; next: number } {
  if (max > 0) {
    const delay = Math.min(current, max);
    return { delay, next: Math.min(delay * 2, max) };
  }
  const jitter = base > 0 ? Math.floor(random * base) : 0;
  return { delay: Math.min(current + jitter, LONGEST_INTERVAL), next: current };
}

/** libzmq's intervals are C ints: INT_MAX ms, where it stops doubling or adding jitter. */
const LONGEST_INTERVAL = 2 ** 31 - 1;

/** mulberry32: a small PRNG whose whole state is one 32-bit number. Returns the value and the next state. */
export function nextRandom(seed: number): { value: number; seed: number } {
  const s = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(s ^ (s >>> 15), 1 | s);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, seed: s };
}

const failureOf = (kind: FailureKind, code: string, message: string, handshaking: boolean): ConnectionFailure => ({
  kind,
  code,
  message,
  handshaking,
});

export const connectionMachine = /* @__PURE__ */ setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
  },
  delays: {
    connectTimeout: ({ context }) => context.connectTimeout,
    handshakeLimit: ({ context }) => context.handshakeInterval,
    heartbeatInterval: ({ context }) => context.heartbeatInterval,
    heartbeatTimeout: ({ context }) => (context.heartbeatTimeout === -1 ? context.heartbeatInterval : context.heartbeatTimeout),
    peerTtl: ({ context }) => context.peerTtl,
    // After the I/O loop next polls for input: the clock makes this delay a setImmediate (keep-alive.ts).
    nextPoll: NEXT_POLL_DELAY,
    backoff: ({ context }) => context.nextDelay,
  },
  guards: {
    isConnecter: ({ context }) => context.role === 'connect',
    hasConnectTimeout: ({ context }) => context.connectTimeout > 0,
    hasHandshakeLimit: ({ context }) => context.handshakeInterval > 0,
    // libzmq sends PING to any peer; we only send to 3.1 peers, which know the command (PROTOCOL.md §9).
    sendsHeartbeats: ({ context }) => context.heartbeatInterval > 0 && context.zmtp31,
    hasTtl: ({ event }) => event.type === 'peer.pinged' && event.ttl > 0,
    // A greeting that is not ZMTP 3 (a ZMTP 1.0/2.0 peer, or another protocol: an HTTP server on that
    // port) is refused at once, as we speak no older version, but the connecting side tries again, as
    // libzmq does with ZAP off: it speaks the legacy version, so such a peer ends as a connection
    // error, which it retries. With ZAP on, libzmq refuses the legacy peer as a protocol error, which
    // ends the session, and so do we. The port may serve ZMTP 3 later.
    speaksAnotherProtocol: ({ context, event }) => !context.zap && event.type === 'handshake.failed' && event.code === 'ERR_ZMTP_UNSUPPORTED_VERSION',
    refusedForNow: ({ event }) => event.type === 'handshake.failed' && event.code === 'ERR_ZAP_REFUSED' && event.status === 300,
    waitedOutRefusal: ({ context }) => context.handshakeInterval > 0 && context.failure?.code === 'ERR_ZAP_REFUSED',
    // heartbeatTimeout 0 sends PINGs and never times them out (libzmq arms the timer only when it is over 0).
    timesPings: ({ context }) => context.heartbeatTimeout !== 0,
    // libzmq 4.3.5 retries only when ZMQ_RECONNECT_IVL is over 0: 0 and -1 both mean never.
    reconnects: ({ context }) => context.role === 'connect' && context.reconnecting && context.reconnectInterval > 0,
  },
  actions: {
    countAttempt: assign({ attempts: ({ context }) => context.attempts + 1 }),
    recordOpened: assign(({ context, event }) => ({
      remoteAddress: (event as Ev<'stream.opened'>).remoteAddress,
      // libzmq makes a fresh connecter after a connection, so the doubling starts again.
      currentInterval: context.reconnectInterval,
      failure: undefined,
    })),
    recordGreeting: assign({
      zmtp31: ({ event }) => {
        const e = event as Ev<'greeting.received'>;
        return e.major > 3 || e.minor >= 1;
      },
    }),
    recordPeer: assign(({ event }) => {
      const e = event as Ev<'handshake.succeeded'>;
      return { peerType: e.peerType, routingId: e.routingId };
    }),
    recordConnectFailure: assign({
      failure: ({ event }) => {
        const e = event as Ev<'stream.failed'>;
        return failureOf('connection', e.code, e.message, true);
      },
    }),
    recordConnectTimeout: assign({
      failure: ({ context }) =>
        failureOf('connection', 'ETIMEDOUT', `connect to ${context.endpoint} took longer than connectTimeout (${context.connectTimeout} ms)`, true),
    }),
    recordHandshakeFailure: assign(({ event }) => {
      const e = event as Ev<'handshake.failed'>;
      const failure = failureOf(e.kind, e.code, e.message, true);
      if (e.status !== undefined) failure.status = e.status;
      return { failure };
    }),
    recordHandshakeTimeout: assign({
      failure: ({ context }) =>
        failureOf('other', 'ETIMEDOUT', `the ZMTP handshake with ${context.endpoint} did not complete within handshakeInterval (${context.handshakeInterval} ms)`, true),
    }),
    recordHandshakeDrop: assign({
      failure: ({ context }) =>
        failureOf('other', 'ECONNRESET', `the peer at ${context.endpoint} closed the connection during the ZMTP handshake`, true),
    }),
    recordProtocolFailure: assign(({ event }) => {
      const e = event as Ev<'protocol.failed'>;
      return { failure: failureOf('protocol', e.code, e.message, false), reconnecting: false };
    }),
    recordDrop: assign({
      failure: ({ context }) => failureOf('connection', 'ECONNRESET', `the connection to ${context.endpoint} was closed`, false),
    }),
    recordHeartbeatTimeout: assign({
      failure: ({ context }) =>
        failureOf('connection', 'ETIMEDOUT', `no traffic from ${context.endpoint} within the heartbeat timeout after a PING`, false),
    }),
    recordTtlExpired: assign({
      failure: ({ context }) =>
        failureOf('connection', 'ETIMEDOUT', `no traffic from ${context.endpoint} within the ${context.peerTtl} ms TTL its PING asked for`, false),
    }),
    recordTtl: assign({ peerTtl: ({ event }) => (event.type === 'peer.pinged' ? event.ttl : 0) }),
    stopReconnecting: assign({ reconnecting: false }),
    planRetry: assign(({ context }) => {
      const r = nextRandom(context.seed);
      const step = backoffStep(context.reconnectInterval, context.reconnectMaxInterval, context.currentInterval, r.value);
      return { seed: r.seed, nextDelay: step.delay, currentInterval: step.next };
    }),
    // Effects, provided by the runtime.
    /** Starts a connect attempt (a new stream). */
    openStream: () => {},
    /** Ends the current stream at once, and detaches the peer (a kept pipe stays with the socket). */
    endStream: () => {},
    /** Attaches the handshaken peer to the socket and emits `handshake`. */
    attachPeer: () => {},
    /** Reports `context.failure` as a `handshake:error:*` event. */
    reportHandshakeFailure: () => {},
    /** Emits `connect:retry` with `context.nextDelay`. */
    reportRetry: () => {},
    /** Sends a PING (ttl from heartbeatTimeToLive); the engine reports `ping.sent` once it is written. */
    sendPing: () => {},
    /** Asks the engine to report the next received frame as `traffic.seen` (once). */
    watchTraffic: () => {},
    /**
     * Last words: closes the stream (letting written bytes out, unless `context.failure` says the
     * connection failed) and detaches what is left.
     */
    release: () => {},
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({
    ...input,
    reconnecting: true,
    currentInterval: input.reconnectInterval,
    nextDelay: 0,
    attempts: 0,
    zmtp31: false,
    peerType: undefined,
    routingId: undefined,
    remoteAddress: undefined,
    peerTtl: 0,
    failure: undefined,
  }),
  initial: 'starting',
  on: {
    close: '.closed',
    'reconnect.stop': { actions: 'stopReconnecting' },
  },
  states: {
    starting: {
      always: [{ guard: 'isConnecter', target: 'connecting' }, { target: 'handshaking' }],
    },
    /** A connect attempt is in progress (connect:delay). */
    connecting: {
      entry: ['countAttempt', 'openStream'],
      on: {
        'stream.opened': { target: 'handshaking', actions: 'recordOpened' },
        'stream.failed': { target: 'disconnected', actions: 'recordConnectFailure' },
      },
      after: {
        connectTimeout: { guard: 'hasConnectTimeout', target: 'disconnected', actions: 'recordConnectTimeout' },
      },
    },
    /** Greetings and the mechanism handshake, bounded by handshakeInterval. */
    handshaking: {
      initial: 'greeting',
      on: {
        'handshake.failed': [
          { guard: 'speaksAnotherProtocol', target: 'disconnected', actions: ['recordHandshakeFailure', 'reportHandshakeFailure'] },
          { guard: 'refusedForNow', target: '.refused', actions: ['recordHandshakeFailure', 'reportHandshakeFailure'] },
          // Any other failure ends the session for good (libzmq `session_base.cpp engine_error`).
          { target: 'closed', actions: ['recordHandshakeFailure', 'stopReconnecting', 'reportHandshakeFailure'] },
        ],
        'stream.closed': { target: 'disconnected', actions: ['recordHandshakeDrop', 'reportHandshakeFailure'] },
      },
      after: {
        handshakeLimit: [
          // The wait after a 300 ends as libzmq's does: the connection goes, with nothing more said.
          { guard: 'waitedOutRefusal', target: 'disconnected' },
          { guard: 'hasHandshakeLimit', target: 'disconnected', actions: ['recordHandshakeTimeout', 'reportHandshakeFailure'] },
        ],
      },
      // The mechanism's steps (NULL, PLAIN, CURVE): the engine reports what the mechanism waits for
      // next, and only the steps these mechanisms can take are edges here. Client: HELLO out, then
      // WELCOME, INITIATE out, READY. Server: HELLO, WELCOME out (CURVE) or ZAP first (PLAIN), then
      // INITIATE, ZAP (CURVE), READY out. NULL: READY both ways, ZAP first with a ZAP domain.
      states: {
        /** Our greeting is out; waiting for the peer's 64 octets. */
        greeting: {
          on: {
            'greeting.received': { target: 'starting', actions: 'recordGreeting' },
            // libzmq plugs a raw engine in at once (`raw_engine_t::plug_internal`): straight to
            // active, as a peer that is not ZMTP 3.1 (no heartbeats, as libzmq's raw engine sends none).
            'raw.opened': '#connection.active',
          },
        },
        /** Same mechanism on both sides; it takes its first step (a client's HELLO, NULL's READY). */
        starting: {
          on: { 'awaiting.hello': 'hello', 'awaiting.welcome': 'welcome', 'awaiting.ready': 'ready', 'awaiting.zap': 'zap' },
        },
        /** PLAIN/CURVE server: waiting for the client's HELLO (its credentials, or its CURVE proof). */
        hello: {
          on: { 'awaiting.zap': 'zap', 'awaiting.initiate': 'initiate' },
        },
        /** PLAIN/CURVE client: HELLO is out; waiting for WELCOME (or ERROR). */
        welcome: {
          on: { 'awaiting.ready': 'ready' },
        },
        /** PLAIN/CURVE server: WELCOME is out; waiting for INITIATE (the client's metadata, CURVE's vouch). */
        initiate: {
          on: {
            'awaiting.zap': 'zap',
            'handshake.succeeded': { target: '#connection.active', actions: 'recordPeer' },
          },
        },
        /** Server: waiting for the ZAP handler's verdict on the peer (RFC 27). */
        zap: {
          on: {
            'awaiting.initiate': 'initiate',
            'awaiting.ready': 'ready',
            'handshake.succeeded': { target: '#connection.active', actions: 'recordPeer' },
          },
        },
        /**
         * Our ZAP handler said 300 (try later): reported, nothing sent, and the connection is left
         * open and silent until handshakeInterval ends it (or the peer leaves), as libzmq does
         * (`zap_client.cpp`: a 300 goes straight to error_sent). The peer's retry waits that long,
         * rather than asking the handler again at every reconnectInterval.
         */
        refused: {
          on: { 'stream.closed': '#connection.disconnected' },
        },
        /** Our READY or INITIATE is out; waiting for the peer's READY. */
        ready: {
          on: { 'handshake.succeeded': { target: '#connection.active', actions: 'recordPeer' } },
        },
      },
    },
    /** Traffic flows through the pipes, without passing through this machine. */
    active: {
      type: 'parallel',
      entry: 'attachPeer',
      on: {
        'stream.closed': { target: 'disconnected', actions: 'recordDrop' },
        'protocol.failed': { target: 'closed', actions: 'recordProtocolFailure' },
      },
      states: {
        /** Sends a PING every heartbeatInterval (ZMQ_HEARTBEAT_IVL). */
        pinging: {
          initial: 'choosing',
          states: {
            choosing: { always: [{ guard: 'sendsHeartbeats', target: 'waiting' }, { target: 'off' }] },
            off: {},
            waiting: {
              after: { heartbeatInterval: { target: 'waiting', reenter: true, actions: 'sendPing' } },
            },
          },
        },
        /** After our PING is written, any frame from the peer must arrive within heartbeatTimeout. */
        pingTimeout: {
          initial: 'clear',
          states: {
            clear: { on: { 'ping.sent': { guard: 'timesPings', target: 'armed', actions: 'watchTraffic' } } },
            armed: {
              on: { 'traffic.seen': 'clear' },
              after: { heartbeatTimeout: 'lastLook' },
            },
            /**
             * The timeout has passed; the input already waiting is read before the verdict. When the
             * event loop was blocked for longer than the timeout, its timers run before it reads what
             * the peer sent meanwhile: without this look, a loaded process drops live peers.
             */
            lastLook: {
              on: { 'traffic.seen': 'clear' },
              after: { nextPoll: { target: '#connection.disconnected', actions: 'recordHeartbeatTimeout' } },
            },
          },
        },
        /** The peer's PING asked for traffic within its TTL (RFC 37 "PING"). */
        peerTtl: {
          initial: 'clear',
          states: {
            clear: { on: { 'peer.pinged': { guard: 'hasTtl', target: 'armed', actions: ['recordTtl', 'watchTraffic'] } } },
            armed: {
              on: { 'traffic.seen': 'clear' },
              after: { peerTtl: 'lastLook' },
            },
            /** The TTL has passed; as for our own timeout, what already waits is read first. */
            lastLook: {
              on: { 'traffic.seen': 'clear' },
              after: { nextPoll: { target: '#connection.disconnected', actions: 'recordTtlExpired' } },
            },
          },
        },
      },
    },
    /** The stream is gone; the connecting side waits and tries again, the accepting side is done. */
    disconnected: {
      entry: 'endStream',
      always: [{ guard: 'reconnects', target: 'waiting' }, { target: 'closed' }],
    },
    /** Backoff before the next attempt (connect:retry). */
    waiting: {
      entry: ['planRetry', 'reportRetry'],
      on: { 'reconnect.stop': { target: 'closed', actions: 'stopReconnecting' } },
      after: { backoff: 'connecting' },
    },
    closed: {
      type: 'final',
      entry: 'release',
    },
  },
});
