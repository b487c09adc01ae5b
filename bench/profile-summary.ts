// Self and total time per function from V8 .cpuprofile files (node --cpu-prof), top first, one
// table per file (under tsx there is a second, mostly idle, profile: the loader's worker thread).
//
//   PROFILE_TOP=25 node --import tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function summarise(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(/^.*\/work\/main\//, '').replace(/^file:\/\//, '');
    return `${n.callFrame.functionName || '(anonymous)'}  ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  };

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    all += dt;
    const node = byId.get(id) as ProfileNode;
    self.set(key(node), (self.get(key(node)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur) as ProfileNode);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  });

  const pct = (t: number) => `${((100 * t) / all).toFixed(1).padStart(5)}%`;
  console.log(`${file}: ${(all / 1000).toFixed(0)} ms sampled\n\nself      total     function`);
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}    ${pct(total.get(k) ?? 0)}    ${k}`);
  console.log('');
}

const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: profile-summary.ts <file.cpuprofile>...');
for (const f of files) summarise(f, Number(process.env.PROFILE_TOP ?? 25));
