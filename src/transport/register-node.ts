// Makes tcp and ipc available to every Context, and gives curveKeyPair() Node's X25519 generator so
// it works before libsodium has loaded. Imported by the Node entry only: a browser build never loads
// node:net or node:crypto.

import { setKeyPairSource } from '../protocol/curve-keys.js';
import { registerTransport } from './registry.js';
import { ipcTransport } from './ipc.js';
import { nodeKeyPair } from './node-keys.js';
import { tcpTransport } from './tcp.js';

registerTransport('tcp', tcpTransport);
registerTransport('ipc', ipcTransport);

setKeyPairSource(nodeKeyPair);
