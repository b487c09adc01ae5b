// The Authenticator (ZAP handler, RFC 27): requests sent the way our servers send them, from a DEALER
// to inproc://zeromq.zap.01, and the exact reply frames; its machine's states; and that a password
// never reaches the machine, its snapshots or an inspector.
//
//   Dealer (a server's ZAP client)            Authenticator's Router
//   ['', '1.0', id, domain, address,   ───▶   [routing id, '', '1.0', id, …]
//        identity, mechanism, …creds]               │ zap.requested (no password) → machine
//   ['', '1.0', id, status, text,      ◀───   [routing id, '', '1.0', id, status, text, user id, '']
//        user id, metadata]

import { afterEach, describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import type { InspectionEvent } from 'xstate';
import { z85Encode } from '../../src/core/z85.js';
import { parseZapReply } from '../../src/protocol/zap.js';
import { Authenticator, ZAP_ENDPOINT } from '../../src/socket/authenticator.js';
import { Context, defaultContext } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { addressRefusal, authenticatorMachine, zapVerdict } from '../../machines/authenticator.js';
import { forkable } from '../../machines/forkable.js';
import type { AuthenticatorContext } from '../../machines/authenticator.js';
import { closeAfterEach, code, text } from '../helpers/sockets.js';
import { countArrayWork } from '../helpers/walks.js';

const track = closeAfterEach();
const running: Authenticator[] = [];
afterEach(async () => {
  for (const auth of running.splice(0)) await auth.stop();
});

const PASSWORD = 'hunter2-c0ffee-9d1b';
const clientKey = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
const otherKey = new Uint8Array(32).map((_, i) => (i * 53 + 7) & 0xff);

/** An Authenticator in a fresh Context, configured, started, and a DEALER connected to it as a server's ZAP client is. */
async function serve(configure: (auth: Authenticator) => void = () => {}, domain?: string) {
  const context = new Context();
  const auth = new Authenticator({ context, domain });
  running.push(auth);
  configure(auth);
  await auth.start();
  const dealer = track(new Dealer({ context }));
  dealer.connect(ZAP_ENDPOINT);
  /** Sends one request (after the delimiter) and returns the reply's frames as text. */
  const ask = async (...frames: (string | Uint8Array)[]): Promise<string[]> => {
    await dealer.send(['', ...frames]);
    return text(await dealer.receive());
  };
  return { context, auth, dealer, ask };
}

const nullRequest = (address: string, id = '1', domain = '') => ['1.0', id, domain, address, 'server-id', 'NULL'];
const plainRequest = (username: string, password: string, address = '127.0.0.1') => ['1.0', '1', '', address, '', 'PLAIN', username, password];
const curveRequest = (key: Uint8Array, address = '127.0.0.1') => ['1.0', '1', '', address, '', 'CURVE', key];
const reply = (status: string, statusText: string, userId = '', id = '1') => ['', '1.0', id, status, statusText, userId, ''];

describe('Authenticator: NULL and addresses', () => {
  it('NULL with no lists: 200, user id "anonymous", the request id echoed, empty metadata', async () => {
    const { ask } = await serve();
    expect(await ask(...nullRequest('10.0.0.1', 'req-42'))).toEqual(reply('200', 'OK', 'anonymous', 'req-42'));
  });

  it('an allow list lets only its addresses in, and the deny list is then not consulted', async () => {
    const { ask } = await serve((auth) => auth.allow('127.0.0.1', '10.0.0.2').deny('127.0.0.1'));
    expect(await ask(...nullRequest('127.0.0.1'))).toEqual(reply('200', 'OK', 'anonymous'));
    expect(await ask(...nullRequest('10.0.0.2'))).toEqual(reply('200', 'OK', 'anonymous'));
    expect(await ask(...nullRequest('10.0.0.3'))).toEqual(reply('400', 'Address is not allowed'));
  });

  it('a deny list (with no allow list) refuses its addresses and lets the others in', async () => {
    const { ask } = await serve((auth) => auth.deny('10.0.0.5'));
    expect(await ask(...nullRequest('10.0.0.5'))).toEqual(reply('400', 'Address is denied'));
    expect(await ask(...nullRequest('10.0.0.6'))).toEqual(reply('200', 'OK', 'anonymous'));
  });

  it('lists can grow while it runs, and each address is kept once', async () => {
    const { auth, ask } = await serve((a) => a.allow('10.0.0.1'));
    expect(await ask(...nullRequest('10.0.0.9'))).toEqual(reply('400', 'Address is not allowed'));
    auth.allow('10.0.0.9', '10.0.0.1');
    expect(await ask(...nullRequest('10.0.0.9'))).toEqual(reply('200', 'OK', 'anonymous'));
    expect(auth.getSnapshot().context.allow).toEqual(['10.0.0.1', '10.0.0.9']);
  });

  it('replies go to the requester that asked, each with its own request id', async () => {
    const { context, ask } = await serve((auth) => auth.deny('10.0.0.5'));
    const other = track(new Dealer({ context }));
    other.connect(ZAP_ENDPOINT);
    await other.send(['', ...nullRequest('10.0.0.5', 'theirs')]);
    expect(await ask(...nullRequest('10.0.0.6', 'mine'))).toEqual(reply('200', 'OK', 'anonymous', 'mine'));
    expect(text(await other.receive())).toEqual(reply('400', 'Address is denied', '', 'theirs'));
  });
});

describe('Authenticator: PLAIN', () => {
  it('the right password: 200 with the username as user id; a wrong one or an unknown user: 400', async () => {
    const { ask } = await serve((auth) => auth.configurePlain({ admin: PASSWORD, guest: 'guest' }));
    expect(await ask(...plainRequest('admin', PASSWORD))).toEqual(reply('200', 'OK', 'admin'));
    expect(await ask(...plainRequest('guest', 'guest'))).toEqual(reply('200', 'OK', 'guest'));
    expect(await ask(...plainRequest('admin', 'guest'))).toEqual(reply('400', 'Wrong password'));
    expect(await ask(...plainRequest('admin', ''))).toEqual(reply('400', 'Wrong password'));
    expect(await ask(...plainRequest('mallory', PASSWORD))).toEqual(reply('400', 'Unknown user'));
  });

  it('not configured: 400 "PLAIN is not configured"; configurePlain replaces the table (a Map works too)', async () => {
    const { auth, ask } = await serve();
    expect(await ask(...plainRequest('admin', PASSWORD))).toEqual(reply('400', 'PLAIN is not configured'));
    auth.configurePlain({ admin: PASSWORD });
    expect(await ask(...plainRequest('admin', PASSWORD))).toEqual(reply('200', 'OK', 'admin'));
    auth.configurePlain(new Map([['ops', 'pa55']]));
    expect(await ask(...plainRequest('admin', PASSWORD))).toEqual(reply('400', 'Unknown user'));
    expect(await ask(...plainRequest('ops', 'pa55'))).toEqual(reply('200', 'OK', 'ops'));
    expect(auth.getSnapshot().context.plainUsers).toEqual(['ops']);
  });

  it('the address is judged first: an allowed address still needs the password, a denied one is refused with it', async () => {
    const { ask } = await serve((auth) => auth.allow('127.0.0.1').configurePlain({ admin: PASSWORD }));
    expect(await ask(...plainRequest('admin', 'nope', '127.0.0.1'))).toEqual(reply('400', 'Wrong password'));
    expect(await ask(...plainRequest('admin', PASSWORD, '10.1.1.1'))).toEqual(reply('400', 'Address is not allowed'));
  });

  it('its replies pass the checks a server applies to them (parseZapReply, as libzmq zap_client.cpp)', async () => {
    const { dealer } = await serve((auth) => auth.configurePlain({ admin: PASSWORD }));
    await dealer.send(['', ...plainRequest('admin', PASSWORD)]);
    expect(parseZapReply(await dealer.receive(), '1')).toEqual({ status: 200, statusText: 'OK', userId: 'admin', metadata: {} });
    await dealer.send(['', ...plainRequest('admin', 'wrong')]);
    expect(parseZapReply(await dealer.receive(), '1')).toEqual({ status: 400, statusText: 'Wrong password', userId: '', metadata: {} });
  });

  it('usernames and passwords are UTF-8', async () => {
    const { ask } = await serve((auth) => auth.configurePlain({ 'zoë': 'mot de passe ✓' }));
    expect(await ask(...plainRequest('zoë', 'mot de passe ✓'))).toEqual(reply('200', 'OK', 'zoë'));
  });
});

describe('Authenticator: CURVE', () => {
  it('not configured: 400; "any": 200 with the client key as Z85 text for user id', async () => {
    const { auth, ask } = await serve();
    expect(await ask(...curveRequest(clientKey))).toEqual(reply('400', 'CURVE is not configured'));
    auth.configureCurve('any');
    expect(await ask(...curveRequest(clientKey))).toEqual(reply('200', 'OK', z85Encode(clientKey)));
    expect(auth.getSnapshot().context.curveKeys).toBe('any');
  });

  it('a key given as Z85 accepts the request that carries it raw; a key not in the set is refused', async () => {
    const { auth, ask } = await serve((a) => a.configureCurve([z85Encode(clientKey)]));
    expect(await ask(...curveRequest(clientKey))).toEqual(reply('200', 'OK', z85Encode(clientKey)));
    expect(await ask(...curveRequest(otherKey))).toEqual(reply('400', 'Unknown key'));
    // Given as bytes: the same; the context holds public keys as Z85 text only.
    auth.configureCurve(new Set([otherKey]));
    expect(await ask(...curveRequest(otherKey))).toEqual(reply('200', 'OK', z85Encode(otherKey)));
    expect(await ask(...curveRequest(clientKey))).toEqual(reply('400', 'Unknown key'));
    expect(auth.getSnapshot().context.curveKeys).toEqual([z85Encode(otherKey)]);
  });
});

describe('Authenticator: domains, malformed requests', () => {
  it('with a domain, only requests for it are judged; others get 400', async () => {
    const { ask } = await serve(() => {}, 'global');
    expect(await ask(...nullRequest('10.0.0.1', '1', 'global'))).toEqual(reply('200', 'OK', 'anonymous'));
    expect(await ask(...nullRequest('10.0.0.1', '1', 'other'))).toEqual(reply('400', 'Unknown domain "other"'));
    expect(await ask(...nullRequest('10.0.0.1', '1', ''))).toEqual(reply('400', 'Unknown domain ""'));
  });

  it('domain "*" judges every domain', async () => {
    const { auth, ask } = await serve(() => {}, '*');
    expect(await ask(...nullRequest('10.0.0.1', '1', 'anything'))).toEqual(reply('200', 'OK', 'anonymous'));
    expect(auth.getSnapshot().context.domain).toBe('*');
  });

  it('a version other than 1.0 or missing frames: 500, and it goes on serving', async () => {
    const { ask } = await serve((auth) => auth.configurePlain({ admin: PASSWORD }));
    expect(await ask('2.0', '7', '', '10.0.0.1', '', 'NULL')).toEqual(reply('500', 'Unsupported ZAP version "2.0"; expected "1.0"', '', '7'));
    expect(await ask('1.0', '8', 'global')).toEqual(reply('500', 'Malformed request: 3 frames after the delimiter; a request has at least 6', '', '8'));
    expect(await ask('1.0', '9')).toEqual(reply('500', 'Malformed request: 2 frames after the delimiter; a request has at least 6', '', '9'));
    expect(await ask('1.0', '1', '', '10.0.0.1', '', 'PLAIN', 'admin')).toEqual(reply('500', 'Malformed request: PLAIN has 2 credentials, a username and a password'));
    expect(await ask(...curveRequest(clientKey.subarray(0, 31)))).toEqual(reply('500', 'Malformed request: CURVE has 1 credential, a 32-byte public key'));
    expect(await ask('1.0', '1', '', '10.0.0.1', '', 'NULL', 'extra')).toEqual(reply('500', 'Malformed request: NULL has no credentials'));
    expect(await ask(...nullRequest('10.0.0.1'))).toEqual(reply('200', 'OK', 'anonymous'));
  });

  it('an unknown mechanism: 400', async () => {
    const { ask } = await serve();
    expect(await ask('1.0', '1', '', '10.0.0.1', '', 'GSSAPI', 'token')).toEqual(reply('400', 'Mechanism "GSSAPI" is not supported'));
  });

  it('a message with no request id to echo gets no reply; the next request gets its own', async () => {
    const { dealer, ask } = await serve();
    await dealer.send(['', '1.0']); // version, no request id
    await dealer.send(['not a delimiter', '1.0', '5', '', '10.0.0.1', '', 'NULL']);
    expect(await ask(...nullRequest('10.0.0.1', 'next'))).toEqual(reply('200', 'OK', 'anonymous', 'next'));
  });

  it('counts what it accepted and refused', async () => {
    const { auth, ask } = await serve((a) => a.deny('10.0.0.5'));
    await ask(...nullRequest('10.0.0.1'));
    await ask(...nullRequest('10.0.0.5'));
    await ask('0.9', '1');
    expect(auth.getSnapshot().context).toMatchObject({ accepted: 1, refused: 2 });
  });
});

describe('Authenticator: lifecycle', () => {
  it('idle → starting → running → stopping → stopped, binding and then freeing the ZAP endpoint', async () => {
    const context = new Context();
    const auth = new Authenticator({ context });
    const states: unknown[] = [];
    auth.actor.subscribe((s) => states.push(s.value));
    expect(auth.getSnapshot().value).toBe('idle');
    const started = auth.start();
    expect(auth.getSnapshot().value).toBe('starting');
    await started;
    expect(auth.getSnapshot().value).toBe('running');
    expect(context.listInprocEndpoints()).toEqual([ZAP_ENDPOINT]);
    const stopped = auth.stop();
    expect(auth.getSnapshot().value).toBe('stopping');
    await stopped;
    expect(auth.getSnapshot().value).toBe('stopped');
    expect(auth.getSnapshot().status).toBe('done');
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(context.listInprocEndpoints()).toEqual([]);
    // The endpoint is free: a Router may bind it now.
    const router = track(new Router({ context }));
    await router.bind(ZAP_ENDPOINT);
    await auth.stop(); // again: harmless
  });

  it('stop before start ends at once; a stopped Authenticator refuses start and configuration (EFSM)', async () => {
    const auth = new Authenticator({ context: new Context() });
    await auth.stop();
    expect(auth.getSnapshot().value).toBe('stopped');
    expect(await code(auth.start())).toBe('EFSM');
    expect(() => auth.allow('127.0.0.1')).toThrow(expect.objectContaining({ code: 'EFSM' }));
    expect(() => auth.configureCurve('any')).toThrow(expect.objectContaining({ code: 'EFSM' }));
  });

  it('stop while starting: the start fails with ECANCELED and the machine still ends', async () => {
    const auth = new Authenticator({ context: new Context() });
    const started = auth.start();
    const stopped = auth.stop();
    expect(await code(started)).toBe('ECANCELED');
    await stopped;
    expect(auth.getSnapshot().value).toBe('stopped');
  });

  it('start twice: the second start fails with EADDRINUSE and the first goes on serving', async () => {
    const { auth, ask } = await serve();
    const e = await auth.start().catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'EADDRINUSE', address: ZAP_ENDPOINT });
    expect(auth.getSnapshot().value).toBe('running');
    expect(await ask(...nullRequest('10.0.0.1'))).toEqual(reply('200', 'OK', 'anonymous'));
  });

  it('a second Authenticator in the same Context: EADDRINUSE, back to idle, and it may start once the first stopped', async () => {
    const { context, auth: first } = await serve();
    const second = new Authenticator({ context });
    running.push(second);
    expect(await code(second.start())).toBe('EADDRINUSE');
    expect(second.getSnapshot().value).toBe('idle');
    expect(context.sockets.filter((s) => s.type === 'ROUTER')).toHaveLength(1); // its Router was closed
    await first.stop();
    await second.start();
    expect(second.getSnapshot().value).toBe('running');
  });

  it('Authenticators of different Contexts do not meet; with no Context it serves the default one', async () => {
    await serve();
    await serve();
    const auth = new Authenticator();
    running.push(auth);
    expect(auth.context).toBe(defaultContext());
    await auth.start();
    expect(defaultContext().listInprocEndpoints()).toContain(ZAP_ENDPOINT);
    await auth.stop();
    expect(defaultContext().listInprocEndpoints()).not.toContain(ZAP_ENDPOINT);
  });
});

/** JSON of anything an inspector may hold: shared and circular parts written once. */
function toJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return String(v);
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[seen]';
      seen.add(v);
    }
    return v;
  }) ?? '';
}

describe('Authenticator: secrets', () => {
  it('no inspection event and no snapshot of a PLAIN exchange holds the password', async () => {
    const events: InspectionEvent[] = [];
    const context = new Context({ inspect: (e) => void events.push(e) });
    const auth = new Authenticator({ context });
    running.push(auth);
    const snapshots: string[] = [];
    auth.actor.subscribe((s) => snapshots.push(toJson(s)));
    auth.configurePlain({ admin: PASSWORD });
    await auth.start();
    const dealer = track(new Dealer({ context }));
    dealer.connect(ZAP_ENDPOINT);
    for (const password of [PASSWORD, 'wrong']) {
      await dealer.send(['', ...plainRequest('admin', password)]);
      await dealer.receive();
    }
    await auth.stop();

    // The inspector did watch the Authenticator: it saw the verdicts, not the password.
    const requested = events.filter((e) => e.type === '@xstate.event' && e.actorRef === auth.actor && e.event.type === 'zap.requested');
    expect(requested.map((e) => (e as Extract<InspectionEvent, { type: '@xstate.event' }>).event)).toEqual([
      expect.objectContaining({ username: 'admin', passwordOk: true }),
      expect.objectContaining({ username: 'admin', passwordOk: false }),
    ]);
    expect(events.length).toBeGreaterThan(20);
    expect(snapshots.length).toBeGreaterThan(4);
    const bytes = [...new TextEncoder().encode(PASSWORD)].join(',');
    const hex = Buffer.from(PASSWORD).toString('hex');
    for (const json of [...events.map(toJson), ...snapshots]) {
      expect(json.includes(PASSWORD)).toBe(false);
      expect(json.includes(bytes)).toBe(false);
      expect(json.includes(hex)).toBe(false);
    }
    // The check can fail: the password is in the frames the Dealer sent.
    expect(toJson({ frames: plainRequest('admin', PASSWORD) }).includes(PASSWORD)).toBe(true);
  });
});

describe('Authenticator: bad arguments (EINVAL, naming the value)', () => {
  const auth = () => new Authenticator({ context: new Context() });
  const einval = (f: () => unknown, ...parts: string[]) => {
    let error: { code?: string; message?: string } | undefined;
    try {
      f();
    } catch (e) {
      error = e as typeof error;
    }
    expect(error?.code).toBe('EINVAL');
    for (const part of parts) expect(error?.message).toContain(part);
    return error?.message ?? '';
  };

  it('a CURVE key of the wrong length or alphabet, or not a key list', () => {
    einval(() => auth().configureCurve(['tooShort']), 'key 0', '"tooShort"', '8 characters', '40');
    einval(() => auth().configureCurve([z85Encode(clientKey), new Uint8Array(31)]), 'key 1', '31 bytes', '32');
    einval(() => auth().configureCurve(['~'.repeat(40)]), 'key 0', 'not Z85');
    einval(() => auth().configureCurve([42 as never]), 'key 0', '42');
    einval(() => auth().configureCurve(z85Encode(clientKey) as never), '"any"', 'pass [key]');
    einval(() => auth().configureCurve(null as never), 'null');
  });

  it('a password that is not a string: the user is named, the value is not shown', () => {
    const message = einval(() => auth().configurePlain({ admin: 987654 as never }), 'password of user "admin"', 'a number, not a string');
    expect(message).not.toContain('987654');
    einval(() => auth().configurePlain(['admin'] as never), 'an array of 1 item', 'table of users');
    einval(() => auth().configurePlain(new Map([[7 as never, 'x']])), 'username 7');
    einval(() => auth().configurePlain({ admin: 'x'.repeat(256) }), 'user "admin"', '256 bytes', '255');
  });

  it('addresses that are not strings, and bad options', () => {
    einval(() => auth().allow('127.0.0.1', 42 as never), 'allow()', 'address 2', '42');
    einval(() => auth().deny(null as never), 'deny()', 'address 1', 'null');
    einval(() => new Authenticator({ domain: 5 as never }), 'domain', '5');
    einval(() => new Authenticator({ context: {} as never }), 'context', 'not a Context');
    einval(() => new Authenticator({ domian: 'x' } as never), '"domian"', 'context, domain');
  });

  it('a refused configuration changes nothing', () => {
    const a = auth();
    a.configurePlain({ admin: PASSWORD });
    einval(() => a.configurePlain({ ops: 'ok', admin: 1 as never }), 'user "admin"');
    expect(a.getSnapshot().context.plainUsers).toEqual(['admin']);
  });
});

describe('authenticatorMachine (pure steps)', () => {
  const base: AuthenticatorContext = { domain: '*', allow: [], deny: [], plainUsers: ['admin'], curveKeys: null, accepted: 0, refused: 0 };
  const request = { version: '1.0', frames: 8, domain: '', address: '10.0.0.1', mechanism: 'PLAIN', username: 'admin' };

  it('start binds (an effect), a request while running yields the reply effect with the verdict', () => {
    let [s, actions] = initialTransition(authenticatorMachine, { domain: 'global' });
    expect(s.value).toBe('idle');
    expect(s.context).toEqual({ ...base, domain: 'global', plainUsers: null });
    [s, actions] = transition(authenticatorMachine, s, { type: 'start' });
    expect(s.value).toBe('starting');
    expect(actions.map((a) => a.type)).toEqual(['bind']);
    [s, actions] = transition(authenticatorMachine, s, { type: 'bind.succeeded' });
    expect(s.value).toBe('running');
    expect(actions.map((a) => a.type)).toEqual(['confirmStart', 'serve']);
    [s] = transition(authenticatorMachine, s, { type: 'configure.plain', users: ['admin'] });
    [s, actions] = transition(authenticatorMachine, s, { type: 'zap.requested', ...request, domain: 'global', passwordOk: true });
    expect(actions.filter((a) => a.type === 'reply').map((a) => a.params)).toEqual([{ status: '200', statusText: 'OK', userId: 'admin' }]);
    expect(s.context.accepted).toBe(1);
    [s, actions] = transition(authenticatorMachine, s, { type: 'start' });
    expect(actions.map((a) => [a.type, a.params])).toEqual([['refuseStart', { reason: 'started' }]]);
    [s, actions] = transition(authenticatorMachine, s, { type: 'stop' });
    expect(s.value).toBe('stopping');
    expect(actions.map((a) => a.type)).toEqual(['closeRouter']);
    [s] = transition(authenticatorMachine, s, { type: 'router.closed' });
    expect(s.status).toBe('done');
  });

  it('a failed bind goes back to idle, reporting the failure', () => {
    let [s] = initialTransition(authenticatorMachine, {});
    [s] = transition(authenticatorMachine, s, { type: 'start' });
    const [after, actions] = transition(authenticatorMachine, s, { type: 'bind.failed', code: 'EADDRINUSE', message: 'taken' });
    expect(after.value).toBe('idle');
    expect(actions.map((a) => a.type)).toEqual(['reportBindFailure']);
  });

  // allow and deny add to the context's lists in place: steps branched from one snapshot go through
  // forkable copies (machines/forkable.ts), as for the socket machines' tables.
  it('allow and deny branched from one snapshot (forkable) do not share their lists', () => {
    const fork = forkable(authenticatorMachine);
    const [s] = transition(fork, initialTransition(fork, {})[0], { type: 'allow', addresses: ['10.0.0.1'] });
    const [a] = transition(fork, s, { type: 'allow', addresses: ['10.0.0.2'] });
    const [b] = transition(fork, s, { type: 'deny', addresses: ['10.0.0.3'] });
    expect(s.context).toMatchObject({ allow: ['10.0.0.1'], deny: [] });
    expect(a.context).toMatchObject({ allow: ['10.0.0.1', '10.0.0.2'], deny: [] });
    expect(b.context).toMatchObject({ allow: ['10.0.0.1'], deny: ['10.0.0.3'] });
    expect(addressRefusal(b.context.allow, b.context.deny, '10.0.0.2')).toBe('Address is not allowed');
  });

  it('zapVerdict and addressRefusal: the rules', () => {
    expect(zapVerdict(base, { ...request, passwordOk: true })).toEqual({ status: '200', statusText: 'OK', userId: 'admin' });
    expect(zapVerdict(base, { ...request, passwordOk: false }).statusText).toBe('Wrong password');
    expect(zapVerdict(base, { ...request, passwordOk: true, version: '1.1' }).status).toBe('500');
    expect(zapVerdict({ ...base, domain: 'global' }, { ...request, passwordOk: true }).status).toBe('400');
    expect(addressRefusal([], [], 'x')).toBeUndefined();
    expect(addressRefusal(['a'], ['b'], 'b')).toBe('Address is not allowed');
    expect(addressRefusal([], ['b'], 'b')).toBe('Address is denied');
  });
});

describe('Authenticator with many keys, users and addresses', () => {
  /** How many list entries `includes` and `indexOf` walked while `work` ran (at most each list's length a call). */
  const listWalks = (work: () => void) => countArrayWork(['includes', 'indexOf'], work);
  const K = 5000;
  const keyText = (i: number) => z85Encode(new Uint8Array(32).map((_, j) => (i >> (8 * (j % 2))) & 0xff ^ j));
  const keys = Array.from({ length: K }, (_, i) => keyText(i));

  // configureCurve removed repeats with a search of the keys kept so far (K * K / 2 steps: 14 s for
  // 32,000 keys), and each request was judged by a search of every key, user or address.
  it(`configureCurve with ${K} keys, then ${K} requests judged: no list is searched`, () => {
    const a = new Authenticator({ context: new Context() });
    let kept: unknown;
    const configuring = listWalks(() => {
      a.configureCurve([...keys, keys[0]!]); // a repeat is dropped
      kept = a.getSnapshot().context.curveKeys;
    });
    expect(kept).toEqual(keys);
    expect(configuring).toBe(0);
    const context: AuthenticatorContext = { domain: '*', allow: [], deny: keys.slice(0, K), plainUsers: keys, curveKeys: keys, accepted: 0, refused: 0 };
    const verdicts: string[] = [];
    const judging = listWalks(() => {
      for (let i = 0; i < K; i++) {
        const clientKey = i % 2 === 0 ? keys[i]! : keyText(K + i); // half known, half not
        verdicts.push(zapVerdict(context, { version: '1.0', frames: 7, domain: '', address: `10.0.${i >> 8}.${i & 255}`, mechanism: 'CURVE', clientKey }).status);
        verdicts.push(zapVerdict(context, { version: '1.0', frames: 8, domain: '', address: '10.1.0.1', mechanism: 'PLAIN', username: keys[K - 1 - i]!, passwordOk: true }).status);
      }
      verdicts.push(zapVerdict(context, { version: '1.0', frames: 6, domain: '', address: keys[7]!, mechanism: 'NULL' }).status);
    });
    expect(verdicts.filter((v) => v === '200').length).toBe(K / 2 + K);
    expect(verdicts.at(-1)).toBe('400'); // a denied address
    expect(judging).toBe(0);
  });

  it(`allow() and deny() of ${K} addresses at once keep each once, in order, with no list searched`, () => {
    const a = new Authenticator({ context: new Context() });
    const addresses = Array.from({ length: K }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    const walked = listWalks(() => {
      a.allow(...addresses, addresses[3]!);
      a.allow(addresses[4]!, '192.168.0.1');
      a.deny(...addresses);
    });
    expect(a.getSnapshot().context.allow).toEqual([...addresses, '192.168.0.1']);
    expect(a.getSnapshot().context.deny).toEqual(addresses);
    expect(walked).toBe(0);
  });

  // Each call copied the list and made the copy's Set (32,000 calls: 51 s).
  it(`${K} allow() calls of one address each, and ${K} deny() calls: no list is copied or walked`, () => {
    const a = new Authenticator({ context: new Context() });
    const addresses = Array.from({ length: K }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    const before = a.getSnapshot().context;
    const work = countArrayWork(['includes', 'indexOf', 'slice', 'concat', 'filter', 'map', Symbol.iterator], () => {
      for (let i = 0; i < K; i++) a.allow(addresses[i]!); // (an index loop: a for-of would count)
      a.allow(addresses[9]!, '192.168.0.1'); // the repeat is kept once
      for (let i = 0; i < K; i++) a.deny(addresses[i]!);
    }, 64);
    expect(work).toBe(0);
    const { allow, deny } = a.getSnapshot().context;
    expect(allow).toEqual([...addresses, '192.168.0.1']);
    expect(deny).toEqual(addresses);
    expect(before.allow).toBe(allow); // one list, added to in place (documented)
    // The lookups see every address added, and only those.
    expect(addressRefusal(allow, deny, addresses[K - 1]!)).toBeUndefined();
    expect(addressRefusal(allow, deny, '192.168.0.1')).toBeUndefined();
    expect(addressRefusal(allow, deny, '10.200.0.1')).toBe('Address is not allowed');
    expect(addressRefusal([], deny, addresses[K - 1]!)).toBe('Address is denied');
  });
});
