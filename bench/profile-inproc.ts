// Ours alone, inproc PUSH -> PULL of 16-byte messages, long enough for a CPU profile:
//
//   node --cpu-prof --cpu-prof-interval 50 --cpu-prof-dir=/tmp/prof --import tsx bench/profile-inproc.ts [messages]
//   node --import tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile
//
// Under tsx every module is one generated line, so the summary names functions but not lines; for
// line numbers, compile first (npx tsc -p tsconfig.json --noEmit false --outDir /tmp/mqbuild, link
// node_modules and a {"type":"module"} package.json into it) and profile the .js.

import { Pull, Push } from '../src/index.js';

const n = Number(process.argv[2] ?? 3_000_000);
const payload = Buffer.alloc(16, 0x61);
const pull = new Pull();
await pull.bind('inproc://profile');
const push = new Push();
push.connect('inproc://profile');

const t0 = performance.now();
const received = (async () => {
  for (let i = 0; i < n; i++) await pull.receive();
})();
for (let i = 0; i < n; i++) await push.send(payload);
await received;
const seconds = (performance.now() - t0) / 1000;
console.log(`${n} messages in ${seconds.toFixed(3)} s: ${(n / seconds / 1e6).toFixed(2)}M msg/s`);
push.close();
pull.close();
