// The public face of monocoque on Node: everything `browser.ts` exports, the tcp and ipc transports
// (node:net), registered when this module loads, and the Proxy.

export * from './browser.js';
import './transport/register-node.js';

// The proxy (zeromq.js `Proxy`, libzmq zmq_proxy_steerable) and its machine. Browser-safe, but not
// in monocoque/browser, whose size a page pays at start (test/package/browser-bundle.test.ts).
import { Proxy } from './socket/proxy.js';
import { proxyMachine } from '../machines/proxy.js';
export { Proxy, proxyMachine };
export type { ProxyOptions, ProxyStatistics, ProxySideStatistics, ProxyTraffic, ProxyMachine } from './socket/proxy.js';
export type { ProxyContext, ProxyEvent, ProxyFailure, ProxySide } from '../machines/proxy.js';

// `import zmq from 'monocoque'` as well as `import * as zmq from 'monocoque'`, as zeromq.js allows:
// the default export holds every named export.
import * as browser from './browser.js';
const monocoque = Object.freeze({ ...browser, Proxy, proxyMachine });
export default monocoque;
