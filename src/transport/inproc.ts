// The inproc transport: two pipes per connection, handed to both sockets by reference, so a
// message goes from send() to the peer's receive() with no serialisation. The supervisor decides
// who connects to whom and starts a connection actor for each; this file provides the effects that
// make it so. No node: imports: it runs in a browser.

import { createActor } from 'xstate';
import type { AnyActorRef } from 'xstate';
import type { Endpoint } from '../core/endpoint.js';
import { ZmqError } from '../core/errors.js';
import { routingIdBytes } from '../core/options.js';
import { Pipe } from '../core/pipe.js';
import type { PipeReader, PipeWriter } from '../core/pipe.js';
import { inprocConnectionMachine } from '../../machines/inproc-connection.js';
import type { InprocConnectionContext } from '../../machines/inproc-connection.js';
import type { ConnectionParams, ConnectionsParams } from '../../machines/supervisor.js';
import type { Peer, PeerHost, Transport } from './host.js';

/** What the inproc transport needs of its Context. */
export interface InprocHub {
  /** The supervisor actor: parent of the connection actors, keeper of the registry. */
  readonly supervisor: AnyActorRef;
  /** The socket with this id, if it belongs to the Context and is open. */
  host(id: number): PeerHost | undefined;
  /** Sends a registry request (bind, unbind) to the supervisor; throws what it refused with. */
  request(event: { type: 'inproc.bind' | 'inproc.unbind'; name: string; socketId: number; socketType?: string; keepConnections?: boolean }): void;
  newConnectionId(): string;
}

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
export function inprocCapacity(sender: PeerHost, receiver: PeerHost | undefined): number {
  const snd = sender.options.sendHighWaterMark;
  const rcv = receiver === undefined ? 0 : receiver.options.receiveHighWaterMark;
  if (snd === 0 || (receiver !== undefined && rcv === 0)) return 0;
  return snd + rcv;
}

/**
 * @internal The HWM of a live inproc pipe once a socket at either end changed its SNDHWM or RCVHWM:
 * libzmq >= 4.2 applies the change to existing pipes (`socket_base.cpp update_pipe_options`, the
 * peer hearing it through `pipe.cpp send_hwms_to_peer`). An end is the socket itself once it has
 * attached (a socket reads and writes its pipes); an end not there yet (a connect waiting for its
 * bind) counts as `makePipes` counted it.
 */
export function inprocPipeCapacity(pipe: Pipe): number {
  const sender = endOf(pipe.writer);
  const receiver = endOf(pipe.reader);
  if (sender === undefined) return receiver === undefined ? pipe.capacity : receiver.options.receiveHighWaterMark;
  return inprocCapacity(sender, receiver);
}

/** The socket at one end of a pipe: an end with options is one (a pipe's unattached end is a no-op stand-in). */
function endOf(side: PipeReader | PipeWriter): PeerHost | undefined {
  return typeof (side as Partial<PeerHost>).options === 'object' ? (side as unknown as PeerHost) : undefined;
}

/** @internal The inproc transport of one Context, and the supervisor effects it provides. */
export function inprocTransport(hub: InprocHub) {
  const live = new Map<string, Live>();

  const endpointOf = (c: InprocConnectionContext) => `inproc://${c.name}`;

  function makePipes(c: InprocConnectionContext): Live | undefined {
    const connector = hub.host(c.connectorId);
    const binder = c.binderId === undefined ? undefined : hub.host(c.binderId);
    let l = live.get(c.connectionId);
    if (l === undefined && connector !== undefined) {
      l = {
        toBinder: new Pipe(inprocCapacity(connector, binder), connector.options.conflate),
        toConnector: new Pipe(binder === undefined ? connector.options.receiveHighWaterMark : inprocCapacity(binder, connector), connector.options.conflate),
      };
      live.set(c.connectionId, l);
    }
    return l;
  }

  /** What a socket's `peer.close()` does: ends the connection (unless that socket is closing: its
   * release tells the supervisor `socket.closed`, which ends all its connections in one event). */
  function closeLink(connectionId: string, ownerId: number): () => void {
    return () => {
      if (live.has(connectionId) && hub.host(ownerId)?.closed !== true) hub.supervisor.send({ type: 'inproc.disconnect', connectionId });
    };
  }

  const connectionLogic = inprocConnectionMachine.provide({
    actions: {
      attachConnector: ({ context: c }) => {
        const connector = hub.host(c.connectorId);
        if (connector === undefined || c.immediate) return;
        const l = makePipes(c) as Live;
        // The peer type is not known yet: the socket queues to it as to any peer (libzmq does).
        l.connectorPeer = connector.attachPeer(
          { out: l.toBinder, in: l.toConnector, endpoint: endpointOf(c), peerType: '', transport: 'inproc', close: closeLink(c.connectionId, c.connectorId) },
          'connect',
        );
      },
      attachBoth: ({ context: c }) => {
        const connector = hub.host(c.connectorId);
        const binder = c.binderId === undefined ? undefined : hub.host(c.binderId);
        if (connector === undefined || binder === undefined) return;
        const l = makePipes(c) as Live;
        l.toBinder.resize(inprocCapacity(connector, binder));
        l.toConnector.resize(inprocCapacity(binder, connector));
        const endpoint = endpointOf(c);
        if (l.connectorPeer === undefined) {
          l.connectorPeer = connector.attachPeer({ endpoint, transport: 'inproc', close: closeLink(c.connectionId, c.connectorId), out: l.toBinder, in: l.toConnector, peerType: binder.type, routingId: routingIdOf(binder) }, 'connect');
        } else {
          connector.identifyPeer(l.connectorPeer, binder.type, routingIdOf(binder));
        }
        l.binderPeer = binder.attachPeer({ endpoint, transport: 'inproc', close: closeLink(c.connectionId, binder.id), out: l.toConnector, in: l.toBinder, peerType: connector.type, routingId: routingIdOf(connector) }, 'accept');
      },
      refuse: ({ context: c }) => {
        const l = live.get(c.connectionId);
        live.delete(c.connectionId);
        const why = `inproc://${c.name}: a ${c.connectorType} socket may not connect to a ${c.binderType} socket (ZeroMQ pairs ${c.connectorType} only with its peer types)`;
        hub.host(c.connectorId)?.refusePairing(l?.connectorPeer, endpointOf(c), c.binderType ?? '', why);
        if (c.binderId !== undefined) hub.host(c.binderId)?.refusePairing(undefined, endpointOf(c), c.connectorType, why);
      },
      detach: ({ context: c }) => {
        const l = live.get(c.connectionId);
        live.delete(c.connectionId);
        if (l === undefined) return;
        if (l.connectorPeer !== undefined) hub.host(c.connectorId)?.detachPeer(l.connectorPeer);
        if (l.binderPeer !== undefined && c.binderId !== undefined) hub.host(c.binderId)?.detachPeer(l.binderPeer);
      },
    },
  });

  /** A live connection actor, by its connection id (its system id: a finished one has left the system). */
  const connection = (id: string): AnyActorRef | undefined => hub.supervisor.system.get(id);

  /** The supervisor's effects: starting connection actors, and telling them what it decided. */
  const effects = {
    startConnection: (_: unknown, p: ConnectionParams) => {
      // An actor of the supervisor's system (inspectors see it), not one of its children: xstate
      // copies a machine's children on every spawn, which would make n connections cost O(n^2).
      // Every one has the id `connection`, so their done events are one event type; each is found
      // in the system by its connection id.
      createActor(connectionLogic, { parent: hub.supervisor, id: 'connection', systemId: p.connectionId, input: { ...p } }).start();
    },
    announceBinder: (_: unknown, p: ConnectionsParams & { binderId: number; binderType: string }) => {
      for (const id of p.connectionIds) connection(id)?.send({ type: 'binder.arrived', binderId: p.binderId, binderType: p.binderType });
    },
    closeConnections: (_: unknown, p: ConnectionsParams) => {
      for (const id of p.connectionIds) connection(id)?.send({ type: 'connection.close' });
    },
  };

  const transport: Transport = {
    async bind(host: PeerHost, ep: Endpoint) {
      if (ep.transport !== 'inproc') throw new ZmqError('EINVAL', `not an inproc endpoint: ${ep.address}`);
      hub.request({ type: 'inproc.bind', name: ep.name, socketId: host.id, socketType: host.type });
      let listening = true;
      let connected = true;
      // A closing socket stops listening first (its connections stay while it lingers), then
      // closes the handle; each step is asked of the supervisor once.
      const unbind = (keepConnections: boolean) => {
        if (!listening && (keepConnections || !connected)) return;
        if (!listening) {
          connected = false;
          return; // the name is gone already; the connections end with the socket (`socket.closed`)
        }
        listening = false;
        if (!keepConnections) connected = false;
        hub.request({ type: 'inproc.unbind', name: ep.name, socketId: host.id, keepConnections });
      };
      return { address: ep.address, close: () => unbind(false), stopListening: () => unbind(true) };
    },
    connect(host: PeerHost, ep: Endpoint) {
      if (ep.transport !== 'inproc') throw new ZmqError('EINVAL', `not an inproc endpoint: ${ep.address}`);
      const connectionId = hub.newConnectionId();
      hub.supervisor.send({ type: 'inproc.connect', name: ep.name, socketId: host.id, socketType: host.type, connectionId, immediate: host.options.immediate });
      return { close: () => hub.supervisor.send({ type: 'inproc.disconnect', connectionId }) };
    },
  };

  return { transport, effects };
}

function routingIdOf(host: PeerHost): Uint8Array | undefined {
  return routingIdBytes(host.options.routingId);
}
