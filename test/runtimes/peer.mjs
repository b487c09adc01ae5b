// The other process of conformance.mjs: run by the runtime under test (or by Node 20), it binds a
// REP and/or connects a SUB, as its one argument (JSON) asks, and reports on stdout, one JSON line each:
//   {"bound": "<rep lastEndpoint>", "runtime": "...", "version": "..."}   once the REP is bound
//   {"sub": ["rt", "hello"]}                                              the first message the SUB got
//   {"done": true}                                                        every role finished
//   {"error": "..."}                                                      then exit 1
// It answers one request with "pong:<request>", closes its sockets and exits 0.
//
//   argument: {"entry": "<file URL of the built index.js>", "rep"?: "<endpoint to bind>", "sub"?: "<endpoint to connect>"}

/* global Deno */
const runtime = typeof Deno !== 'undefined' ? 'deno' : process.versions.bun !== undefined ? 'bun' : 'node';
const version = runtime === 'deno' ? Deno.version.deno : runtime === 'bun' ? process.versions.bun : process.versions.node;

const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const fail = (e) => {
  say({ error: String(e?.stack ?? e) });
  process.exit(1);
};

// A peer that lost its parent must not live on: it gives up after 30 s.
const guard = setTimeout(() => fail('peer: gave up after 30 s'), 30_000);

try {
  const spec = JSON.parse(process.argv[process.argv.length - 1]);
  const m = await import(spec.entry);
  const open = [];
  const roles = [];
  if (spec.rep !== undefined) {
    const rep = new m.Reply();
    open.push(rep);
    await rep.bind(spec.rep);
    say({ bound: rep.lastEndpoint, runtime, version });
    roles.push((async () => {
      const [request] = await rep.receive();
      await rep.send(`pong:${request.toString()}`);
    })());
  }
  if (spec.sub !== undefined) {
    const sub = new m.Subscriber();
    open.push(sub);
    sub.subscribe('rt');
    sub.connect(spec.sub);
    roles.push((async () => {
      const message = await sub.receive();
      say({ sub: message.map((f) => f.toString()) });
    })());
  }
  await Promise.all(roles);
  // close() lingers until the reply has left (linger -1, as libzmq); then nothing of ours may keep
  // the process alive: it must exit by itself (the parent checks the exit code).
  for (const s of open) s.close();
  clearTimeout(guard);
  say({ done: true });
} catch (e) {
  fail(e);
}
