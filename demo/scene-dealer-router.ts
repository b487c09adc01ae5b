// Scene: Dealer/Router with named peers. The Router's machine keeps the identity table (routing
// id -> peer); messages never pass through the machine, the runtime routes them by that table.

import { Context, Dealer, Router } from '../src/index.js';
import { act, scene, step, text, watch } from './show.js';

const fromHex = (hex: string) => Buffer.from(hex, 'hex').toString();

export async function dealerRouterScene(): Promise<void> {
  const context = new Context();
  scene('Dealer/Router: peers with names, replies addressed by name');

  const router = await act('router bound inproc://desk', async () => {
    const router = watch('router', new Router({ context }));
    await router.bind('inproc://desk');
    return router;
  });
  const [alice, bob] = await act('dealers "alice" and "bob" connected (each announced its routingId)', () => {
    const alice = new Dealer({ context, routingId: 'alice' });
    const bob = new Dealer({ context, routingId: 'bob' });
    alice.connect('inproc://desk');
    bob.connect('inproc://desk');
    return [alice, bob] as const;
  });

  step("the router machine's identity table (snapshot context.routes, routing id -> peer):");
  const { routes, peers } = router.getSnapshot().context;
  for (const [hex, peerId] of Object.entries(routes.toJSON())) {
    const peer = peers.get(peerId);
    step(`  "${fromHex(hex)}" (hex ${hex}) -> peer ${peerId}, a ${peer?.peerType} via ${peer?.endpoint}`);
  }

  await act('alice and bob each sent a hello', async () => {
    await alice.send('hello from alice');
    await bob.send('hello from bob');
  });
  for (let i = 0; i < 2; i++) {
    const [id, body] = await act(
      ([id, body]) => `router received [${text([id as Buffer])}, ${text([body as Buffer])}]  (frame 1 = who sent it)`,
      () => router.receive(),
    );
    await act(`router replied to ${id?.toString()}`, () => router.send([id as Buffer, `hi ${id?.toString()}, this is for you only`]));
  }
  await act((got) => `alice received "${text(got)}"`, () => alice.receive());
  await act((got) => `bob received "${text(got)}"`, () => bob.receive());

  scene('Dealer/Router: an unknown routing id');
  await act('by default a message for "carol" (nobody) is dropped silently: send resolved', () => router.send(['carol', 'are you there?']));
  await act('router.mandatory = true', () => {
    router.mandatory = true;
  });
  await act(
    (err) =>
      err === undefined
        ? 'with mandatory the send went through (unexpected!)'
        : [`with mandatory the router reports an unknown id instead of dropping: send fails: ${err.code}`, `"${err.message}"`],
    async () => {
      try {
        await router.send(['carol', 'are you there?']);
        return undefined;
      } catch (e) {
        return e as { code: string; message: string };
      }
    },
  );

  await act('alice, bob and router closed', () => {
    for (const s of [alice, bob, router]) s.close();
  });
}
