// Scene: Pub/Sub filtering. Subscribers send their prefixes upstream; the Publisher's machine
// keeps who wants which prefix, and a message goes only to the subscribers whose prefix matches.

import { Context, Publisher, Subscriber } from '../src/index.js';
import type { Socket } from '../src/index.js';
import { act, scene, step, text, watch } from './show.js';

type Table = Record<string, number[]>;

/** Resolves once the socket's machine context passes `test`; fails after `ms` (no busy wait). */
function until<T extends Socket>(socket: T, test: (ctx: ReturnType<T['getSnapshot']>['context']) => boolean, what: string, ms = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => test(socket.getSnapshot().context);
    if (check()) return resolve();
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const sub = socket.actor.subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      sub.unsubscribe();
      resolve();
    });
  });
}

/** Everything the subscriber can read right now. */
function drain(sub: Subscriber): Promise<Buffer[][]> {
  const got: Promise<Buffer[]>[] = [];
  while (sub.readable) got.push(sub.receive());
  return Promise.all(got);
}

export async function pubSubScene(): Promise<void> {
  const context = new Context();
  scene('Pub/Sub: each subscriber gets the topics it subscribed to');

  const pub = await act('pub bound inproc://news', async () => {
    const pub = watch('pub', new Publisher({ context }));
    await pub.bind('inproc://news');
    return pub;
  });
  const weather = new Subscriber({ context });
  const everything = new Subscriber({ context });
  // The subscriptions travel to the publisher as messages; its machine records them on arrival.
  await act('"weather" subscribed to the prefix "weather."; "everything" to "" (every message)', async () => {
    weather.connect('inproc://news');
    weather.subscribe('weather.');
    everything.connect('inproc://news');
    everything.subscribe();
    await until(pub, (c) => c.subscriptions.size === 2, 'both subscriptions to reach the publisher');
  });

  const table = (): Table => pub.getSnapshot().context.subscriptions.toJSON();
  const names = new Map<number, string>();
  for (const [i, p] of pub.getSnapshot().context.peers.list().entries()) names.set(p.id, i === 0 ? 'weather' : 'everything');
  const showTable = () => {
    step("the publisher machine's context.subscriptions (prefix -> subscriber):");
    for (const [hex, ids] of Object.entries(table())) {
      step(`  ${JSON.stringify(Buffer.from(hex, 'hex').toString())} -> ${ids.map((id) => names.get(id)).join(', ')}`);
    }
  };
  showTable();

  const publish = (topics: string[]) =>
    act(
      (got) => [`published: ${topics.join(', ')}`, ...got],
      async () => {
        for (const t of topics) await pub.send([t, `${t} news`]);
        const got: string[] = [];
        for (const [name, sub] of [['weather', weather], ['everything', everything]] as const) {
          const topicsGot = (await drain(sub)).map((m) => text(m.slice(0, 1)));
          got.push(`${name.padEnd(10)} got: ${topicsGot.length > 0 ? topicsGot.join(', ') : '(nothing)'}`);
        }
        return got;
      },
    );
  await publish(['weather.paris', 'sports.tennis', 'weather.oslo', 'markets.eur']);

  scene('Pub/Sub: unsubscribing');
  await act('"everything" unsubscribed from ""', async () => {
    everything.unsubscribe();
    await until(pub, (c) => c.subscriptions.size === 1, 'the cancel to reach the publisher');
  });
  showTable();
  await publish(['weather.rome', 'sports.golf']);
  step('the publisher no longer sends anything to "everything" at all (filtering is upstream)');

  await act('weather, everything and pub closed', () => {
    for (const s of [weather, everything, pub]) s.close();
  });
}
