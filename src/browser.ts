// The public face of monocoque for any JavaScript runtime (a browser included): re-exports only.
// `src/index.ts` is the same plus the Node-only tcp and ipc transports.

export { ZmqError, isZmqError, ERRNO } from './core/errors.js';
export type { ZmqErrorCode } from './core/errors.js';
export { parseEndpoint, formatEndpoint } from './core/endpoint.js';
export type { Endpoint } from './core/endpoint.js';
export type { FrameInput, MessageInput } from './core/frame.js';
export { Context, defaultContext } from './socket/context.js';
export type { ContextOptions } from './socket/context.js';
export { Socket } from './socket/socket.js';
export type { CallOptions, SocketOptionsInput } from './socket/socket.js';
export { SocketEvents } from './socket/events.js';
export type { SocketEvent, EventType, EventPeer } from './socket/events.js';
export { Push, Pull } from './socket/push-pull.js';
export type { PushOptions, PullOptions } from './socket/push-pull.js';
export { Pair } from './socket/pair.js';
export type { PairOptions } from './socket/pair.js';
export { pushMachine } from '../machines/push.js';
export { pullMachine } from '../machines/pull.js';
export { pairMachine } from '../machines/pair.js';
export { pipeMachine } from '../machines/pipe.js';
export { supervisorMachine } from '../machines/supervisor.js';
export { inprocConnectionMachine } from '../machines/inproc-connection.js';

import { defaultContext } from './socket/context.js';

/** The inproc names bound in the default Context. */
export function listInprocEndpoints(): string[] {
  return defaultContext().listInprocEndpoints();
}
