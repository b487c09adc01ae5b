// Scene: CURVE with libzmq. Our Router serves libzmq clients; an Authenticator (the ZAP handler of
// our Context) knows one client key. The connection machine shows each step of the handshake.

import * as zmq from 'zeromq';
import { Authenticator, Context, Router, curveKeyPair } from '../src/index.js';
import type { SocketEvent } from '../src/index.js';
import { act, detail, scene, stateChange, stateName, text } from './show.js';

export async function securityScene(): Promise<void> {
  scene('CURVE with libzmq: who may connect, and the handshake step by step');
  // The connection actors' states, as an inspector sees them, shown as the sockets' are: numbered
  // in the order the Router accepted them.
  const last = new Map<string, { label: string; value: unknown }>();
  const context = new Context({
    inspect: (e) => {
      if (e.type !== '@xstate.snapshot') return;
      const snap = e.snapshot as { machine?: { id?: string }; value?: unknown };
      if (snap.machine?.id !== 'connection') return;
      const seen = last.get(e.actorRef.sessionId);
      if (seen === undefined) {
        const label = `connection ${last.size + 1}`;
        last.set(e.actorRef.sessionId, { label, value: snap.value });
        detail(`[${label}] ${stateName(snap.value)}`);
        return;
      }
      const change = stateChange(seen.value, snap.value);
      if (change !== undefined) detail(`[${seen.label}] ${change}`);
      seen.value = snap.value;
    },
  });
  const server = curveKeyPair();
  const known = curveKeyPair();
  const stranger = curveKeyPair();
  const auth = new Authenticator({ context });
  await act(`Authenticator bound inproc://zeromq.zap.01: it lets in client key ${known.publicKey.slice(0, 8)}… only`, async () => {
    auth.configureCurve([known.publicKey]);
    await auth.start();
  });

  const router = new Router({ context, curveServer: true, curveSecretKey: server.secretKey });
  const clients: zmq.Socket[] = [];
  try {
    await act(
      () => `our Router is a CURVE server on ${router.lastEndpoint} (securityMechanism: ${router.securityMechanism})`,
      () => router.bind('tcp://127.0.0.1:*'),
    );

    await act(
      (e) => `a libzmq Dealer with an unknown key is refused: handshake:error:auth, ZAP status ${e.error?.status}`,
      () => {
        const refused = new Promise<SocketEvent>((resolve) => router.events.on('handshake:error:auth', resolve));
        const bad = new zmq.Dealer({ curveServerKey: server.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey, linger: 0 });
        clients.push(bad);
        bad.connect(router.lastEndpoint!);
        // Closed once refused: libzmq would otherwise retry, and each retry be refused again.
        return refused.finally(() => bad.close());
      },
    );

    const good = new zmq.Dealer({ curveServerKey: server.publicKey, curvePublicKey: known.publicKey, curveSecretKey: known.secretKey, linger: 0 });
    clients.push(good);
    await act(
      (hs) => `the known libzmq Dealer is in; its User-Id is its key: ${hs.peer?.userId === known.publicKey ? 'yes' : 'no'}`,
      () => {
        const welcomed = new Promise<SocketEvent>((resolve) => router.events.on('handshake', resolve));
        good.connect(router.lastEndpoint!);
        return welcomed;
      },
    );
    const [id] = await act(
      ([, body]) => `router received "${text([body as Buffer])}" (every frame travelled in a CURVE box)`,
      async () => {
        await good.send('secret plans');
        return router.receive();
      },
    );
    await act(
      (got) => `libzmq Dealer received "${text(got)}"`,
      async () => {
        await router.send([id as Buffer, 'received']);
        return good.receive();
      },
    );
  } finally {
    await act('the Dealers, the Router and the Authenticator closed', async () => {
      for (const c of clients) c.close();
      router.close();
      await auth.stop();
    });
  }
}
