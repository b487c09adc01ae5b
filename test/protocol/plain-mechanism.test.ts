import { describe, expect, it } from 'vitest';
import {
  encodeCommand,
  encodeGreeting,
  encodeMetadata,
  errorCommand,
  libzmqPlainErrorCommand,
  FrameDecoder,
  type Greeting,
  GreetingDecoder,
  type Mechanism,
  type MechanismStep,
  readyCommand,
  socketMetadata,
  type Violation,
  type ZapReply,
} from '../../src/protocol/index.js';
import { PlainMechanism, type PlainOptions } from '../../src/protocol/plain-mechanism.js';
import { ascii, hex, Recorder } from './helpers.js';

/** The commands in some frames, as the decoder would hand them to the mechanism. */
function commandsOf(frames: readonly Uint8Array[]): { name: string; data: Uint8Array }[] {
  const sink = new Recorder();
  const decoder = new FrameDecoder();
  for (const f of frames) decoder.push(f, sink);
  return sink.events.map((e) => {
    if ('message' in e) throw new Error('expected only commands');
    return { name: e.command, data: e.data };
  });
}

/** Feeds one command frame to a mechanism. */
function step(mech: Mechanism, frame: Uint8Array): MechanismStep {
  const [cmd] = commandsOf([frame]);
  return mech.onCommand(cmd.name, cmd.data);
}

/** A peer's greeting as the engine hands it to `start` (libzmq sends as-server 0 either way). */
function peerGreeting(asServer = false): Greeting {
  const r = new GreetingDecoder().push(encodeGreeting('PLAIN', asServer));
  if (!r.done || r.greeting === undefined) throw new Error('greeting did not decode');
  return r.greeting;
}

/** The one frame a step sends. */
function sentFrame(s: MechanismStep): Uint8Array {
  expect(s.send?.length).toBe(1);
  return s.send![0];
}

function violationOf(s: MechanismStep): Violation {
  expect(s.status).toBe('error');
  if (s.status !== 'error') throw new Error('expected an error step');
  return s.violation;
}

const PASSWORD = 'hunter2-Sup3rSecret';

const reply = (status: ZapReply['status'], userId = '', metadata: ZapReply['metadata'] = {}): ZapReply => ({
  status,
  statusText: status === 200 ? 'OK' : 'no',
  userId,
  metadata,
});

function client(options: Partial<PlainOptions> = {}): PlainMechanism {
  return new PlainMechanism({
    socketType: 'DEALER',
    asServer: false,
    username: ascii('admin'),
    password: ascii(PASSWORD),
    ...options,
  });
}

function server(options: Partial<PlainOptions> = {}): PlainMechanism {
  return new PlainMechanism({ socketType: 'ROUTER', asServer: true, zap: true, ...options });
}

/** HELLO data: user-len user pass-len pass. */
function helloData(user: string, pass: string): Uint8Array {
  return new Uint8Array([user.length, ...ascii(user), pass.length, ...ascii(pass)]);
}

/** A server that has accepted HELLO (ZAP 200) and now waits for INITIATE. */
function serverAwaitingInitiate(options: Partial<PlainOptions> = {}): PlainMechanism {
  const s = server(options);
  s.start(peerGreeting());
  expect(s.onCommand('HELLO', helloData('admin', PASSWORD)).status).toBe('zap');
  expect(s.zapReplied(reply(200, 'alice')).status).toBe('continue');
  return s;
}

/** The step in which a client of `socketType` answers WELCOME with its INITIATE. */
function clientInitiate(socketType: string): MechanismStep {
  const c = client({ socketType });
  c.start(peerGreeting(true));
  return step(c, encodeCommand('WELCOME'));
}

/** A client that has sent HELLO and received WELCOME, and now waits for READY. */
function clientAwaitingReady(options: Partial<PlainOptions> = {}): PlainMechanism {
  const c = client(options);
  c.start(peerGreeting(true));
  expect(step(c, encodeCommand('WELCOME')).status).toBe('continue');
  return c;
}

describe('PLAIN mechanism: wire vectors (PROTOCOL.md §10)', () => {
  it('announces PLAIN, with as-server from the options', () => {
    const c: Mechanism = client();
    expect(c.name).toBe('PLAIN');
    expect(c.asServer).toBe(false);
    expect(server().asServer).toBe(true);
  });

  it('client: start sends HELLO admin/secret byte for byte and waits', () => {
    const s = client({ username: ascii('admin'), password: ascii('secret') }).start(peerGreeting(true));
    expect(s.status).toBe('continue');
    expect(Array.from(sentFrame(s))).toEqual(
      Array.from(hex('04 13 05 48 45 4c 4c 4f 05 61 64 6d 69 6e 06 73 65 63 72 65 74')),
    );
  });

  it('client: empty (or unset) credentials make a HELLO of two zero lengths', () => {
    const s = new PlainMechanism({ socketType: 'PUSH', asServer: false }).start(peerGreeting(true));
    expect(Array.from(sentFrame(s))).toEqual(Array.from(hex('04 08 05 48 45 4c 4c 4f 00 00')));
  });

  it('server: start sends nothing and waits for HELLO', () => {
    expect(server().start(peerGreeting())).toEqual({ status: 'continue' });
  });

  it('server: a ZAP 200 sends WELCOME byte for byte', () => {
    const s = server();
    s.start(peerGreeting());
    s.onCommand('HELLO', helloData('admin', 'secret'));
    const welcome = s.zapReplied(reply(200));
    expect(welcome.status).toBe('continue');
    expect(Array.from(sentFrame(welcome))).toEqual(Array.from(hex('04 08 07 57 45 4c 43 4f 4d 45')));
  });

  it('server: asks ZAP with mechanism PLAIN and [username, password], sending nothing yet', () => {
    const s = server();
    s.start(peerGreeting());
    const z = step(s, client({ username: ascii('admin'), password: ascii('secret') }).start(peerGreeting()).send![0]);
    expect(z.status).toBe('zap');
    if (z.status !== 'zap') return;
    expect(z.send).toBeUndefined();
    expect(z.request.mechanism).toBe('PLAIN');
    expect(z.request.credentials.map((c) => Array.from(c))).toEqual([Array.from(ascii('admin')), Array.from(ascii('secret'))]);
  });

  it('server: the credentials are copies, safe from reuse of the network chunk', () => {
    const s = server();
    s.start(peerGreeting());
    const data = helloData('bob', 'pw');
    const z = s.onCommand('HELLO', data);
    data.fill(0x7a);
    expect(z.status === 'zap' && z.request.credentials.map((c) => Array.from(c))).toEqual([
      Array.from(ascii('bob')),
      Array.from(ascii('pw')),
    ]);
  });

  it('255-octet username and password travel in a long frame and parse back', () => {
    const user = new Uint8Array(255).fill(0x75);
    const pass = new Uint8Array(255).fill(0x70);
    const hello = sentFrame(client({ username: user, password: pass }).start(peerGreeting(true)));
    expect(hello[0]).toBe(0x06);
    const s = server();
    s.start(peerGreeting());
    const z = step(s, hello);
    expect(z.status === 'zap' && z.request.credentials.map((c) => c.length)).toEqual([255, 255]);
  });
});

describe('PLAIN mechanism: a full handshake in memory', () => {
  //   client (DEALER)                      server (ROUTER, ZAP handler bound)
  //   start ─────────── HELLO ───────────▶ zap step ─▶ zapReplied(200 'alice')
  //         ◀────────── WELCOME ──────────
  //         ─────────── INITIATE ─────────▶ ready (peer DEALER, zap.userId alice)
  //   ready ◀────────── READY ────────────
  it('completes on both sides, each seeing the other, the server with the ZAP verdict', () => {
    const c = client({ identity: ascii('c-1'), metadata: { 'X-App': 'demo' } });
    const s = server({ identity: ascii('s-1'), metadata: { 'X-Srv': 'yes' } });

    expect(s.start(peerGreeting(false))).toEqual({ status: 'continue' });
    const hello = c.start(peerGreeting(true));

    const [helloCmd] = commandsOf(hello.send ?? []);
    const zap = s.onCommand(helloCmd.name, helloCmd.data);
    expect(zap.status).toBe('zap');
    const welcome = s.zapReplied(reply(200, 'alice', { 'X-Role': ascii('admin') }));
    expect(welcome.status).toBe('continue');

    const [welcomeCmd] = commandsOf(welcome.send ?? []);
    const initiate = c.onCommand(welcomeCmd.name, welcomeCmd.data);
    expect(initiate.status).toBe('continue');
    expect(Array.from(sentFrame(initiate))).toEqual(
      Array.from(encodeCommand('INITIATE', socketMetadata('DEALER', ascii('c-1'), { 'X-App': 'demo' }))),
    );

    const [initiateCmd] = commandsOf(initiate.send ?? []);
    const serverDone = s.onCommand(initiateCmd.name, initiateCmd.data);
    expect(serverDone.status).toBe('ready');
    if (serverDone.status !== 'ready') return;
    expect(Array.from(sentFrame(serverDone))).toEqual(Array.from(readyCommand('ROUTER', ascii('s-1'), { 'X-Srv': 'yes' })));
    expect(serverDone.peer.socketType).toBe('DEALER');
    expect(Array.from(serverDone.peer.identity ?? [])).toEqual(Array.from(ascii('c-1')));
    expect(Array.from(serverDone.peer.properties['X-App'])).toEqual(Array.from(ascii('demo')));
    expect(serverDone.peer.zap?.userId).toBe('alice');
    expect(Array.from(serverDone.peer.zap?.metadata['X-Role'] ?? [])).toEqual(Array.from(ascii('admin')));

    const [readyCmd] = commandsOf(serverDone.send ?? []);
    const clientDone = c.onCommand(readyCmd.name, readyCmd.data);
    expect(clientDone.status).toBe('ready');
    if (clientDone.status !== 'ready') return;
    expect(clientDone.send).toBeUndefined();
    expect(clientDone.peer.socketType).toBe('ROUTER');
    expect(Array.from(clientDone.peer.identity ?? [])).toEqual(Array.from(ascii('s-1')));
    expect(clientDone.peer.zap).toBeUndefined();
  });

  it('an empty User-Id from the handler is still reported as a ZAP verdict', () => {
    const s = server({ socketType: 'PULL' });
    s.start(peerGreeting());
    s.onCommand('HELLO', helloData('', ''));
    s.zapReplied(reply(200));
    const done = step(s, encodeCommand('INITIATE', socketMetadata('PUSH')));
    expect(done.status === 'ready' && done.peer.zap).toEqual({ userId: '', metadata: {} });
  });
});

describe('PLAIN server: ZAP', () => {
  it('without a ZAP handler fails at HELLO with ERR_ZAP_NO_HANDLER and sends nothing, as libzmq 4.3', () => {
    for (const zap of [false, undefined]) {
      const s = server({ zap });
      expect(s.start(peerGreeting())).toEqual({ status: 'continue' });
      const r = s.onCommand('HELLO', helloData('admin', PASSWORD));
      expect(r.send).toBeUndefined();
      const v = violationOf(r);
      expect(v.code).toBe('ERR_ZAP_NO_HANDLER');
      expect(v.message).toContain('inproc://zeromq.zap.01');
      expect(v.status).toBeUndefined();
    }
  });

  it('300 closes without a word; 400 and 500 send ERROR with the status as reason', () => {
    for (const status of [300, 400, 500] as const) {
      const s = server();
      s.start(peerGreeting());
      s.onCommand('HELLO', helloData('admin', PASSWORD));
      const r = s.zapReplied(reply(status));
      const v = violationOf(r);
      expect(v.status).toBe(status);
      if (status === 300) expect(r.send).toBeUndefined();
      else expect(Array.from(sentFrame(r))).toEqual(Array.from(libzmqPlainErrorCommand(String(status))));
      // The handshake is over: INITIATE is no longer expected.
      const late = s.onCommand('INITIATE', socketMetadata('DEALER'));
      expect(violationOf(late).code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');
    }
  });

  it('ERROR "400" is the exact frame libzmq 4.3.5 PLAIN servers send ("\\x05ERROR" in C is 0x5E "RROR"), and it decodes as ERROR', () => {
    const s = server();
    s.start(peerGreeting());
    s.onCommand('HELLO', helloData('a', 'b'));
    const frame = sentFrame(s.zapReplied(reply(400)));
    // Captured from libzmq 4.3.5 (the zeromq package) refusing a PLAIN client with ZAP 400.
    expect(Array.from(frame)).toEqual(Array.from(hex('04 09 5e 52 52 4f 52 03 34 30 30')));
    const [{ name, data }] = commandsOf([Uint8Array.from(frame)]);
    expect(name).toBe('ERROR');
    const c = client();
    c.start(peerGreeting());
    expect(violationOf(c.onCommand(name, data)).status).toBe(400);
  });

  it('a ZAP reply nobody asked for is an error naming its status, before HELLO and after the verdict', () => {
    const before = server();
    before.start(peerGreeting());
    const v = violationOf(before.zapReplied(reply(200)));
    expect(v.code).toBe('ERR_ZAP_UNSPECIFIED');
    expect(v.message).toContain('200');

    const twice = serverAwaitingInitiate();
    expect(violationOf(twice.zapReplied(reply(200))).code).toBe('ERR_ZAP_UNSPECIFIED');

    const c = client();
    c.start(peerGreeting(true));
    expect(violationOf(c.zapReplied(reply(400))).code).toBe('ERR_ZAP_UNSPECIFIED');
  });
});

describe('PLAIN: peer ERROR', () => {
  it('client: ERROR "400" instead of WELCOME or READY is an authentication failure with status 400', () => {
    const atWelcome = client();
    atWelcome.start(peerGreeting(true));
    const v = violationOf(step(atWelcome, errorCommand('400')));
    expect(v.code).toBe('ERR_ZMTP_PEER_ERROR');
    expect(v.status).toBe(400);
    expect(v.reason).toBe('400');

    const atReady = clientAwaitingReady();
    const w = violationOf(step(atReady, errorCommand('500')));
    expect(w.status).toBe(500);
  });

  it('server: ERROR from the client fails the handshake in every phase', () => {
    const atHello = server();
    atHello.start(peerGreeting());
    expect(violationOf(step(atHello, errorCommand('x'))).reason).toBe('x');

    const atZap = server();
    atZap.start(peerGreeting());
    atZap.onCommand('HELLO', helloData('a', 'b'));
    expect(violationOf(step(atZap, errorCommand('y'))).code).toBe('ERR_ZMTP_PEER_ERROR');

    const atInitiate = serverAwaitingInitiate();
    expect(violationOf(step(atInitiate, errorCommand('300'))).status).toBe(300);
  });

  it('a malformed ERROR is reported as such', () => {
    const c = client();
    c.start(peerGreeting(true));
    expect(violationOf(c.onCommand('ERROR', hex('09 41'))).code).toBe('ERR_ZMTP_MALFORMED_COMMAND_ERROR');
  });
});

describe('PLAIN: malformed commands', () => {
  const malformedHellos: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /username length/],
    ['username longer than the data', new Uint8Array([5, ...ascii('adm')]), /5-octet username but carries 3/],
    ['no password length', new Uint8Array([5, ...ascii('admin')]), /password length/],
    ['password longer than the data', new Uint8Array([5, ...ascii('admin'), 19, ...ascii('hunter2')]), /19-octet password but carries 7/],
    ['octets after the password', new Uint8Array([...helloData('admin', PASSWORD), 0]), /1 octets after its 19-octet password/],
  ];

  for (const [what, data, message] of malformedHellos) {
    it(`server: a HELLO with ${what} is malformed, naming the lengths`, () => {
      const s = server();
      s.start(peerGreeting());
      const r = s.onCommand('HELLO', data);
      expect(r.send).toBeUndefined();
      const v = violationOf(r);
      expect(v.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_HELLO');
      expect(v.message).toMatch(message);
    });
  }

  it('client: a WELCOME carrying data is malformed, and no INITIATE is sent', () => {
    const c = client();
    c.start(peerGreeting(true));
    const r = step(c, encodeCommand('WELCOME', hex('00')));
    expect(r.send).toBeUndefined();
    const v = violationOf(r);
    expect(v.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_WELCOME');
    expect(v.message).toContain('1 octets');
  });

  it('server: malformed INITIATE metadata is refused and no READY is sent', () => {
    const r = serverAwaitingInitiate().onCommand('INITIATE', hex('01 41'));
    expect(r.send).toBeUndefined();
    expect(violationOf(r).code).toBe('ERR_ZMTP_INVALID_METADATA');
  });

  it('client: malformed READY metadata is refused', () => {
    const r = clientAwaitingReady().onCommand('READY', hex('0b 53 6f'));
    expect(violationOf(r).code).toBe('ERR_ZMTP_INVALID_METADATA');
  });
});

describe('PLAIN: incompatible socket types', () => {
  it('server PUSH refuses an INITIATE from a PUSH client, naming both, without READY', () => {
    const s = serverAwaitingInitiate({ socketType: 'PUSH' });
    const r = step(s, sentFrame(clientInitiate('PUSH')));
    expect(r.send).toBeUndefined();
    const v = violationOf(r);
    expect(v.code).toBe('ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE');
    expect(v.message).toMatch(/PUSH.*PUSH/);
  });

  it('client PUSH refuses a READY from a PUSH server', () => {
    const c = clientAwaitingReady({ socketType: 'PUSH' });
    const v = violationOf(step(c, readyCommand('PUSH')));
    expect(v.code).toBe('ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE');
  });
});

describe('PLAIN: unexpected commands', () => {
  function expectUnexpected(s: MechanismStep, ...mentions: string[]): void {
    expect(s.send).toBeUndefined();
    const v = violationOf(s);
    expect(v.code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');
    for (const m of mentions) expect(v.message).toContain(m);
  }

  it('client before WELCOME: READY, HELLO, INITIATE and unknown names are refused, naming WELCOME', () => {
    for (const frame of [readyCommand('ROUTER'), encodeCommand('HELLO', helloData('a', 'b')), encodeCommand('INITIATE'), encodeCommand('MESSAGE')]) {
      const c = client();
      c.start(peerGreeting(true));
      const [cmd] = commandsOf([frame]);
      expectUnexpected(c.onCommand(cmd.name, cmd.data), JSON.stringify(cmd.name), 'expected WELCOME');
    }
  });

  it('client after WELCOME: a second WELCOME is refused, naming READY', () => {
    expectUnexpected(step(clientAwaitingReady(), encodeCommand('WELCOME')), '"WELCOME"', 'expected READY');
  });

  it('client before start and after completion expects nothing', () => {
    expectUnexpected(step(client(), encodeCommand('WELCOME')), '"WELCOME"');
    const c = clientAwaitingReady();
    expect(step(c, readyCommand('ROUTER')).status).toBe('ready');
    expectUnexpected(step(c, readyCommand('ROUTER')), '"READY"');
    expectUnexpected(step(c, errorCommand('400')), '"ERROR"');
  });

  it('server before HELLO: INITIATE, READY and a WELCOME in place of HELLO (libzmq#3500) are refused', () => {
    for (const frame of [encodeCommand('INITIATE', socketMetadata('DEALER')), readyCommand('DEALER'), encodeCommand('WELCOME')]) {
      const s = server();
      s.start(peerGreeting());
      const [cmd] = commandsOf([frame]);
      expectUnexpected(s.onCommand(cmd.name, cmd.data), JSON.stringify(cmd.name), 'expected HELLO');
    }
  });

  it('server while ZAP is pending: anything, even INITIATE or a second HELLO, is refused', () => {
    for (const frame of [encodeCommand('INITIATE', socketMetadata('DEALER')), encodeCommand('HELLO', helloData('a', 'b')), encodeCommand('ZAP')]) {
      const s = server();
      s.start(peerGreeting());
      expect(s.onCommand('HELLO', helloData('admin', PASSWORD)).status).toBe('zap');
      const [cmd] = commandsOf([frame]);
      expectUnexpected(s.onCommand(cmd.name, cmd.data), JSON.stringify(cmd.name), 'ZAP', 'WELCOME');
    }
  });

  it('server after WELCOME: a second HELLO or a READY is refused, naming INITIATE', () => {
    expectUnexpected(step(serverAwaitingInitiate(), encodeCommand('HELLO', helloData('a', 'b'))), '"HELLO"', 'expected INITIATE');
    expectUnexpected(step(serverAwaitingInitiate(), readyCommand('DEALER')), '"READY"', 'expected INITIATE');
  });

  it('server after completion expects nothing', () => {
    const s = serverAwaitingInitiate();
    expect(step(s, encodeCommand('INITIATE', socketMetadata('DEALER'))).status).toBe('ready');
    expectUnexpected(step(s, encodeCommand('INITIATE', socketMetadata('DEALER'))), '"INITIATE"');
  });

  it('two PLAIN clients fail on each other\'s HELLO', () => {
    const a = client();
    const b = client();
    const helloA = sentFrame(a.start(peerGreeting()));
    b.start(peerGreeting());
    expectUnexpected(step(b, helloA), '"HELLO"');
  });
});

describe('PLAIN: the password stays secret', () => {
  const secret = PASSWORD;
  const secretBytes = Array.from(ascii(secret));

  /** True when `haystack` contains the password's bytes. */
  function containsSecret(haystack: Uint8Array): boolean {
    outer: for (let i = 0; i + secretBytes.length <= haystack.length; i++) {
      for (let j = 0; j < secretBytes.length; j++) if (haystack[i + j] !== secretBytes[j]) continue outer;
      return true;
    }
    return false;
  }

  /** Every failure path we know, each fed the secret password where it can reach the mechanism. */
  function failures(): MechanismStep[] {
    const out: MechanismStep[] = [];
    const fresh = (o: Partial<PlainOptions> = {}): PlainMechanism => {
      const s = server(o);
      s.start(peerGreeting());
      return s;
    };
    out.push(fresh({ zap: false }).onCommand('HELLO', helloData('admin', secret)));
    out.push(fresh().onCommand('HELLO', new Uint8Array([...helloData('admin', secret), 0x21])));
    out.push(fresh().onCommand('HELLO', new Uint8Array([5, ...ascii('admin'), 40, ...ascii(secret)])));
    out.push(fresh().onCommand('HELLO', new Uint8Array([40, ...ascii(secret)])));
    for (const status of [300, 400, 500] as const) {
      const s = fresh();
      s.onCommand('HELLO', helloData('admin', secret));
      out.push(s.zapReplied(reply(status)));
    }
    const pending = fresh();
    pending.onCommand('HELLO', helloData('admin', secret));
    out.push(pending.onCommand('HELLO', helloData('admin', secret)));
    out.push(serverAwaitingInitiate().onCommand('HELLO', helloData('admin', secret)));
    out.push(serverAwaitingInitiate({ socketType: 'PUSH' }).onCommand('INITIATE', socketMetadata('PUSH')));
    out.push(fresh().zapReplied(reply(200)));

    const c = client();
    c.start(peerGreeting(true));
    out.push(step(c, encodeCommand('WELCOME', ascii(secret))));
    out.push(step(clientAwaitingReady(), encodeCommand('WELCOME')));
    out.push(step(clientAwaitingReady(), errorCommand('400')));
    out.push(step(clientAwaitingReady({ socketType: 'PUSH' }), readyCommand('PUSH')));
    out.push(clientAwaitingReady().onCommand('READY', encodeMetadata({ X: 'y' }).subarray(0, 3)));
    const early = client();
    early.start(peerGreeting(true));
    out.push(step(early, readyCommand('ROUTER')));
    return out;
  }

  it('no violation message names the password', () => {
    const steps = failures();
    expect(steps.length).toBeGreaterThan(15);
    for (const s of steps) {
      const v = violationOf(s);
      expect(v.message).not.toContain(secret);
      expect(JSON.stringify(v)).not.toContain(secret);
      for (const frame of s.send ?? []) expect(containsSecret(frame)).toBe(false);
    }
  });

  it('only the client HELLO and the server ZAP request carry it on success', () => {
    const c = client({ password: ascii(secret) });
    const s = server();
    s.start(peerGreeting());
    const hello = c.start(peerGreeting(true));
    expect(containsSecret(sentFrame(hello))).toBe(true);
    const zap = step(s, sentFrame(hello));
    expect(zap.status === 'zap' && containsSecret(zap.request.credentials[1])).toBe(true);
    const welcome = s.zapReplied(reply(200, 'alice'));
    const initiate = step(c, sentFrame(welcome));
    const serverDone = step(s, sentFrame(initiate));
    const clientDone = step(c, sentFrame(serverDone));
    for (const later of [welcome, initiate, serverDone, clientDone]) {
      for (const frame of later.send ?? []) expect(containsSecret(frame)).toBe(false);
      if (later.status === 'ready') {
        for (const value of Object.values(later.peer.properties)) expect(containsSecret(value)).toBe(false);
        expect(later.peer.zap?.userId ?? '').not.toContain(secret);
      }
    }
  });
});
