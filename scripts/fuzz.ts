// `npm run fuzz`: malformed ZMTP streams against our sockets (test/fuzz/runner.ts), figures at the end.
//
//   npm run fuzz -- [--seed S] [--cases N] [--every N] [--lanes N] [--minutes M] [--only I | --batch B]
//                   [--case-timeout MS] [--no-libzmq] [--quiet] [--trace] [--tolerate ID,…]
//
// The same --seed, --cases, --every and --lanes replay exactly the same streams; --only I replays
// case I alone (with its batch's socket), --batch B one batch (its cases concurrently, as in the
// full run); --trace shows what the sockets did. --tolerate permits the consequences of known bugs
// of src/ (test/fuzz/oracle.ts KNOWN_BUGS) to look for others. Exits 1 when anything was found, or
// descriptors leaked.

import { randomInt } from 'node:crypto';
import type { KnownBug } from '../test/fuzz/oracle.js';
import { clean, formatReport, runFuzz, seedText } from '../test/fuzz/runner.js';

const USAGE =
  'usage: npm run fuzz -- [--seed S] [--cases N] [--every N] [--lanes N] [--minutes M] [--only I | --batch B] [--case-timeout MS] [--no-libzmq] [--quiet] [--trace] [--tolerate ID,…]';

function parse(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(a)}\n${USAGE}`);
    const [name, inline] = a.slice(2).split('=', 2);
    if (inline !== undefined) out[name] = inline;
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[name] = argv[++i];
    else out[name] = true;
  }
  return out;
}

function integer(args: Record<string, string | true>, name: string): number | undefined {
  const v = args[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} wants a number, not ${JSON.stringify(v)}\n${USAGE}`);
  return n;
}

const KNOWN = new Set(['seed', 'cases', 'every', 'lanes', 'minutes', 'only', 'batch', 'case-timeout', 'no-libzmq', 'quiet', 'trace', 'tolerate', 'help']);

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  for (const name of Object.keys(args)) if (!KNOWN.has(name)) throw new Error(`unknown option --${name}\n${USAGE}`);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  // The seed only chooses where to start; every case is drawn from it with mulberry32.
  const seed = integer(args, 'seed') ?? randomInt(0, 2 ** 32);
  const minutes = integer(args, 'minutes');
  const cases = integer(args, 'cases') ?? (minutes !== undefined ? 10_000_000 : 2000);
  const quiet = args.quiet === true;
  console.log(`fuzzing with seed ${seedText(seed)}…`);
  const report = await runFuzz({
    seed,
    cases,
    every: integer(args, 'every'),
    lanes: integer(args, 'lanes'),
    minutes,
    only: integer(args, 'only'),
    batch: integer(args, 'batch'),
    caseTimeoutMs: integer(args, 'case-timeout'),
    libzmq: args['no-libzmq'] !== true,
    log: quiet ? undefined : (line) => console.log(line),
    trace: args.trace === true ? (line) => console.log(`    · ${line}`) : undefined,
    tolerate: typeof args.tolerate === 'string' ? (args.tolerate.split(',') as KnownBug[]) : undefined,
  });
  console.log(formatReport(report));
  return clean(report) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error((e as Error).message ?? e);
    process.exit(2);
  },
);
