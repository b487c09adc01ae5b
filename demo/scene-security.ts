// Scene: CURVE with libzmq. Our Router serves libzmq clients; an Authenticator (the ZAP handler of
// our Context) knows one client key. The connection machine shows each step of the handshake.

import * as zmq from 'zeromq';
import { Authenticator, Context, Router, curveKeyPair } from '../src/index.js';
import type { SocketEvent } from '../src/index.js';
import { scene, stateName, step, text } from './show.js';

const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

export async function securityScene(): Promise<void> {
  scene('CURVE with libzmq: who may connect, and the handshake step by step');
  // The connection actors' states, as an inspector sees them: one line per accepted connection.
  const steps = new Map<string, string[]>();
  const context = new Context({
    inspect: (e) => {
      if (e.type !== '@xstate.snapshot') return;
      const snap = e.snapshot as { machine?: { id?: string }; value?: unknown };
      if (snap.machine?.id !== 'connection') return;
      const seen = steps.get(e.actorRef.sessionId) ?? [];
      const name = stateName(snap.value).replace(/^active\..*/, 'active');
      if (seen[seen.length - 1] !== name) seen.push(name);
      steps.set(e.actorRef.sessionId, seen);
    },
  });
  const server = curveKeyPair();
  const known = curveKeyPair();
  const stranger = curveKeyPair();
  const auth = new Authenticator({ context });
  auth.configureCurve([known.publicKey]);
  await auth.start();
  step(`Authenticator bound inproc://zeromq.zap.01: it lets in client key ${known.publicKey.slice(0, 8)}… only`);

  const router = new Router({ context, curveServer: true, curveSecretKey: server.secretKey });
  const clients: zmq.Socket[] = [];
  try {
    await router.bind('tcp://127.0.0.1:*');
    step(`our Router is a CURVE server on ${router.lastEndpoint} (securityMechanism: ${router.securityMechanism})`);

    const refused = new Promise<SocketEvent>((resolve) => router.events.on('handshake:error:auth', resolve));
    const bad = new zmq.Dealer({ curveServerKey: server.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey, linger: 0 });
    clients.push(bad);
    bad.connect(router.lastEndpoint!);
    const e = await refused;
    step(`a libzmq Dealer with an unknown key is refused: handshake:error:auth, ZAP status ${e.error?.status}`);

    const good = new zmq.Dealer({ curveServerKey: server.publicKey, curvePublicKey: known.publicKey, curveSecretKey: known.secretKey, linger: 0 });
    clients.push(good);
    const welcomed = new Promise<SocketEvent>((resolve) => router.events.on('handshake', resolve));
    good.connect(router.lastEndpoint!);
    const hs = await welcomed;
    step(`the known libzmq Dealer is in; its User-Id is its key: ${hs.peer?.userId === known.publicKey ? 'yes' : 'no'}`);
    await good.send('secret plans');
    const [id, body] = await router.receive();
    step(`router received "${text([body])}" (every frame travelled in a CURVE box)`);
    await router.send([id, 'received']);
    step(`libzmq Dealer received "${text(await good.receive())}"`);
    for (const seen of steps.values()) console.log(dim(`    [connection] ${seen.join(' -> ')}`));
  } finally {
    for (const c of clients) c.close();
    router.close();
    await auth.stop();
  }
}
