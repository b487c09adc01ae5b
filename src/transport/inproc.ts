// The inproc transport: two pipes per connection, handed to both sockets by reference, so a
// message goes from send() to the peer's receive() with no copy and no serialisation. The
// supervisor decides who connects to whom; this file provides the effects that make it so.
// No node: imports: it runs in a browser.

import { ZmqError } from '../core/errors.js';
import { routingIdBytes } from '../core/options.js';
import { Pipe } from '../core/pipe.js';
import type { Endpoint } from '../core/endpoint.js';
import { inprocConnectionMachine } from '../../machines/inproc-connection.js';
import type { InprocConnectionContext } from '../../machines/inproc-connection.js';
import type { Context, Transport } from '../socket/context.js';
import type { Peer, Socket } from '../socket/socket.js';

interface Live {
  toBinder: Pipe;
  toConnector: Pipe;
  connectorPeer?: Peer;
  binderPeer?: Peer;
}

/**
 * inproc HWM, as libzmq sizes it: one pipe per direction holding the sender's SNDHWM plus the
 * receiver's RCVHWM; either being 0 makes it unlimited.
 */
export function inprocCapacity(sender: Socket, receiver: Socket | undefined): number {
  const snd = sender.options.sendHighWaterMark;
  const rcv = receiver === undefined ? 0 : receiver.options.receiveHighWaterMark;
  if (snd === 0 || (receiver !== undefined && rcv === 0)) return 0;
  return snd + rcv;
}

/** @internal The inproc transport of one Context and the connection actor logic it provides. */
export function inprocTransport(context: Context) {
  const live = new Map<string, Live>();

  const endpointOf = (c: InprocConnectionContext) => `inproc://${c.name}`;

  function makePipes(c: InprocConnectionContext): Live {
    const connector = context.socket(c.connectorId);
    const binder = c.binderId === undefined ? undefined : context.socket(c.binderId);
    let l = live.get(c.connectionId);
    if (l === undefined && connector !== undefined) {
      l = {
        toBinder: new Pipe(inprocCapacity(connector, binder), connector.options.conflate),
        toConnector: new Pipe(binder === undefined ? connector.options.receiveHighWaterMark : inprocCapacity(binder, connector), connector.options.conflate),
      };
      live.set(c.connectionId, l);
    }
    return l as Live;
  }

  function closeLink(connectionId: string): () => void {
    return () => {
      if (live.has(connectionId)) context.supervisor.send({ type: 'inproc.disconnect', connectionId });
    };
  }

  const connectionLogic = inprocConnectionMachine.provide({
    actions: {
      attachConnector: ({ context: c }) => {
        const connector = context.socket(c.connectorId);
        if (connector === undefined || c.immediate) return;
        const l = makePipes(c);
        // The peer type is not known yet: the socket queues to it as to any peer (libzmq does).
        l.connectorPeer = connector.attachPeer(
          { out: l.toBinder, in: l.toConnector, endpoint: endpointOf(c), peerType: '', transport: 'inproc', close: closeLink(c.connectionId) },
          'connect',
        );
      },
      attachBoth: ({ context: c }) => {
        const connector = context.socket(c.connectorId);
        const binder = c.binderId === undefined ? undefined : context.socket(c.binderId);
        if (connector === undefined || binder === undefined) return;
        const l = makePipes(c);
        l.toBinder.resize(inprocCapacity(connector, binder));
        l.toConnector.resize(inprocCapacity(binder, connector));
        const link = { endpoint: endpointOf(c), transport: 'inproc' as const, close: closeLink(c.connectionId) };
        if (l.connectorPeer === undefined) {
          l.connectorPeer = connector.attachPeer({ ...link, out: l.toBinder, in: l.toConnector, peerType: binder.type, routingId: routingIdOf(binder) }, 'connect');
        } else {
          l.connectorPeer.peerType = binder.type;
          l.connectorPeer.routingId = routingIdOf(binder);
        }
        l.binderPeer = binder.attachPeer({ ...link, out: l.toConnector, in: l.toBinder, peerType: connector.type, routingId: routingIdOf(connector) }, 'accept');
      },
      refuse: ({ context: c }) => {
        const l = live.get(c.connectionId);
        live.delete(c.connectionId);
        const connector = context.socket(c.connectorId);
        const why = `inproc://${c.name}: a ${c.connectorType} socket may not connect to a ${c.binderType} socket (ZeroMQ pairs ${c.connectorType} only with its peer types)`;
        if (connector !== undefined) refusePeer(connector, l?.connectorPeer, endpointOf(c), c.binderType ?? '', why);
        const binder = c.binderId === undefined ? undefined : context.socket(c.binderId);
        if (binder !== undefined) refusePeer(binder, undefined, endpointOf(c), c.connectorType, why);
      },
      detach: ({ context: c }) => {
        const l = live.get(c.connectionId);
        live.delete(c.connectionId);
        if (l === undefined) return;
        if (l.connectorPeer !== undefined) context.socket(c.connectorId)?.detachPeer(l.connectorPeer);
        if (l.binderPeer !== undefined && c.binderId !== undefined) context.socket(c.binderId)?.detachPeer(l.binderPeer);
      },
    },
  });

  const transport: Transport = {
    async bind(socket: Socket, ep: Endpoint) {
      if (ep.transport !== 'inproc') throw new ZmqError('EINVAL', `not an inproc endpoint: ${ep.address}`);
      context.request({ type: 'inproc.bind', name: ep.name, socketId: socket.id, socketType: socket.type });
      const unbind = (keepConnections: boolean) => {
        try {
          context.request({ type: 'inproc.unbind', name: ep.name, socketId: socket.id, keepConnections });
        } catch {
          // already given back
        }
      };
      return { address: ep.address, close: () => unbind(false), stopListening: () => unbind(true) };
    },
    connect(socket: Socket, ep: Endpoint) {
      if (ep.transport !== 'inproc') throw new ZmqError('EINVAL', `not an inproc endpoint: ${ep.address}`);
      const connectionId = context.newConnectionId();
      context.supervisor.send({ type: 'inproc.connect', name: ep.name, socketId: socket.id, socketType: socket.type, connectionId, immediate: socket.options.immediate });
      return { close: () => context.supervisor.send({ type: 'inproc.disconnect', connectionId }) };
    },
  };

  return { transport, connectionLogic };
}

function routingIdOf(socket: Socket): Uint8Array | undefined {
  return routingIdBytes(socket.options.routingId);
}

/** Tells a socket that a peer was refused (it may have early pipes to take back). */
function refusePeer(socket: Socket, peer: Peer | undefined, endpoint: string, peerType: string, why: string): void {
  socket.refuseInproc(peer, endpoint, peerType, why);
}
