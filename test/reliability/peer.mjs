// The bound peer of the fault runs (faults.ts): a child process that the parent kills with SIGKILL
// and replaces, over and over. Plain JavaScript, so a spare one starts in a tenth of the time a tsx
// child takes; it loads libzmq (the `zeromq` package) or, with `"impl": "ours"` and `--import tsx`,
// monocoque itself. It talks to its parent over the IPC channel only:
//
//   parent ──{cmd:'bind', endpoint}──▶ peer ──{ev:'bound', endpoint, retries}──▶ parent
//   ROUTER, REP, PULL: every message received ──{ev:'got', seq, bad?}──▶ parent; ROUTER and REP echo it
//   XPUB: each subscription change ──{ev:'subs', topics}──▶ parent;
//         {cmd:'publish', from, to, topics} ──▶ publishes seq from..to, topic topics[seq % topics.length]
//
//   argument: {"type": "ROUTER" | "REP" | "PULL" | "XPUB", "impl": "zeromq" | "ours"}
//
// The message layout is the one test/reliability/messages.ts writes and checks (the two must agree).

const spec = JSON.parse(process.argv[2]);
const zmq = spec.impl === 'ours' ? await import('../../src/index.js') : await import('zeromq');

// A peer whose parent went away must not outlive it.
process.on('disconnect', () => process.exit(0));

const say = (o) => process.send?.(o);

/** Why `frames` (the body: [seq, ...parts, trailer]) is not a whole message, or '' when it is. */
function check(frames) {
  if (frames.length < 3) return `${frames.length} frame(s)`;
  const seq = Number(frames[0].toString());
  if (!Number.isSafeInteger(seq)) return `header "${frames[0].toString().slice(0, 20)}"`;
  const n = 1 + (seq % 4);
  if (frames.length !== n + 2) return `seq ${seq}: ${frames.length} frames, ${n + 2} expected`;
  for (let i = 0; i < n; i++) {
    const part = frames[1 + i];
    const size = partSize(seq, i);
    const fill = (seq + i) & 0xff;
    if (part.length !== size) return `seq ${seq} part ${i}: ${part.length} bytes, ${size} expected`;
    for (let j = 0; j < part.length; j++) if (part[j] !== fill) return `seq ${seq} part ${i}: byte ${j} is ${part[j]}, ${fill} expected`;
  }
  const trailer = frames[n + 1].toString();
  if (trailer !== `end:${seq}:${n}`) return `seq ${seq}: trailer "${trailer.slice(0, 20)}"`;
  return '';
}

function partSize(seq, i) {
  return ((seq * 7919 + i * 104729) % 12000) + 1;
}

function body(seq) {
  const n = 1 + (seq % 4);
  const frames = [Buffer.from(String(seq))];
  for (let i = 0; i < n; i++) frames.push(Buffer.alloc(partSize(seq, i), (seq + i) & 0xff));
  frames.push(Buffer.from(`end:${seq}:${n}`));
  return frames;
}

const classes = { ROUTER: zmq.Router, REP: zmq.Reply, PULL: zmq.Pull, XPUB: zmq.XPublisher };
const sock = new classes[spec.type]({ linger: 0 });

async function bind(endpoint) {
  // The address of the peer just killed: on tcp its port may be taken by someone else for a moment.
  let retries = 0;
  for (;;) {
    try {
      await sock.bind(endpoint);
      break;
    } catch (e) {
      if (e.code !== 'EADDRINUSE' || retries >= 500) throw e;
      retries++;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  say({ ev: 'bound', endpoint: sock.lastEndpoint, retries });
}

async function serve() {
  for await (const msg of sock) {
    if (spec.type === 'XPUB') {
      const frame = msg[0];
      if (frame[0] === 1) subs.add(frame.subarray(1).toString());
      else if (frame[0] === 0) subs.delete(frame.subarray(1).toString());
      say({ ev: 'subs', topics: [...subs].sort() });
      continue;
    }
    const frames = spec.type === 'ROUTER' ? msg.slice(1) : msg;
    const bad = check(frames);
    say(bad === '' ? { ev: 'got', seq: Number(frames[0].toString()) } : { ev: 'got', seq: -1, bad });
    if (spec.type !== 'PULL') await sock.send(msg);
  }
}

const subs = new Set();

// One publish at a time, in the order asked (a socket takes one send at a time).
let publishing = Promise.resolve();
async function publish(from, to, topics) {
  for (let seq = from; seq <= to; seq++) await sock.send([topics[seq % topics.length], ...body(seq)]);
}

process.on('message', (m) => {
  if (m.cmd === 'bind') {
    bind(m.endpoint).then(serve).catch((e) => {
      say({ ev: 'error', error: String(e?.stack ?? e) });
      process.exit(1);
    });
  } else if (m.cmd === 'publish') {
    publishing = publishing.then(() => publish(m.from, m.to, m.topics)).catch((e) => say({ ev: 'error', error: String(e?.stack ?? e) }));
  }
});

say({ ev: 'ready' });
