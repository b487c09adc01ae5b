// Makes tcp and ipc available to every Context. Imported by the Node entry only: a browser build
// never loads node:net.

import { registerTransport } from './registry.js';
import { ipcTransport } from './ipc.js';
import { tcpTransport } from './tcp.js';

registerTransport('tcp', tcpTransport);
registerTransport('ipc', ipcTransport);
