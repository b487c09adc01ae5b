// The public face of monocoque on Node: everything `browser.ts` exports, plus the tcp and ipc
// transports (node:net), registered when this module loads.

export * from './browser.js';
import './transport/register-node.js';
