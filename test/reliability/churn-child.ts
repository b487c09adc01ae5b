// Runs churn (churn.ts) in a process of its own, so nothing but the churn opens descriptors, starts
// timers or allocates between the two measurements. Run with --expose-gc and tsx:
//
//   node --expose-gc --import tsx test/reliability/churn-child.ts '[{"kind": "connect", "transport": "tcp", "cycles": 500}, {"kind": "create", "cycles": 500}]'
//
// Prints one JSON line per run: its ChurnReport, or {"error": "..."}.

import { runConnectChurn, runCreateChurn } from './churn.js';
import type { ChurnRun } from './churn.js';

const runs = JSON.parse(process.argv[2] as string) as ChurnRun[];
for (const run of runs) {
  try {
    const report = run.kind === 'connect' ? await runConnectChurn(run.transport, run.cycles, run.warmup) : await runCreateChurn(run.cycles, run.warmup);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: String((e as Error).stack ?? e) })}\n`);
    process.exitCode = 1;
  }
}
