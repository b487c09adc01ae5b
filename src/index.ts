// The public face of monocoque on Node: everything `browser.ts` exports, the tcp and ipc transports
// (node:net), registered when this module loads, the ZAP handler, the Proxy and the Stream socket.

export * from './browser.js';
import './transport/register-node.js';

// The proxy (zeromq.js `Proxy`, libzmq zmq_proxy_steerable) and its machine. Browser-safe, but not
// in monocoque/browser, whose size a page pays at start (test/package/browser-bundle.test.ts).
import { Proxy } from './socket/proxy.js';
import { proxyMachine } from '../machines/proxy.js';
export { Proxy, proxyMachine };
export type { ProxyOptions, ProxyStatistics, ProxySideStatistics, ProxyTraffic, ProxyMachine } from './socket/proxy.js';
export type { ProxyContext, ProxyEvent, ProxyFailure, ProxySide } from '../machines/proxy.js';

// The ZAP handler (RFC 27) and its machine: it answers tcp and ipc peers' handshakes, so a page
// (inproc only) has no use for it, and monocoque/browser leaves it out.
import { Authenticator, ZAP_ENDPOINT } from './socket/authenticator.js';
import { authenticatorMachine } from '../machines/authenticator.js';
export { Authenticator, ZAP_ENDPOINT, authenticatorMachine };
export type { AuthenticatorOptions, PlainUsers, CurveClients } from './socket/authenticator.js';
export type { AuthenticatorContext, AuthenticatorEvent, ZapVerdict, ZapRequestFacts } from '../machines/authenticator.js';

// STREAM (libzmq ZMQ_STREAM, zeromq.js `Stream`): raw bytes with peers outside ZeroMQ, over tcp and
// ipc only, so monocoque/browser leaves it out. Loading it also makes `new Socket(11)` a Stream.
import { Stream } from './socket/stream.js';
import { streamMachine } from '../machines/stream.js';
export { Stream, streamMachine };
export type { StreamOptions, StreamConnectOptions } from './socket/stream.js';
export type { StreamContext, StreamEvent, StreamSendOutcome } from '../machines/stream.js';

// `import zmq from 'monocoque'` as well as `import * as zmq from 'monocoque'`, as zeromq.js allows:
// the default export holds every named export.
import * as browser from './browser.js';
const monocoque = Object.freeze({ ...browser, Proxy, proxyMachine, Authenticator, ZAP_ENDPOINT, authenticatorMachine, Stream, streamMachine });
export default monocoque;
