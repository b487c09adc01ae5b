// The public face of monocoque on Node: everything `browser.ts` exports, plus the tcp and ipc
// transports (node:net), registered when this module loads.

export * from './browser.js';
import './transport/register-node.js';

// `import zmq from 'monocoque'` as well as `import * as zmq from 'monocoque'`, as zeromq.js allows:
// the default export holds every named export (the Node entry adds none to the browser's).
import * as monocoque from './browser.js';
export default monocoque;
