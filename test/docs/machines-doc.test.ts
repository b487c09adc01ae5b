// docs/machines.md is generated from the machines: it must match what `npm run machines` writes now.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { findMachines, generateMachinesDoc, MACHINES_DOC, rulesOf, toMermaid } from '../../scripts/machines.js';
import { pairMachine } from '../../machines/pair.js';

describe('docs/machines.md', () => {
  it('is up to date with machines/*.ts', async () => {
    const fresh = await generateMachinesDoc();
    const onDisk = readFileSync(MACHINES_DOC, 'utf8');
    // Not toBe on the whole text: a diff of two long documents hides the message.
    expect(onDisk === fresh, 'docs/machines.md is stale: run `npm run machines`').toBe(true);
  });

  it('lists every exported machine of machines/, each once', async () => {
    const names = (await findMachines()).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['pushMachine', 'pullMachine', 'pairMachine', 'pipeMachine', 'supervisorMachine', 'inprocConnectionMachine']));
    expect(new Set(names).size).toBe(names.length);
    const doc = await generateMachinesDoc();
    for (const name of names) expect(doc).toContain(`\n## ${name}\n`);
  });

  it('is deterministic', async () => {
    expect(await generateMachinesDoc()).toBe(await generateMachinesDoc());
  });
});

describe('rules', () => {
  it('each socket machine lists the rules its guards and its socket call, from its own file or its factory\'s', async () => {
    const machines = await findMachines();
    const rules = (name: string) => machines.find((m) => m.name === name)?.rules;
    expect(rules('requestMachine')?.file).toBe('machines/request.ts');
    expect(rules('requestMachine')?.rules.map((r) => r.name)).toEqual(expect.arrayContaining(['maySendRequest', 'mayReceiveReply', 'replyBodyStart']));
    expect(rules('pushMachine')?.file).toBe('machines/round-robin.ts');
    expect(rules('dealerMachine')?.rules.map((r) => r.name)).toEqual(['nextPeer', 'hasRoom']);
    expect(rules('routerMachine')?.rules.map((r) => r.name)).toContain('routeOutcome');
    expect(rules('xsubscriberMachine')?.rules.map((r) => r.name)).toContain('isWanted');
    for (const name of ['pushMachine', 'pairMachine', 'publisherMachine', 'subscriberMachine', 'xpublisherMachine', 'replyMachine', 'routerMachine']) {
      expect(rules(name)?.rules.length, name).toBeGreaterThan(0);
      for (const r of rules(name)?.rules ?? []) expect(r.doc.length, `${name} ${r.name}`).toBeGreaterThan(10);
    }
  });

  it('rulesOf reads the exported functions of a `// ---- the rules` section, with their first sentence', () => {
    const source = [
      '// ---- the rules',
      '/** Whether it may go. Then more. */',
      'export function mayGo(): boolean { return true; }',
      '/** Not a rule: after the machine. */',
      'export const fooMachine = 1;',
      '/** Ignored. */',
      'export function later() {}',
    ].join('\n');
    expect(rulesOf(source)).toEqual([{ name: 'mayGo', doc: 'Whether it may go.' }]);
    expect(rulesOf('export function x() {}')).toEqual([]);
  });
});

describe('toMermaid', () => {
  it('draws the pair machine: initial states, nesting, guarded transitions, targetless ones, final state', () => {
    const lines = toMermaid(pairMachine).split('\n');
    expect(lines[0]).toBe('stateDiagram-v2');
    expect(lines).toContain('  [*] --> open');
    expect(lines).toContain('  state open {');
    expect(lines).toContain('    [*] --> open_unpaired');
    expect(lines).toContain('    state open_paired {');
    expect(lines).toContain('      [*] --> open_paired_ready');
    expect(lines).toContain('  open --> open_paired_mute : pipe.muted [isOurPeer] / markMuted');
    expect(lines).toContain('  open --> open : peer.attached [isPaired] / refusePeer');
    expect(lines).toContain('  open --> lingering : close [shouldLinger]');
    expect(lines).toContain('  closed : entry / release');
    expect(lines).toContain('  closed --> [*]');
  });

  it('draws parallel regions, delayed transitions, root transitions and higher-order guards', () => {
    const m = createMachine({
      id: 'toy',
      type: 'parallel',
      on: { reset: '.a.x' },
      states: {
        a: {
          initial: 'x',
          states: {
            x: { after: { 100: 'y' } },
            y: { on: { back: { target: 'x', guard: { type: 'ok' } } } },
          },
        },
        b: { initial: 'end', states: { end: { type: 'final', description: 'all done; really' } } },
      },
    });
    const lines = toMermaid(m).split('\n');
    expect(lines).toContain('  [*] --> toy');
    expect(lines).toContain('  state toy {');
    expect(lines).toContain('    --');
    expect(lines).toContain('      a_x --> a_y : after 100 ms');
    expect(lines).toContain('      a_y --> a_x : back [ok]');
    expect(lines).toContain('      state "end" as b_end');
    expect(lines).toContain("      b_end : all done' really");
    expect(lines).toContain('      b_end --> [*]');
    expect(lines).toContain('  toy --> a_x : reset');
  });
});
