// The recipe of docs/embedding.md, run: a user's job dispatcher machine that embeds a Push (jobs
// out) and a Pull (results in), walked with xstate/graph, every path replayed on real sockets over
// inproc with a fresh Context, each step checked against what the model's state predicts.
//
//   dispatcher machine                      worker (the test's world)
//   ┌───────────┐ Push  inproc://jobs  Pull ┌────────┐
//   │   jobs    │ ─────────────────────────▶│  jobs  │
//   │  results  │ ◀───────────────────────── │results │
//   └───────────┘ Pull inproc://results Push └────────┘

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assign, createActor, sendTo, setup } from 'xstate';
import type { Actor } from 'xstate';
import { Context } from '../../src/socket/context.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import type { Socket } from '../../src/socket/socket.js';
import { pullActor, pushActor, socketOf } from '../../src/socket/actor-logic.js';
import type { SocketActorEvent } from '../../src/socket/actor-logic.js';
import { modelPaths, replayPath } from '../../src/testing/model.js';
import type { ReplayPlan } from '../../src/testing/model.js';

// 1. The machine under test: it dispatches one job at a time and waits for its result.
type DispatcherEvent = SocketActorEvent | { type: 'dispatch'; job: string } | { type: 'shutdown' };

const dispatcher = setup({
  types: {
    input: {} as { zmq?: Context },
    context: {} as { zmq: Context | undefined; job: string | null; lastResult: string | null },
    events: {} as DispatcherEvent,
  },
  actors: { push: pushActor, pull: pullActor },
  guards: {
    answersOurJob: ({ context, event }) =>
      event.type === 'zmq.message' && event.frames[0]?.toString() === 'done' && event.frames[1]?.toString() === context.job,
  },
}).createMachine({
  id: 'dispatcher',
  context: ({ input }) => ({ zmq: input.zmq, job: null, lastResult: null }),
  initial: 'running',
  states: {
    running: {
      invoke: [
        { id: 'jobs', src: 'push', input: ({ context }) => ({ options: { context: context.zmq }, bind: ['inproc://jobs'] }) },
        { id: 'results', src: 'pull', input: ({ context }) => ({ options: { context: context.zmq }, bind: ['inproc://results'] }) },
      ],
      initial: 'idle',
      states: {
        idle: {
          on: {
            dispatch: {
              target: 'dispatching',
              actions: [
                assign({ job: ({ event }) => event.job }),
                sendTo('jobs', ({ event }) => ({ type: 'send' as const, message: ['job', event.job] })),
              ],
            },
          },
        },
        /** The Push holds the job until a worker can take it. */
        dispatching: { on: { 'zmq.sent': 'awaitingResult' } },
        awaitingResult: {
          on: {
            'zmq.message': {
              guard: 'answersOurJob',
              target: 'idle',
              actions: assign({ lastResult: ({ context }) => context.job, job: null }),
            },
          },
        },
      },
      on: { shutdown: 'stopped' },
    },
    /** Leaving `running` stops both socket actors: their sockets close, the names are free. */
    stopped: { type: 'final' },
  },
});

// 2. The events the walk tries: payloads as the real sockets will deliver them.
const events: DispatcherEvent[] = [
  { type: 'dispatch', job: 'job-1' },
  { type: 'zmq.sent', actorId: 'jobs' },
  { type: 'zmq.message', actorId: 'results', frames: [Buffer.from('done'), Buffer.from('job-1')] },
  { type: 'shutdown' },
];

// 3. The world around the machine for one path: a fresh Context, and workers that each join for
//    one job and leave once they have answered it, so `dispatching` lasts until the test lets a
//    worker in (with a worker always there, the send completes at once and `dispatching` cannot be
//    left by anything else: replay catches that as a path the real system does not take).
interface World {
  zmq: Context;
  /** The dispatcher's own sockets, kept to check them after its actors stopped. */
  mine: { jobs?: Socket; results?: Socket };
  worker?: { jobs: Pull; results: Push };
}

function joinWorker(world: World) {
  const jobs = new Pull({ context: world.zmq });
  const results = new Push({ context: world.zmq });
  jobs.connect('inproc://jobs');
  results.connect('inproc://results');
  world.worker = { jobs, results };
  return world.worker;
}

function leave(world: World) {
  world.worker?.jobs.close();
  world.worker?.results.close();
  world.worker = undefined;
}

const socketsOf = (actor: Actor<typeof dispatcher>) => ({
  jobs: socketOf(actor.getSnapshot().children.jobs),
  results: socketOf(actor.getSnapshot().children.results),
});

// 4. How each model event happens for real, and what each state predicts about the sockets.
const plan: ReplayPlan<typeof dispatcher, World> = {
  setup: () => {
    const zmq = new Context();
    const actor = createActor(dispatcher, { input: { zmq } });
    actor.start();
    return { world: { zmq, mine: socketsOf(actor) }, actor };
  },
  events: {
    dispatch: ({ actor, event }) => actor.send(event),
    shutdown: ({ actor, event }) => actor.send(event),
    // zmq.sent comes from the Push once a worker can take the job: let one in.
    'zmq.sent': ({ world }) => {
      joinWorker(world);
    },
    // zmq.message comes from the Pull: the worker takes the job, answers it, and leaves.
    'zmq.message': async ({ world }) => {
      const worker = world.worker!;
      const [kind, job] = await worker.jobs.receive();
      expect(kind.toString()).toBe('job');
      await worker.results.send(['done', job]);
      leave(world);
    },
  },
  states: {
    'running.idle': ({ world, snapshot }) => {
      // No job is out, and no worker is there: a dispatch now would wait.
      expect(snapshot.context.job).toBeNull();
      expect(world.worker).toBeUndefined();
      expect(world.mine.jobs?.writable).toBe(false);
    },
    'running.dispatching': ({ world, actor }) => {
      // Nobody can take the job: the Push's send waits, and the machine stays here.
      expect(world.mine.jobs?.writable).toBe(false);
      expect(actor.getSnapshot().matches({ running: 'dispatching' })).toBe(true);
    },
    'running.awaitingResult': ({ world, snapshot }) => {
      // The job is queued at the worker, unread.
      expect(world.worker?.jobs.readable).toBe(true);
      expect(snapshot.context.job).toBe('job-1');
    },
    stopped: async ({ world, actor }) => {
      // Leaving `running` stopped both socket actors and closed their sockets.
      const { jobs, results } = world.mine;
      expect(socketsOf(actor)).toEqual({ jobs: undefined, results: undefined });
      expect([jobs?.closed, results?.closed]).toEqual([true, true]);
      // A job handed out but unread still reaches the worker: the Push lingers (ZMQ_LINGER -1) until
      // it is taken, then lets its name go.
      if (world.worker !== undefined) expect((await world.worker.jobs.receive())[0].toString()).toBe('job');
      for (const s of [jobs, results]) if (s !== undefined && !s.events.closed) await new Promise((ended) => s.events.on('end', ended));
      expect(world.zmq.listInprocEndpoints()).toEqual([]);
    },
  },
  teardown: ({ world }) => leave(world),
};

// 5. Every path, replayed.
describe('a user machine embedding sockets, model-based', () => {
  const shortest = modelPaths(dispatcher, { events, input: {} });
  const simple = modelPaths(dispatcher, { events, input: {}, traversal: 'simple' });

  it('the walk reaches every state of the machine', () => {
    const reached = new Set(shortest.map((p) => JSON.stringify(p.state.value)));
    expect([...reached].sort()).toEqual(
      ['"stopped"', '{"running":"awaitingResult"}', '{"running":"dispatching"}', '{"running":"idle"}'].sort(),
    );
    expect(simple.length).toBeGreaterThan(shortest.length);
  });

  for (const [i, path] of shortest.entries()) {
    it(`shortest #${i}: ${path.description}`, () => replayPath(path, plan));
  }
  for (const [i, path] of simple.entries()) {
    it(`simple #${i}: ${path.description}`, () => replayPath(path, plan));
  }
});

describe('replayPath', () => {
  it('fails, naming the step, when the real actor leaves the path the model predicts', async () => {
    const path = modelPaths(dispatcher, { events, input: {} }).find((p) => p.steps.some((s) => s.event.type === 'zmq.message'));
    expect(path).toBeDefined();
    // A world whose worker answers a different job: the machine stays in awaitingResult.
    const wrong: ReplayPlan<typeof dispatcher, World> = {
      ...plan,
      events: {
        ...plan.events,
        'zmq.message': async ({ world, actor }) => {
          const worker = world.worker!;
          await worker.jobs.receive();
          await worker.results.send(['done', 'job-2']); // not our job: the machine keeps waiting
          actor.send({ type: 'shutdown' });
        },
      },
    };
    await expect(replayPath(path!, wrong)).rejects.toThrow(/step \d+ \(zmq\.message\): the model predicts \{"running":"idle"\}; the actor went to "stopped"/);
  });

  it('fails when a path needs an event the plan cannot make happen', async () => {
    const path = modelPaths(dispatcher, { events, input: {} }).find((p) => p.steps.some((s) => s.event.type === 'shutdown'));
    const { shutdown: _, ...rest } = plan.events;
    await expect(replayPath(path!, { ...plan, events: rest })).rejects.toThrow(/no executor for event "shutdown"/);
  });
});

describe('docs/embedding.md', () => {
  it('the recipe shows this file\'s code, verbatim', () => {
    const md = readFileSync(new URL('../../docs/embedding.md', import.meta.url), 'utf8');
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    const marker = '<!-- recipe: test/model/user-machine.test.ts -->';
    const at = md.indexOf(marker);
    expect(at, `docs/embedding.md has no "${marker}"`).toBeGreaterThanOrEqual(0);
    const section = md.slice(at, md.indexOf('\n## ', at) === -1 ? undefined : md.indexOf('\n## ', at));
    const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.length).toBeGreaterThan(2);
    for (const block of blocks) {
      // The doc imports from the package; everything else is an excerpt of this file.
      const body = block.split('\n').filter((line) => !line.startsWith('import ')).join('\n').trim();
      expect(source.includes(body), `docs/embedding.md has a recipe block that is not in this test:\n${body}`).toBe(true);
    }
  });
});
