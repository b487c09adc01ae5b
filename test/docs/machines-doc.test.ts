// docs/machines.md is generated from the machines: it must match what `npm run machines` writes now.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import type { AnyStateMachine } from 'xstate';
import { findMachines, generateMachinesDoc, MACHINES_DOC, rulesOf, toMermaid } from '../../scripts/machines.js';
import { pairMachine } from '../../machines/pair.js';

type AnyStateNode = AnyStateMachine['root'];

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
    expect(rules('dealerMachine')?.rules.map((r) => r.name)).toEqual(['nextPeer', 'hasRoom', 'probesNewPeer']);
    for (const name of ['dealerMachine', 'requestMachine', 'routerMachine']) expect(rules(name)?.rules.find((r) => r.name === 'probesNewPeer')?.doc, name).toMatch(/^Whether a new peer first gets an empty message/);
    expect(rules('routerMachine')?.rules.map((r) => r.name)).toEqual(expect.arrayContaining(['routeOutcome', 'knownRoutingId']));
    expect(rules('xsubscriberMachine')?.rules.map((r) => r.name)).toContain('isWanted');
    expect(rules('xpublisherMachine')?.rules.map((r) => r.name)).toContain('welcomesNewPeer');
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

  it('rulesOf takes a rule\'s doc from the comment right before it, not from an earlier comment on something else', () => {
    const source = [
      '// ---- the rules',
      '/** A helper, not exported. */',
      'const helper = 1;',
      '/** Whether it may stop. */',
      'export function mayStop(): boolean { return true; }',
    ].join('\n');
    expect(rulesOf(source)).toEqual([{ name: 'mayStop', doc: 'Whether it may stop.' }]);
  });

  it('rulesOf lists a shared rule re-exported in the section, with the doc of its definition in the file named', () => {
    const source = [
      '// ---- the rules',
      '/** Whether it may go. */',
      'export function mayGo(): boolean { return true; }',
      "export { greets, waves } from './shared.js';",
    ].join('\n');
    const shared = '/** Not this one. */\nconst x = 1;\n/** Whether a newcomer is greeted. Then more. */\nexport function greets(): boolean { return x > 0; }\n/** Whether it waves. */\nexport function waves() {}\n';
    const read = (file: string) => (file === 'shared.ts' ? shared : '');
    expect(rulesOf(source, read)).toEqual([
      { name: 'mayGo', doc: 'Whether it may go.' },
      { name: 'greets', doc: 'Whether a newcomer is greeted.' },
      { name: 'waves', doc: 'Whether it waves.' },
    ]);
  });
});

describe('toMermaid', () => {
  it('draws the pair machine: initial states, nesting, named boxes, the composite\'s own transitions from its "any state" box, final state', () => {
    const lines = toMermaid(pairMachine).split('\n');
    expect(lines.slice(0, 7)).toEqual(['---', 'config:', '  flowchart:', '    curve: monotoneY', '  markdownAutoWrap: false', '---', 'stateDiagram-v2']);
    expect(lines).toContain('  [*] --> open');
    expect(lines).toContain('  state open {');
    expect(lines).toContain('    [*] --> open_unpaired');
    expect(lines).toContain('    state open_paired {');
    expect(lines).toContain('      [*] --> open_paired_ready');
    // open's own transitions: the targetless ones listed in its box, the others from it.
    expect(lines).toContain('    state "any state of open" as open__any');
    expect(lines).toContain('    open__any : peer.attached [isPaired] / refusePeer');
    expect(lines).toContain('    open__any --> open_unpaired : peer.detached [isOurPeer] / detachPeer');
    expect(lines).toContain('  open__any --> open_paired_mute : pipe.muted [isOurPeer] / markMuted');
    expect(lines).toContain('  open__any --> lingering : close [shouldLinger]');
    expect(lines).toContain('  class open__any anyState');
    // A box keeps the state's name as its title, entry under it.
    expect(lines).toContain('  state "closed" as closed');
    expect(lines).toContain('  closed : entry / release');
    expect(lines).toContain('  closed --> [*]');
    // Transitions between the same two states share one edge.
    expect(lines).toContain('  lingering --> closed : pipes.drained<br/>linger.expired');
  });

  it('draws parallel regions (nothing but regions in their block), delayed transitions, root transitions and higher-order guards', () => {
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
    // Not `b_end`: Mermaid names the [*] of block b so.
    expect(lines).toContain('      state "end" as b_end_');
    expect(lines).toContain("      b_end_ : all done' really");
    expect(lines).toContain('      b_end_ --> [*]');
    // The parallel root's own transition starts from a box beside it.
    expect(lines).toContain('  state "any state of toy" as toy__any');
    expect(lines).toContain('  toy__any --> a_x : reset');
    // Nothing follows the last region inside the parallel block.
    const body = lines.slice(lines.indexOf('  state toy {'));
    expect(body[body.indexOf('      b_end_ --> [*]') + 1]).toBe('    }');
    expect(body[body.indexOf('      b_end_ --> [*]') + 2]).toBe('  }');
  });

  it('lists transitions that keep their state in its box, names every state in its box, and leaves out the timers of `after`', () => {
    const m = createMachine({
      id: 'm',
      initial: 'a',
      states: {
        a: {
          entry: 'enterA',
          after: { 10: 'b' },
          on: { poke: { actions: 'poked' }, same: { target: 'a', actions: 'again' }, fresh: { target: 'a', reenter: true } },
        },
        b: { initial: 'c', states: { c: { on: { up: { target: '#m.b', reenter: true } } } }, entry: 'enterB' },
      },
    });
    const lines = toMermaid(m).split('\n');
    expect(lines).toContain('  state "a" as a');
    expect(lines).toContain('  a : entry / enterA');
    expect(lines).toContain('  a : poke / poked');
    expect(lines).toContain('  a : same / again');
    expect(lines).toContain('  a --> a : fresh');
    expect(lines.filter((l) => l.includes('raise') || l.includes('cancel'))).toEqual([]);
    expect(lines).toContain('    b_c : up → b');
    expect(lines).toContain('  note right of b : entry / enterB');
  });
});

describe('every transition of every machine', () => {
  it('is drawn once: on an edge, or listed in the box of its state', async () => {
    for (const { name, machine } of await findMachines()) {
      const nodes: AnyStateNode[] = [];
      const walk = (n: AnyStateNode) => {
        nodes.push(n);
        for (const c of Object.values(n.states) as AnyStateNode[]) walk(c);
      };
      walk(machine.root);
      let transitions = 0;
      for (const n of nodes) {
        for (const list of n.transitions.values()) for (const t of list) transitions += Math.max(1, t.target?.length ?? 0);
        for (const t of n.always ?? []) transitions += Math.max(1, t.target?.length ?? 0);
      }
      // What the block shows of them: each line of an edge's label, and each line of a box that is
      // no entry, exit, invocation, description or history mark.
      const descriptions = new Set(nodes.map((n) => n.description).filter((d) => d !== undefined));
      let drawn = 0;
      for (const line of toMermaid(machine).split('\n').map((l) => l.trim())) {
        const edge = /^(\S+) --> (\S+) : (.*)$/.exec(line);
        if (edge !== null) drawn += (edge[3] as string).split('<br/>').length;
        const box = /^\w+ : (.*)$/.exec(line);
        if (box !== null && !/^(entry \/|exit \/|invoke |history$|deep history$)/.test(box[1] as string) && !descriptions.has(box[1] as string)) drawn += 1;
      }
      expect(drawn, name).toBe(transitions);
    }
  });
});
