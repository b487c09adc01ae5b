// Actor logic for embedding sockets in a user's XState machine: `invoke` or `spawnChild` a socket,
// send it commands as events, hear its messages as events. It drives the socket's public API only;
// the socket's own machine and pipes are untouched (and inspected through its Context).

import type { ActorLogic, ActorRef, ActorScope, ActorSystem, AnyActorRef, EventObject, Snapshot } from 'xstate';
import { ZmqError } from '../core/errors.js';
import type { MessageInput } from '../core/frame.js';
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
  /** The frames: Buffers on Node, Uint8Arrays in a browser. Over inproc, the very objects the peer sent. */
  frames: Buffer[];
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

/** Internal events the actor sends itself from its promises, so its snapshot changes through transitions. */
type InternalEvent =
  | { type: '@monocoque.started'; socketId: number }
  | { type: '@monocoque.ready'; endpoints: string[] }
  | { type: '@monocoque.failed'; error: unknown };

interface Running {
  socket: Socket;
  scope: ActorScope<SocketActorSnapshot, EventObject, AnyActorSystem, SocketActorEvent>;
  over: boolean;
  /** Sends completed so far: a receive refused with EFSM is retried once one more has completed. */
  sent: number;
  /** Resolves the receive loop parked on EFSM (REQ before its request, REP before its reply). */
  wake: (() => void) | undefined;
}

const inputs = new WeakMap<AnyActorRef, SocketActorInput>();
const running = new WeakMap<AnyActorRef, Running>();
const logics = new WeakMap<SocketClass<Socket, never>, SocketActorLogic<Socket, never>>();

/**
 * Actor logic for a socket class, to `invoke` or `spawnChild` inside your own machine. The socket
 * is made when the actor starts and closed when it stops (its state is left, or it is sent `close`).
 *
 * - input: `{ options?, bind?, connect? }`
 * - takes: `{ type: 'send', message }`, `{ type: 'close' }`, and for subscribers
 *   `{ type: 'subscribe' | 'unsubscribe', topics? }`
 * - tells its parent: `zmq.message` (one per message received), `zmq.sent`, `zmq.ready`, `zmq.error`
 *   (see {@link SocketActorEvent})
 * - fails (the parent's `onError`) when the socket cannot be made, bound or connected.
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

function makeLogic(SocketClass: SocketClass): SocketActorLogic {
  const logic: SocketActorLogic = {
    config: SocketClass,
    getInitialSnapshot: (scope, input) => {
      // Kept aside until start: a snapshot stays JSON (the input may hold a Context), and no socket
      // is made for an actor that is only created (xstate/graph walks machines without starting them).
      if (input !== undefined) inputs.set(scope.self as AnyActorRef, input);
      return {
        status: 'active',
        output: undefined,
        error: undefined,
        context: { socketClass: SocketClass.name, socketId: null, endpoints: [] },
      };
    },
    start: (_snapshot, scope) => {
      const input = inputs.get(scope.self as AnyActorRef) ?? {};
      inputs.delete(scope.self as AnyActorRef);
      // A throw here (bad options) fails the actor at once: xstate reports it to the parent.
      if (input.options?.receiveTimeout === 0) {
        throw new ZmqError('EINVAL', `${SocketClass.name} actor: receiveTimeout 0 would make its receive loop spin; use -1 (wait) or a positive timeout`);
      }
      const socket = new SocketClass(input.options);
      const r: Running = { socket, scope: scope as never, over: false, sent: 0, wake: undefined };
      running.set(scope.self as AnyActorRef, r);
      scope.self.send({ type: '@monocoque.started', socketId: socket.id } as never);
      void open(r, input);
      void receiveLoop(r);
    },
    transition: (snapshot, event, scope) => {
      const r = running.get(scope.self as AnyActorRef);
      const e = event as SocketActorCommand<{ subscribe(): void } & Socket> | InternalEvent | EventObject;
      if (e.type === 'xstate.stop') {
        finish(r);
        return { ...snapshot, status: 'stopped' } as SocketActorSnapshot;
      }
      if (snapshot.status !== 'active' || r === undefined || r.over) return snapshot;
      switch (e.type) {
        case '@monocoque.started':
          return { ...snapshot, context: { ...snapshot.context, socketId: (e as { socketId: number }).socketId } };
        case '@monocoque.ready':
          return { ...snapshot, context: { ...snapshot.context, endpoints: (e as { endpoints: string[] }).endpoints } };
        case '@monocoque.failed':
          finish(r);
          return { ...snapshot, status: 'error', error: (e as { error: unknown }).error } as SocketActorSnapshot;
        case 'send':
          sendMessage(r, (e as SocketSendCommand).message);
          return snapshot;
        case 'subscribe':
        case 'unsubscribe':
          subscription(r, e as SocketSubscribeCommand);
          return snapshot;
        case 'close':
          finish(r);
          return { ...snapshot, status: 'done', output: undefined } as SocketActorSnapshot;
        default:
          return snapshot;
      }
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
  return logic;
}

/** Tells the parent (through the system, so inspectors see it as coming from this actor) and emits. */
function tellParent(r: Running, event: SocketActorEvent): void {
  if (r.over) return;
  const self = r.scope.self as AnyActorRef;
  const parent = self._parent;
  if (parent !== undefined) {
    // `_relay` is how xstate's own callback actors reach their parent: inspectors then see this
    // actor as the event's source. Plain `send` if a later xstate drops it.
    const system = r.scope.system as unknown as { _relay?(s: AnyActorRef, t: AnyActorRef, e: EventObject): void };
    if (typeof system._relay === 'function') system._relay(self, parent, event);
    else parent.send(event);
  }
  r.scope.emit(event);
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
    if (!r.over) r.scope.self.send({ type: '@monocoque.failed', error } as never);
    return;
  }
  if (r.over) return;
  r.scope.self.send({ type: '@monocoque.ready', endpoints } as never);
  tellParent(r, { type: 'zmq.ready', actorId: r.scope.id, endpoints });
}

function sendMessage(r: Running, message: MessageInput): void {
  r.socket.send(message).then(
    () => {
      r.sent++;
      tellParent(r, { type: 'zmq.sent', actorId: r.scope.id });
      // A REQ may now receive its reply, a REP its next request.
      const wake = r.wake;
      r.wake = undefined;
      wake?.();
    },
    (error: unknown) => {
      if (!r.over) tellParent(r, { type: 'zmq.error', actorId: r.scope.id, operation: 'send', error: asZmqError(error) });
    },
  );
}

function subscription(r: Running, e: SocketSubscribeCommand): void {
  const method = (r.socket as unknown as Record<string, unknown>)[e.type];
  try {
    if (typeof method !== 'function') throw new ZmqError('ENOTSUP', `${e.type} on a ${r.socket.type} socket: only subscriber sockets take topics`);
    (method as (...topics: (string | Uint8Array)[]) => void).apply(r.socket, [...(e.topics ?? [])]);
  } catch (error) {
    tellParent(r, { type: 'zmq.error', actorId: r.scope.id, operation: e.type, error: asZmqError(error) });
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
      tellParent(r, { type: 'zmq.error', actorId: r.scope.id, operation: 'receive', error: asZmqError(error) });
      continue;
    }
    tellParent(r, { type: 'zmq.message', actorId: r.scope.id, frames });
  }
}

function finish(r: Running | undefined): void {
  if (r === undefined || r.over) return;
  r.over = true;
  running.delete(r.scope.self as AnyActorRef);
  r.socket.close();
  const wake = r.wake;
  r.wake = undefined;
  wake?.();
}

function asZmqError(error: unknown): ZmqError {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') return error as ZmqError;
  return new ZmqError('EINVAL', error instanceof Error ? error.message : String(error), { cause: error });
}
