// Scene: Dealer/Router with named peers. The Router's machine keeps the identity table (routing
// id -> peer); messages never pass through the machine, the runtime routes them by that table.

import { Context, Dealer, Router } from '../src/index.js';
import { scene, step, text, watch } from './show.js';

const fromHex = (hex: string) => Buffer.from(hex, 'hex').toString();

export async function dealerRouterScene(): Promise<void> {
  const context = new Context();
  scene('Dealer/Router: peers with names, replies addressed by name');

  const router = watch('router', new Router({ context }));
  await router.bind('inproc://desk');
  step('router bound inproc://desk');
  const alice = new Dealer({ context, routingId: 'alice' });
  const bob = new Dealer({ context, routingId: 'bob' });
  alice.connect('inproc://desk');
  bob.connect('inproc://desk');
  step('dealers "alice" and "bob" connected (each announced its routingId)');

  step("the router machine's identity table (snapshot context.routes, routing id -> peer):");
  const { routes, peers } = router.getSnapshot().context;
  for (const [hex, peerId] of Object.entries(routes.toJSON())) {
    const peer = peers.get(peerId);
    step(`  "${fromHex(hex)}" (hex ${hex}) -> peer ${peerId}, a ${peer?.peerType} via ${peer?.endpoint}`);
  }

  await alice.send('hello from alice');
  await bob.send('hello from bob');
  for (let i = 0; i < 2; i++) {
    const [id, body] = await router.receive();
    step(`router received [${text([id as Buffer])}, ${text([body as Buffer])}]  (frame 1 = who sent it)`);
    await router.send([id as Buffer, `hi ${id?.toString()}, this is for you only`]);
  }
  step(`alice received "${text(await alice.receive())}"`);
  step(`bob received "${text(await bob.receive())}"`);

  scene('Dealer/Router: an unknown routing id');
  await router.send(['carol', 'are you there?']);
  step('by default a message for "carol" (nobody) is dropped silently: send resolved');
  router.mandatory = true;
  step(`router.mandatory = true; machine state now ${JSON.stringify(router.getSnapshot().value)}`);
  step('with mandatory the router reports an unknown id instead of dropping:');
  try {
    await router.send(['carol', 'are you there?']);
    step('the send went through (unexpected!)');
  } catch (e) {
    const err = e as { code: string; message: string };
    step(`  send fails: ${err.code}`);
    step(`  "${err.message}"`);
  }

  for (const s of [alice, bob, router]) s.close();
}
