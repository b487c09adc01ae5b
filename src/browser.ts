// The public face of monocoque for any JavaScript runtime (a browser included): re-exports only.
// `src/index.ts` is the same plus the Node-only tcp and ipc transports.

export { ZmqError, isZmqError, ERRNO } from './core/errors.js';
export type { ZmqErrorCode } from './core/errors.js';
export { parseEndpoint, formatEndpoint } from './core/endpoint.js';
export type { Endpoint } from './core/endpoint.js';
export type { FrameInput, MessageInput, MessageLike } from './core/frame.js';
export { Context, context, defaultContext } from './socket/context.js';
export type { ContextOptions } from './socket/context.js';
export { version, capability } from './socket/library.js';
export type { Capability } from './socket/library.js';
export { Socket } from './socket/socket.js';
export type { CallOptions, ReceiveManyOptions, SocketOptions, SocketOptionsInput } from './socket/socket.js';
export { Observer, SocketEvents } from './socket/events.js';
export type { Event, EventFor, EventOfType, SocketEvent, EventType, EventPeer } from './socket/events.js';
export { Push, Pull } from './socket/push-pull.js';
export type { PushOptions, PullOptions } from './socket/push-pull.js';
export { Pair } from './socket/pair.js';
export type { PairOptions } from './socket/pair.js';
export { Request, Reply } from './socket/request-reply.js';
export { Dealer, Router } from './socket/dealer-router.js';
export type { RequestOptions, ReplyOptions } from './socket/request-reply.js';
export type { DealerOptions, RouterConnectOptions, RouterOptions } from './socket/dealer-router.js';
export { Publisher, Subscriber, XPublisher, XSubscriber } from './socket/pub-sub.js';
export type { PublisherOptions, SubscriberOptions, XPublisherOptions, XSubscriberOptions, Verbosity } from './socket/pub-sub.js';
export {
  socketActor,
  socketOf,
  pushActor,
  pullActor,
  pairActor,
  requestActor,
  replyActor,
  dealerActor,
  routerActor,
  publisherActor,
  subscriberActor,
  xpublisherActor,
  xsubscriberActor,
} from './socket/actor-logic.js';
export type {
  SocketClass,
  SocketActorInput,
  SocketActorCommand,
  SocketActorEvent,
  SocketActorSnapshot,
  SocketActorLogic,
  ZmqMessageEvent,
  ZmqSentEvent,
  ZmqReadyEvent,
  ZmqErrorEvent,
} from './socket/actor-logic.js';
export { pushMachine } from '../machines/push.js';
export { pullMachine } from '../machines/pull.js';
export { pairMachine } from '../machines/pair.js';
export { requestMachine } from '../machines/request.js';
export { replyMachine } from '../machines/reply.js';
export { dealerMachine } from '../machines/dealer.js';
export { routerMachine } from '../machines/router.js';
export { publisherMachine } from '../machines/publisher.js';
export { subscriberMachine } from '../machines/subscriber.js';
export { xpublisherMachine } from '../machines/xpublisher.js';
export { xsubscriberMachine } from '../machines/xsubscriber.js';
export { connectionMachine } from '../machines/connection.js';
export { pipeMachine } from '../machines/pipe.js';
export { supervisorMachine } from '../machines/supervisor.js';
export { inprocConnectionMachine } from '../machines/inproc-connection.js';
export { curveKeyPair, curveReady } from './protocol/curve-keys.js';
export { z85Encode, z85Decode } from './core/z85.js';
export type { SecurityMechanism } from './core/security.js';

import { defaultContext } from './socket/context.js';

/** The inproc names bound in the default Context. */
export function listInprocEndpoints(): string[] {
  return defaultContext().listInprocEndpoints();
}
