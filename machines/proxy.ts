// The steerable proxy (libzmq `proxy.cpp`, zmq_proxy_steerable; zeromq.js `Proxy`) as a statechart:
// idle until run, forwarding both ways while running, holding while paused, then terminated for good.
// Pure: receiving, sending, capturing and counting are the runtime's (src/socket/proxy.ts), never here.

import { assign, setup } from 'xstate';

/** A socket of a proxy, as its events and errors name it. */
export type ProxySide = 'frontEnd' | 'backEnd' | 'capture';

/**
 * How a socket stands when `run` is asked: bound or connected (`ready`), neither bound nor
 * connected (`unattached`), or closed.
 */
export type SocketReadiness = 'ready' | 'unattached' | 'closed';

/** Why a proxy ended other than by `terminate`: which socket, and the error it gave. */
export interface ProxyFailure {
  side: ProxySide;
  code: string;
  message: string;
}

/** What the machine keeps: the sockets' types, which ways messages go, and why it failed. Plain JSON. */
export interface ProxyContext {
  /** The front-end socket's type (`ROUTER`, `XSUB`, …). */
  frontEnd: string;
  /** The back-end socket's type (`DEALER`, `XPUB`, …). */
  backEnd: string;
  /** The capture socket's type, or null without one. */
  capture: string | null;
  /** Whether messages go from the front-end to the back-end (see {@link forwards}). */
  toBackEnd: boolean;
  /** Whether messages go from the back-end to the front-end; never when both are one socket. */
  toFrontEnd: boolean;
  /** Set when a socket was closed under the proxy or failed it; null otherwise. */
  failure: ProxyFailure | null;
}

/** What the machine starts with: the sockets' types. */
export interface ProxyInput {
  frontEnd: string;
  backEnd: string;
  capture?: string | null;
  /** The front-end and the back-end are one socket (libzmq allows it): messages go one way only. */
  sameSocket?: boolean;
}

/** What the machine hears: commands from the Proxy's methods, facts from its sockets. */
export type ProxyEvent =
  /** Start proxying; the facts are how each socket stands now. */
  | { type: 'run'; frontEnd: SocketReadiness; backEnd: SocketReadiness; capture: SocketReadiness | null }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'terminate' }
  /** A socket of the proxy was closed while it ran (or was paused). */
  | { type: 'socket.closed'; side: ProxySide }
  /** A receive or send of the proxy failed with an error other than a close or a timeout. */
  | { type: 'forward.failed'; side: ProxySide; code: string; message: string };

/** Why a `run` is refused: a socket not ready, the proxy running already, or ended. */
export type RunRefusal =
  | { reason: 'socket'; side: ProxySide; readiness: Exclude<SocketReadiness, 'ready'> }
  | { reason: 'running' }
  | { reason: 'terminated' };

/** Why a `pause`, `resume` or `terminate` is refused: the proxy has not run yet, or has ended. */
export interface RefuseCommandParams {
  command: 'pause' | 'resume' | 'terminate';
  reason: 'idle' | 'terminated';
}

/** Where the proxy is in its life, as {@link runRefusal} weighs a `run`. */
export type ProxyPhase = 'idle' | 'running' | 'paused' | 'terminated';

type Ev<T extends ProxyEvent['type']> = Extract<ProxyEvent, { type: T }>;

/** Socket types that never receive a message (RFC 30 PUSH, RFC 29 PUB). */
const NEVER_RECEIVE: ReadonlySet<string> = new Set(['PUSH', 'PUB']);
/** Socket types that never send a message (RFC 30 PULL, RFC 29 SUB). */
const NEVER_SEND: ReadonlySet<string> = new Set(['PULL', 'SUB']);
/** What libzmq's zmq_proxy(3) names for a capture socket, and XPUB, which publishes as PUB does. */
const CAPTURE_TYPES: ReadonlySet<string> = new Set(['PUB', 'XPUB', 'DEALER', 'PUSH', 'PAIR']);

// ---- the rules

/** Whether a socket of this type ever receives messages: every type but PUSH and PUB. */
export function receivesMessages(type: string): boolean {
  return !NEVER_RECEIVE.has(type);
}

/** Whether a socket of this type ever sends messages: every type but PULL and SUB. */
export function sendsMessages(type: string): boolean {
  return !NEVER_SEND.has(type);
}

/**
 * Whether the proxy carries messages from a socket of type `from` to one of type `to`: only when
 * the first receives and the second sends (libzmq polls a PUSH for input and a PULL for output in
 * vain, so those ways stay quiet there too).
 */
export function forwards(from: string, to: string): boolean {
  return receivesMessages(from) && sendsMessages(to);
}

/** Whether a socket of this type may be a capture socket: PUB, XPUB, DEALER, PUSH or PAIR (zmq_proxy(3)). */
export function mayCapture(type: string): boolean {
  return CAPTURE_TYPES.has(type);
}

/**
 * Why a `run` is refused in this phase, or undefined when the proxy may start. The sockets come
 * first, front-end, back-end, capture (zeromq.js `proxy.cc` checks both before anything else, so a
 * terminated proxy, whose sockets are closed, answers as one whose sockets were never bound); then
 * the phase: a proxy runs once.
 */
export function runRefusal(facts: Omit<Ev<'run'>, 'type'>, phase: ProxyPhase): RunRefusal | undefined {
  for (const side of ['frontEnd', 'backEnd', 'capture'] as const) {
    const readiness = facts[side];
    if (readiness !== null && readiness !== 'ready') return { reason: 'socket', side, readiness };
  }
  if (phase === 'running' || phase === 'paused') return { reason: 'running' };
  if (phase === 'terminated') return { reason: 'terminated' };
  return undefined;
}

/** The `refuseRun` effect with the refusal of this phase. */
const refuseRunIn = (phase: ProxyPhase) =>
  ({ type: 'refuseRun', params: ({ event }: { event: ProxyEvent }) => runRefusal(event as Ev<'run'>, phase) as RunRefusal }) as const;

/** The `refuseCommand` effect for a command the phase does not take. */
const refuse = (command: RefuseCommandParams['command'], reason: RefuseCommandParams['reason']) =>
  ({ type: 'refuseCommand', params: { command, reason } }) as const;

/** How a proxy that stops ends: the `finish` effect with its failure, if any. */
const finish = { type: 'finish', params: ({ context }: { context: ProxyContext }) => ({ failure: context.failure }) } as const;

/** While running or paused: what ends it. */
const ending = {
  terminate: { target: 'terminated' },
  'socket.closed': { target: 'terminated', actions: 'recordClosure' },
  'forward.failed': { target: 'terminated', actions: 'recordFailure' },
} as const;

/**
 * A proxy between a front-end and a back-end socket, and optionally a capture socket. `run` starts
 * it once both are bound or connected; `pause` holds every message where it is (in the sockets'
 * queues) until `resume`; `terminate`, a socket closed under it or a failed send or receive ends it
 * for good, and the runtime closes the front-end and back-end (as zeromq.js does).
 */
export const proxyMachine = /* @__PURE__ */ setup({
  types: {
    context: {} as ProxyContext,
    events: {} as ProxyEvent,
    input: {} as ProxyInput,
  },
  guards: {
    mayRun: ({ event }) => runRefusal(event as Ev<'run'>, 'idle') === undefined,
  },
  actions: {
    recordClosure: assign({
      failure: ({ event }) => {
        const { side } = event as Ev<'socket.closed'>;
        return { side, code: 'EBADF', message: 'closed while the proxy ran' };
      },
    }),
    recordFailure: assign({
      failure: ({ event }) => {
        const { side, code, message } = event as Ev<'forward.failed'>;
        return { side, code, message };
      },
    }),
    // Effects, provided by the runtime.
    /** The run() call that asked is the one to settle when the proxy ends; the runtime watches the sockets. */
    acceptRun: () => {},
    /** The run() call that asked fails: EINVAL for a socket not ready, EBUSY running, EBADF ended. */
    refuseRun: (_: unknown, _params: RunRefusal) => {},
    /** The pause(), resume() or terminate() call that asked throws EBADF (zeromq.js: no proxy runs). */
    refuseCommand: (_: unknown, _params: RefuseCommandParams) => {},
    /** Moves messages: each way receives a batch, sends it on (and to the capture socket), waits on both. */
    forward: () => {},
    /** Stops moving messages: waits on the sockets are withdrawn; a batch half sent keeps its rest for resume. */
    hold: () => {},
    /** Stops for good: closes the front-end and back-end, settles run() (rejects with the failure, if any). */
    finish: (_: unknown, _params: { failure: ProxyFailure | null }) => {},
  },
}).createMachine({
  id: 'proxy',
  context: ({ input }) => {
    const capture = input.capture ?? null;
    return {
      frontEnd: input.frontEnd,
      backEnd: input.backEnd,
      capture,
      toBackEnd: forwards(input.frontEnd, input.backEnd),
      toFrontEnd: input.sameSocket !== true && forwards(input.backEnd, input.frontEnd),
      failure: null,
    };
  },
  initial: 'idle',
  states: {
    /** Made, not started: the sockets are the user's to bind, connect and configure. */
    idle: {
      on: {
        run: [{ guard: 'mayRun', target: 'running', actions: 'acceptRun' }, { actions: refuseRunIn('idle') }],
        pause: { actions: refuse('pause', 'idle') },
        resume: { actions: refuse('resume', 'idle') },
        terminate: { actions: refuse('terminate', 'idle') },
      },
    },
    /** Messages move both ways (the ways the socket types allow), each as its receiver lets it. */
    running: {
      entry: 'forward',
      on: {
        run: { actions: refuseRunIn('running') },
        pause: 'paused',
        ...ending,
      },
    },
    /** Nothing moves: messages wait in the sockets' queues, and senders meet the HWM as usual. */
    paused: {
      entry: 'hold',
      on: {
        run: { actions: refuseRunIn('paused') },
        resume: 'running',
        ...ending,
      },
    },
    /** Ended for good, its front-end and back-end closed: every command is refused. */
    terminated: {
      entry: finish,
      on: {
        run: { actions: refuseRunIn('terminated') },
        pause: { actions: refuse('pause', 'terminated') },
        resume: { actions: refuse('resume', 'terminated') },
        terminate: { actions: refuse('terminate', 'terminated') },
      },
    },
  },
});
