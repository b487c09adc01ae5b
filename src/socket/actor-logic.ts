// Actor logic for embedding sockets in a user's XState machine: `invoke` or `spawnChild` a socket,
// send it commands as events, hear its messages as events. It drives the socket's public API only,
// and xstate's public API only (users share xstate with their own machines and upgrade it).

import { fromCallback } from 'xstate';
import type { ActorLogic, ActorRef, ActorSystem, AnyActorRef, CallbackSnapshot, EventObject, Snapshot } from 'xstate';
import { ZmqError } from '../core/errors.js';
import type { MessageInput, ReceivedFrame } from '../core/frame.js';
import { Dealer, Router } from './dealer-router.js';
import { Pair } from './pair.js';
import { Publisher, Subscriber, XPublisher, XSubscriber } from './pub-sub.js';
import { Pull, Push } from './push-pull.js';
import { Reply, Request } from './request-reply.js';
import type { Socket, SocketOptionsInput } from './socket.js';

// xstate does not export its AnyActorSystem.
type AnyActorSystem = ActorSystem<any>;

/** A socket class: `Push`, `Reply`, `Subscriber`, … */
export type SocketClass<TSocket extends Socket = Socket, TOptions extends SocketOptionsInput = SocketOptionsInput> = new (options?: TOptions) => TSocket;

/** What a socket actor is started with: the socket's options and where it binds and connects. */
export interface SocketActorInput<TOptions extends SocketOptionsInput = SocketOptionsInput> {
  /** The options of the socket's constructor, `context` included (inproc names are per Context). */
  options?: TOptions;
  /** Endpoints to bind, in order (`inproc://jobs`, `tcp://127.0.0.1:*`, …). */
  bind?: readonly string[];
  /** Endpoints to connect to, after the binds. */
  connect?: readonly string[];
}

/** Sends one message (a frame or an array of frames); messages leave in the order they were sent. */
export interface SocketSendCommand {
  type: 'send';
  message: MessageInput;
}

/** Closes the socket (lingering as its `linger` option says); the actor is then done. */
export interface SocketCloseCommand {
  type: 'close';
}

/** For sockets with topics (`Subscriber`): no topics means every message. */
export interface SocketSubscribeCommand {
  type: 'subscribe' | 'unsubscribe';
  topics?: readonly (string | Uint8Array)[];
}

/** The events a socket actor takes. `subscribe`/`unsubscribe` exist for socket classes that have them. */
export type SocketActorCommand<TSocket extends Socket = Socket> =
  | SocketSendCommand
  | SocketCloseCommand
  | ('subscribe' extends keyof TSocket ? SocketSubscribeCommand : never);

/** A message arrived. `actorId` is the id the parent gave the socket actor (its `invoke` id). */
export interface ZmqMessageEvent {
  type: 'zmq.message';
  actorId: string;
  /**
   * The frames: Buffers on Node, Uint8Arrays in a browser. Over inproc, frames over 128 bytes may be
   * the very objects the peer sent (smaller ones are copied at send, as zeromq.js does); treat them
   * as read-only.
   */
  frames: ReceivedFrame[];
}

/** A `send` command completed: the message is queued to a peer (sends complete in command order). */
export interface ZmqSentEvent {
  type: 'zmq.sent';
  actorId: string;
}

/** Every bind completed and every connect was started. `endpoints` are the binds, resolved (real tcp ports). */
export interface ZmqReadyEvent {
  type: 'zmq.ready';
  actorId: string;
  endpoints: string[];
}

/** A send or receive failed (EFSM, EAGAIN after a timeout, ENOTSUP, …); the socket goes on. */
export interface ZmqErrorEvent {
  type: 'zmq.error';
  actorId: string;
  operation: 'send' | 'receive' | 'subscribe' | 'unsubscribe';
  error: ZmqError;
}

/**
 * What a socket actor tells its parent (and emits, for `actor.on(…)`). Add it to your machine's
 * events: `types: { events: {} as MyEvent | SocketActorEvent }`.
 */
export type SocketActorEvent = ZmqMessageEvent | ZmqSentEvent | ZmqReadyEvent | ZmqErrorEvent;

/** The socket actor's snapshot: plain JSON (no socket, no frames), so inspectors can show it. */
export type SocketActorSnapshot = Snapshot<undefined> & {
  context: {
    /** The class, as zeromq.js names it (`Push`, `Reply`, …). */
    socketClass: string;
    /** The socket's process-unique id (`socket-<id>` is its own actor's systemId), null before start. */
    socketId: number | null;
    /** The resolved bind endpoints, once bound. */
    endpoints: string[];
  };
};

/** The actor logic of one socket class. */
export type SocketActorLogic<TSocket extends Socket = Socket, TOptions extends SocketOptionsInput = SocketOptionsInput> = ActorLogic<
  SocketActorSnapshot,
  SocketActorCommand<TSocket>,
  SocketActorInput<TOptions>,
  AnyActorSystem,
  SocketActorEvent
>;

/**
 * Actor logic for a socket class, to `invoke` or `spawnChild` inside your own machine. The socket
 * is made when the actor starts and closed when it stops (its state is left, or it is sent `close`).
 *
 * - input: `{ options?, bind?, connect? }`
 * - takes: `{ type: 'send', message }`, `{ type: 'close' }`, and for subscribers
 *   `{ type: 'subscribe' | 'unsubscribe', topics? }`
 * - tells its parent: `zmq.message` (one per message received), `zmq.sent`, `zmq.ready`, `zmq.error`
 *   (see {@link SocketActorEvent}), and emits the same events for `actor.on(…)`
 * - is done (the parent's `onDone`) after `close`; fails (the parent's `onError`) when the socket
 *   cannot be made, bound or connected.
 *
 * Each received message is one XState event to the parent: right for control traffic; for bulk
 * streams use the socket directly (see {@link socketOf}).
 *
 * ```ts
 * const server = setup({
 *   types: { events: {} as SocketActorEvent },
 *   actors: { reply: socketActor(Reply) },
 * }).createMachine({
 *   invoke: { id: 'rep', src: 'reply', input: { bind: ['inproc://echo'] } },
 *   on: {
 *     'zmq.message': { actions: sendTo('rep', ({ event }) => ({ type: 'send', message: event.frames })) },
 *   },
 * })
 * ```
 */
export function socketActor<TSocket extends Socket, TOptions extends SocketOptionsInput>(
  SocketClass: SocketClass<TSocket, TOptions>,
): SocketActorLogic<TSocket, TOptions> {
  const known = logics.get(SocketClass as never);
  if (known !== undefined) return known as never;
  const logic = makeLogic(SocketClass as unknown as SocketClass);
  logics.set(SocketClass as never, logic as never);
  return logic as never;
}

/**
 * The socket behind a running socket actor (for `lastEndpoint`, `events`, options, or a bulk
 * stream), or undefined if the actor is not a started socket actor or has stopped.
 */
export function socketOf<TSocket extends Socket = Socket>(actor: ActorRef<SocketActorSnapshot, never, never> | AnyActorRef | undefined): TSocket | undefined {
  if (actor === undefined) return undefined;
  const r = running.get(actor as AnyActorRef);
  return r === undefined || r.over ? undefined : (r.socket as TSocket);
}

const logics = new WeakMap<SocketClass<Socket, never>, SocketActorLogic<Socket, never>>();
/** Each socket actor's input, kept aside until it starts: a snapshot stays JSON, and the input may hold a Context. */
const inputs = new WeakMap<AnyActorRef, SocketActorInput>();
/** Each started socket actor's IO, until it ends. */
const running = new WeakMap<AnyActorRef, Running>();

/** What a socket actor sends itself from its promises, so that its snapshot changes through transitions. */
type InternalEvent =
  | { type: '@monocoque.started'; socketId: number }
  | { type: '@monocoque.ready'; endpoints: string[] }
  | { type: '@monocoque.failed'; error: unknown };

/** The snapshot as the callback logic inside sees it (its `input` stays undefined: see `inputs`). */
type Snap = SocketActorSnapshot & CallbackSnapshot<undefined>;

/**
 * The logic of one socket class: xstate's callback actor logic (`fromCallback`) given a context and
 * two ends. Its documented parts carry everything the socket actor needs of xstate: `sendBack`
 * tells the parent (xstate relays it, so inspectors see the socket actor as the event's source;
 * with no parent it does nothing), `emit` tells `actor.on()` listeners, and its cleanup runs when
 * the actor is stopped. Around it, this logic keeps the snapshot's context (socket id, endpoints)
 * and adds the ends a callback actor lacks: `done` after `close`, `error` when the socket cannot be
 * opened (ending an actor through its snapshot's status is the `ActorLogic` contract).
 *
 * A socket actor as a machine (`setup()`, a callback child, `sendParent` and `emit`) was measured
 * too: two macrosteps per message instead of one (about twice the cost per message delivered), and
 * `sendParent` fails a machine that has no parent, where `createActor(pullActor).on(…)` must work.
 */
function makeLogic(SocketClass: SocketClass): SocketActorLogic {
  const callback = fromCallback<EventObject, undefined, SocketActorEvent>(({ self, sendBack, emit }) => {
    const input = inputs.get(self) ?? {};
    inputs.delete(self);
    // A throw here (bad options) fails the actor at once: xstate reports it to the parent.
    if (input.options?.receiveTimeout === 0) {
      throw new ZmqError('EINVAL', `${SocketClass.name} actor: receiveTimeout 0 would make its receive loop spin; use -1 (wait) or a positive timeout`);
    }
    const socket = new SocketClass(input.options);
    const r: Running = {
      socket,
      self,
      tell: (event) => {
        sendBack(event);
        emit(event);
      },
      over: false,
      sent: 0,
      wake: undefined,
    };
    running.set(self, r);
    const started: InternalEvent = { type: '@monocoque.started', socketId: socket.id };
    self.send(started);
    void open(r, input);
    void receiveLoop(r);
    return () => finish(r);
  });

  const logic: ActorLogic<Snap, EventObject, SocketActorInput, AnyActorSystem, SocketActorEvent> = {
    config: SocketClass,
    getInitialSnapshot: (scope, input) => {
      // No socket yet: an actor that is only created (xstate/graph walks machines without starting
      // them) makes none.
      if (input !== undefined) inputs.set(scope.self as AnyActorRef, input);
      return {
        ...callback.getInitialSnapshot(scope as never, undefined),
        context: { socketClass: SocketClass.name, socketId: null, endpoints: [] },
      };
    },
    start: (snapshot, scope) => callback.start?.(snapshot, scope as never),
    transition: (snapshot, event, scope) => {
      if (snapshot.status !== 'active') return snapshot;
      const r = running.get(scope.self as AnyActorRef);
      const e = event as SocketActorCommand<{ subscribe(): void } & Socket> | InternalEvent;
      switch (e.type) {
        case 'send':
          if (r !== undefined && !r.over) sendMessage(r, e.message);
          return snapshot;
        case 'subscribe':
        case 'unsubscribe':
          if (r !== undefined && !r.over) subscription(r, e);
          return snapshot;
        case 'close':
          finish(r);
          return { ...snapshot, status: 'done', output: undefined };
        case '@monocoque.started':
          return { ...snapshot, context: { ...snapshot.context, socketId: e.socketId } };
        case '@monocoque.ready':
          return { ...snapshot, context: { ...snapshot.context, endpoints: e.endpoints } };
        case '@monocoque.failed':
          finish(r);
          return { ...snapshot, status: 'error', error: e.error };
        default: {
          // Anything else is the callback logic's: xstate's stop ends in its cleanup (`finish`).
          const next = callback.transition(snapshot, event, scope as never);
          return next === snapshot ? snapshot : { ...next, context: snapshot.context };
        }
      }
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
  return logic as unknown as SocketActorLogic;
}

interface Running {
  socket: Socket;
  /** The socket actor (its `id` is the one its parent gave it). */
  self: AnyActorRef;
  /** To the parent, and to `actor.on()` listeners. */
  tell: (event: SocketActorEvent) => void;
  over: boolean;
  /** Sends completed so far: a receive refused with EFSM is retried once one more has completed. */
  sent: number;
  /** Resolves the receive loop parked on EFSM (REQ before its request, REP before its reply). */
  wake: (() => void) | undefined;
}

async function open(r: Running, input: SocketActorInput): Promise<void> {
  const endpoints: string[] = [];
  try {
    for (const address of input.bind ?? []) {
      await r.socket.bind(address);
      endpoints.push(r.socket.lastEndpoint ?? address);
    }
    for (const address of input.connect ?? []) r.socket.connect(address);
  } catch (error) {
    if (!r.over) r.self.send({ type: '@monocoque.failed', error } satisfies InternalEvent);
    return;
  }
  if (r.over) return;
  r.self.send({ type: '@monocoque.ready', endpoints } satisfies InternalEvent);
  r.tell({ type: 'zmq.ready', actorId: r.self.id, endpoints });
}

function sendMessage(r: Running, message: MessageInput): void {
  r.socket.send(message).then(
    () => {
      r.sent++;
      if (!r.over) r.tell({ type: 'zmq.sent', actorId: r.self.id });
      // A REQ may now receive its reply, a REP its next request.
      const wake = r.wake;
      r.wake = undefined;
      wake?.();
    },
    (error: unknown) => {
      if (!r.over) r.tell({ type: 'zmq.error', actorId: r.self.id, operation: 'send', error: asZmqError(error) });
    },
  );
}

function subscription(r: Running, e: SocketSubscribeCommand): void {
  const method = (r.socket as unknown as Record<string, unknown>)[e.type];
  try {
    if (typeof method !== 'function') throw new ZmqError('ENOTSUP', `${e.type} on a ${r.socket.type} socket: only subscriber sockets take topics`);
    (method as (...topics: (string | Uint8Array)[]) => void).apply(r.socket, [...(e.topics ?? [])]);
  } catch (error) {
    r.tell({ type: 'zmq.error', actorId: r.self.id, operation: e.type, error: asZmqError(error) });
  }
}

/**
 * Receives until the socket closes, one event to the parent per message. ENOTSUP (a type that never
 * receives) ends the loop quietly; EFSM (not our turn: REQ before its request, REP before its
 * reply) parks it until our next send completes.
 */
async function receiveLoop(r: Running): Promise<void> {
  while (!r.over) {
    let frames: Buffer[];
    const sentBefore = r.sent;
    try {
      frames = await r.socket.receive();
    } catch (error) {
      if (r.over || r.socket.closed) return;
      const code = (error as { code?: unknown }).code;
      if (code === 'ENOTSUP') return;
      if (code === 'EFSM') {
        // Our turn comes with our next completed send (unless one completed since we asked).
        if (r.sent === sentBefore) await new Promise<void>((resolve) => (r.wake = resolve));
        continue;
      }
      r.tell({ type: 'zmq.error', actorId: r.self.id, operation: 'receive', error: asZmqError(error) });
      continue;
    }
    if (!r.over) r.tell({ type: 'zmq.message', actorId: r.self.id, frames });
  }
}

/** Ends the IO: on `close`, on a failure, or (through the callback's cleanup) when the actor stops. */
function finish(r: Running | undefined): void {
  if (r === undefined || r.over) return;
  r.over = true;
  running.delete(r.self);
  r.socket.close();
  const wake = r.wake;
  r.wake = undefined;
  wake?.();
}

function asZmqError(error: unknown): ZmqError {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') return error as ZmqError;
  return new ZmqError('EINVAL', error instanceof Error ? error.message : String(error), { cause: error });
}

/** PUSH as an actor (see {@link socketActor}). */
export const pushActor = socketActor(Push);
/** PULL as an actor (see {@link socketActor}). */
export const pullActor = socketActor(Pull);
/** PAIR as an actor (see {@link socketActor}). */
export const pairActor = socketActor(Pair);
/** REQ as an actor: receives only the reply to its last request (see {@link socketActor}). */
export const requestActor = socketActor(Request);
/** REP as an actor: answer each `zmq.message` with one `send` (see {@link socketActor}). */
export const replyActor = socketActor(Reply);
/** DEALER as an actor (see {@link socketActor}). */
export const dealerActor = socketActor(Dealer);
/** ROUTER as an actor: frames start with the peer's routing id (see {@link socketActor}). */
export const routerActor = socketActor(Router);
/** PUB as an actor (see {@link socketActor}). */
export const publisherActor = socketActor(Publisher);
/** SUB as an actor: takes `subscribe` / `unsubscribe` events (see {@link socketActor}). */
export const subscriberActor = socketActor(Subscriber);
/** XPUB as an actor: subscriptions arrive as messages (see {@link socketActor}). */
export const xpublisherActor = socketActor(XPublisher);
/** XSUB as an actor: send subscriptions as messages (see {@link socketActor}). */
export const xsubscriberActor = socketActor(XSubscriber);
