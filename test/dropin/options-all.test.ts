// Every zeromq.js v6 option name, on the socket types zeromq.js gives it (its `defineOpt` calls and
// the Writable/Readable interfaces): accepted by the constructor and as a property, read back, and
// reachable by libzmq's id; refused with TypeError on the other types (sockets are sealed); a bad
// value is EINVAL naming the option. Then the options with effect, over inproc and tcp:
//
//   probeRouter   DEALER/REQ/ROUTER --connect--> ROUTER     ROUTER reads [id, ""] first
//   welcomeMessage XPUB <--connect-- SUB (subscribed "hi")   SUB reads "hi, welcome" first
//   manual        XSUB --0x01 "a"--> XPUB (manual)           XPUB reads the notice, subscribe("a") applies it
//   invertMatching PUB (inverted) --> SUB (inverted, "a")    SUB reads "b…", never "a…"
//
// and one exchange with libzmq (the `zeromq` package) over tcp for each of probeRouter and welcomeMessage.

import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import '../../src/transport/register-node.js';
import { Context, Dealer, Pair, Publisher, Pull, Push, Reply, Request, Router, Subscriber, XPublisher, XSubscriber } from '../../src/index.js';
import type { Socket } from '../../src/index.js';
import { closeAfterEach } from '../helpers/sockets.js';

const track = closeAfterEach();

type Ctor = new (options?: object) => Socket;
const CLASSES: Record<string, Ctor> = { Pair, Publisher, Subscriber, XPublisher, XSubscriber, Request, Reply, Dealer, Router, Push, Pull };
const ALL = Object.keys(CLASSES);
const WRITABLE = ['Pair', 'Publisher', 'Request', 'Reply', 'Dealer', 'Router', 'Push', 'XPublisher', 'XSubscriber'];
const READABLE = ['Pair', 'Subscriber', 'Request', 'Reply', 'Dealer', 'Router', 'Pull', 'XPublisher', 'XSubscriber'];

/** One zeromq.js option: its libzmq id and accessor type, the types that have it, its default, and a value to set. */
interface Case {
  id: number;
  type: 'Bool' | 'Int32' | 'Uint32' | 'Int64' | 'Uint64' | 'String';
  on: string[];
  default: unknown;
  value: unknown;
}

// The options this work added (zeromq.js's names, ids and placement); the older ones have their own tests.
const CASES: Record<string, Case> = {
  sendBufferSize: { id: 11, type: 'Int32', on: WRITABLE, default: -1, value: 65536 },
  multicastHops: { id: 25, type: 'Int32', on: WRITABLE, default: 1, value: 3 },
  receiveBufferSize: { id: 12, type: 'Int32', on: READABLE, default: -1, value: 131072 },
  rate: { id: 8, type: 'Int32', on: ALL, default: 100, value: 1000 },
  recoveryInterval: { id: 9, type: 'Int32', on: ALL, default: 10000, value: 5 },
  tcpKeepalive: { id: 34, type: 'Int32', on: ALL, default: -1, value: 1 },
  tcpKeepaliveCount: { id: 35, type: 'Int32', on: ALL, default: -1, value: 5 },
  tcpKeepaliveIdle: { id: 36, type: 'Int32', on: ALL, default: -1, value: 60 },
  tcpKeepaliveInterval: { id: 37, type: 'Int32', on: ALL, default: -1, value: 10 },
  tcpAcceptFilter: { id: 38, type: 'String', on: ALL, default: null, value: '127.0.0.1' },
  probeRouter: { id: 51, type: 'Bool', on: ['Router', 'Dealer', 'Request'], default: false, value: true },
  typeOfService: { id: 57, type: 'Uint32', on: ALL, default: 0, value: 0x10 },
  gssapiPlainText: { id: 65, type: 'Bool', on: ALL, default: false, value: true },
  gssapiPrincipalNameType: { id: 90, type: 'Int32', on: ALL, default: 'hostBased', value: 'krb5Principal' },
  gssapiServicePrincipalNameType: { id: 91, type: 'Int32', on: ALL, default: 'hostBased', value: 'userName' },
  socksProxy: { id: 68, type: 'String', on: ALL, default: null, value: 'proxy.example:1080' },
  manual: { id: 71, type: 'Bool', on: ['XPublisher'], default: false, value: true },
  welcomeMessage: { id: 72, type: 'String', on: ['XPublisher'], default: null, value: 'hello' },
  invertMatching: { id: 74, type: 'Bool', on: ['Publisher', 'Subscriber', 'XPublisher'], default: false, value: true },
  tcpMaxRetransmitTimeout: { id: 80, type: 'Int32', on: ALL, default: 0, value: 3000 },
  multicastMaxTransportDataUnit: { id: 84, type: 'Int32', on: ALL, default: 1500, value: 9000 },
  vmciBufferSize: { id: 85, type: 'Uint64', on: ALL, default: 0, value: 4096 },
  vmciBufferMinSize: { id: 86, type: 'Uint64', on: ALL, default: 0, value: 1024 },
  vmciBufferMaxSize: { id: 87, type: 'Uint64', on: ALL, default: 0, value: 8192 },
  vmciConnectTimeout: { id: 88, type: 'Int32', on: ALL, default: -1, value: 500 },
  interface: { id: 92, type: 'String', on: ALL, default: null, value: 'eth0' },
  zapEnforceDomain: { id: 93, type: 'Bool', on: ALL, default: false, value: true },
  loopbackFastPath: { id: 94, type: 'Bool', on: ALL, default: false, value: true },
};
// GSSAPI's switches take only their "off" value (see 'GSSAPI' below).
const OFF_ONLY: Record<string, unknown> = { gssapiServer: false, gssapiPrincipal: null, gssapiServicePrincipal: null };

const make = (cls: string, options: object = {}): Socket => track(new (CLASSES[cls] as Ctor)({ context: new Context(), ...options }));
const prop = (s: Socket) => s as unknown as Record<string, unknown>;
const raw = (s: Socket) => s as unknown as Record<string, (id: number, v?: unknown) => unknown>;
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('options: every zeromq.js name on the types that have it', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: default, constructor and property on ${c.on.length === ALL.length ? 'every type' : c.on.join(', ')}; TypeError elsewhere`, () => {
      for (const cls of ALL) {
        if (c.on.includes(cls)) {
          expect(prop(make(cls))[name], `${cls}.${name} default`).toEqual(c.default);
          expect(prop(make(cls, { [name]: c.value }))[name], `new ${cls}({ ${name} })`).toEqual(c.value);
          const s = make(cls);
          prop(s)[name] = c.value;
          expect(prop(s)[name], `${cls}.${name} = …`).toEqual(c.value);
        } else {
          expect(() => make(cls, { [name]: c.value }), `new ${cls}({ ${name} })`).toThrow(TypeError);
          const s = make(cls);
          expect(() => (prop(s)[name] = c.value), `${cls}.${name} = …`).toThrow(TypeError);
        }
      }
    });
  }

  it('the GSSAPI switches accept their off value on every type and read it back', () => {
    for (const cls of ALL) {
      for (const [name, off] of Object.entries(OFF_ONLY)) {
        const s = make(cls, { [name]: off });
        expect(prop(s)[name]).toEqual(off);
        prop(s)[name] = off;
        expect(prop(s)[name]).toEqual(off);
      }
    }
  });

  it('a misspelt option is still a TypeError, in the constructor and as a property', () => {
    expect(() => make('Dealer', { probeRoutre: true })).toThrow(TypeError);
    expect(() => (prop(make('XPublisher')).welcomeMesage = 'x')).toThrow(TypeError);
    expect(() => (prop(make('Subscriber')).tcpKeepAlive = 1)).toThrow(TypeError);
  });
});

describe('options: by libzmq id', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name} is id ${c.id} (${c.type}), on ${c.on[0]}`, () => {
      const s = make(c.on[0] as string);
      const enumValues = name.endsWith('NameType') ? ['hostBased', 'userName', 'krb5Principal'] : undefined;
      const asId = (v: unknown) => (enumValues !== undefined ? enumValues.indexOf(v as string) : typeof v === 'boolean' ? v : v);
      expect(raw(s)[`get${c.type}Option`]?.call(s, c.id)).toEqual(asId(c.default));
      raw(s)[`set${c.type}Option`]?.call(s, c.id, asId(c.value));
      expect(prop(s)[name]).toEqual(c.value);
      expect(raw(s)[`get${c.type}Option`]?.call(s, c.id)).toEqual(asId(c.value));
    });
  }

  it('a string option set as bytes reads back as text, and null clears it (zeromq.js: socksProxy)', () => {
    const s = make('Dealer');
    prop(s).socksProxy = Buffer.from('foo');
    expect(prop(s).socksProxy).toBe('foo');
    prop(s).socksProxy = null;
    expect(prop(s).socksProxy).toBeNull();
    raw(s).setStringOption?.call(s, 68, Buffer.from('bar'));
    expect(raw(s).getStringOption?.call(s, 68)).toBe('bar');
  });

  it('socksProxy set: a tcp connect is ENOTSUP (never a direct connection the proxy was to hide); ipc and inproc connect, and null lets tcp go direct', () => {
    const s = make('Dealer');
    prop(s).socksProxy = 'proxy.example:1080';
    expect(() => s.connect('tcp://127.0.0.1:5999')).toThrow(expect.objectContaining({ code: 'ENOTSUP', message: expect.stringMatching(/socksProxy is set \(proxy\.example:1080\)/) }));
    s.connect('inproc://socks-none');
    prop(s).socksProxy = null;
    s.connect('tcp://127.0.0.1:5999');
    expect(s.lastEndpoint).toBe('tcp://127.0.0.1:5999');
  });
});

describe('options: bad values are EINVAL naming the option, the value and what is accepted', () => {
  const cases: [cls: string, name: string, value: unknown, says: RegExp][] = [
    ['Dealer', 'tcpKeepalive', 2, /^option tcpKeepalive \(ZMQ_TCP_KEEPALIVE\): 2 is not an integer in -1\.\.1$/],
    ['Dealer', 'tcpKeepaliveIdle', -2, /tcpKeepaliveIdle \(ZMQ_TCP_KEEPALIVE_IDLE\): -2 is not an integer in -1\.\./],
    ['Push', 'sendBufferSize', 1.5, /sendBufferSize \(ZMQ_SNDBUF\): 1\.5 is not an integer/],
    ['Dealer', 'recoveryInterval', 'hello', /recoveryInterval \(ZMQ_RECOVERY_IVL\): "hello" is not an integer/],
    ['Dealer', 'rate', 0, /rate \(ZMQ_RATE\): 0 is not an integer in 1\.\./],
    ['Publisher', 'invertMatching', 1, /invertMatching \(ZMQ_INVERT_MATCHING\): 1 is not a boolean/],
    ['XPublisher', 'welcomeMessage', 42, /welcomeMessage \(ZMQ_XPUB_WELCOME_MSG\): 42 is not a string, bytes or null/],
    ['Dealer', 'tcpAcceptFilter', 'example.com', /tcpAcceptFilter \(ZMQ_TCP_ACCEPT_FILTER\): "example.com" is not an IP address with an optional \/mask/],
    ['Dealer', 'tcpAcceptFilter', '10.0.0.0/33', /is not an IP address/],
    ['Dealer', 'interface', 'a-very-long-interface-name', /interface \(ZMQ_BINDTODEVICE\): .* at most 16 are accepted/],
    ['Dealer', 'gssapiPrincipalNameType', 'kerberos', /gssapiPrincipalNameType .*"kerberos" is not one of "hostBased", "userName", "krb5Principal"/],
  ];
  for (const [cls, name, value, says] of cases) {
    it(`${cls} ${name} = ${String(value)}`, () => {
      expect(thrown(() => make(cls, { [name]: value }))).toMatchObject({ code: 'EINVAL', message: expect.stringMatching(says) });
      const s = make(cls);
      const before = prop(s)[name];
      expect(thrown(() => (prop(s)[name] = value))).toMatchObject({ code: 'EINVAL' });
      expect(prop(s)[name]).toEqual(before);
    });
  }

  it('accept filters: IPv4 and IPv6 addresses with or without a mask', () => {
    const s = make('Router');
    for (const f of ['192.168.0.0/16', '10.1.2.3', '::1', 'fe80::/10', '::ffff:10.0.0.1', '2001:db8:0:0:0:0:0:1/128']) {
      prop(s).tcpAcceptFilter = f;
      expect(prop(s).tcpAcceptFilter).toBe(f);
    }
  });

  it('GSSAPI: switching it on is ENOTSUP (never a silent NULL connection), off is accepted', () => {
    expect(thrown(() => make('Dealer', { gssapiServer: true }))).toMatchObject({ code: 'ENOTSUP', message: expect.stringContaining('gssapiServer (ZMQ_GSSAPI_SERVER)') });
    expect(thrown(() => make('Dealer', { gssapiPrincipal: 'svc@host' }))).toMatchObject({ code: 'ENOTSUP' });
    const s = make('Dealer');
    expect(thrown(() => (prop(s).gssapiServicePrincipal = 'svc'))).toMatchObject({ code: 'ENOTSUP' });
    expect(prop(s).gssapiServicePrincipal).toBeNull();
  });
});

// ---- with effect ----

/** A bound socket's address for a peer, tcp or inproc. */
async function bound(s: Socket, transport: 'inproc' | 'tcp', name: string): Promise<string> {
  await s.bind(transport === 'tcp' ? 'tcp://127.0.0.1:*' : `inproc://${name}`);
  return s.lastEndpoint as string;
}

const str = (frames: Buffer[]) => frames.map((f) => f.toString());

for (const transport of ['inproc', 'tcp'] as const) {
  describe(`probeRouter over ${transport}`, () => {
    for (const cls of ['Dealer', 'Request', 'Router'] as const) {
      it(`a ${cls} with probeRouter sends an empty message to a new ROUTER peer before anything else`, async () => {
        const context = new Context();
        const router = track(new Router({ context }));
        const address = await bound(router, transport, `probe-${cls}`);
        const prober = track(new (CLASSES[cls] as Ctor)({ context, probeRouter: true, routingId: 'prober' }));
        prober.connect(address);
        const [id, probe] = (await router.receive()) as Buffer[];
        expect(id?.toString()).toBe('prober');
        expect(probe?.byteLength).toBe(0);
        if (cls === 'Router') return;
        // Then the ordinary exchange, the REQ's lockstep untouched by the probe.
        await (prober as Dealer).send(cls === 'Request' ? 'ping' : ['', 'ping']);
        expect(str((await router.receive()) as Buffer[])).toEqual(['prober', '', 'ping']);
        await router.send(['prober', '', 'pong']);
        const reply = str((await (prober as Dealer).receive()) as Buffer[]);
        expect(reply).toEqual(cls === 'Request' ? ['pong'] : ['', 'pong']);
      });
    }

    it('without probeRouter, the first message a ROUTER reads is the first one sent', async () => {
      const context = new Context();
      const router = track(new Router({ context }));
      const dealer = track(new Dealer({ context, routingId: 'plain' }));
      dealer.connect(await bound(router, transport, 'no-probe'));
      await dealer.send('first');
      expect(str((await router.receive()) as Buffer[])).toEqual(['plain', 'first']);
    });
  });

  describe(`welcomeMessage over ${transport}`, () => {
    it('each new subscriber gets the welcome first, if it subscribed to it', async () => {
      const context = new Context();
      const xpub = track(new XPublisher({ context, welcomeMessage: 'hi, welcome' }));
      const address = await bound(xpub, transport, 'welcome');
      const sub = track(new Subscriber({ context }));
      sub.subscribe('hi');
      sub.connect(address);
      expect(str((await sub.receive()) as Buffer[])).toEqual(['hi, welcome']);
      expect(str((await xpub.receive()) as Buffer[])).toEqual(['\x01hi']);
      // The welcome goes to each subscriber as it comes; bytes are sent as given.
      xpub.welcomeMessage = Buffer.from([0x68, 0x69, 0x00, 0xff]);
      const second = track(new Subscriber({ context }));
      second.subscribe('hi');
      second.connect(address);
      expect(((await second.receive()) as Buffer[])[0]).toEqual(Buffer.from([0x68, 0x69, 0x00, 0xff]));
    });
  });

  describe(`invertMatching over ${transport}`, () => {
    it('an inverted XPUB sends each message to the subscribers none of whose prefixes match it', async () => {
      const context = new Context();
      const xpub = track(new XPublisher({ context, invertMatching: true }));
      const address = await bound(xpub, transport, 'invert-pub');
      // wantsA keeps what it asked for; otherThanZ (inverted itself) keeps all but "z…".
      const wantsA = track(new Subscriber({ context }));
      wantsA.subscribe('a');
      wantsA.connect(address);
      const otherThanZ = track(new Subscriber({ context, invertMatching: true }));
      otherThanZ.subscribe('z');
      otherThanZ.connect(address);
      const notices = [str((await xpub.receive()) as Buffer[]), str((await xpub.receive()) as Buffer[])];
      expect(notices.flat().sort()).toEqual(['\x01a', '\x01z']);
      await xpub.send('a-1'); // to otherThanZ only
      await xpub.send('b-1'); // to both; wantsA drops it
      expect(str((await otherThanZ.receive()) as Buffer[])).toEqual(['a-1']);
      expect(str((await otherThanZ.receive()) as Buffer[])).toEqual(['b-1']);
      // Matching as usual again: "a-2" is the first message wantsA keeps, so "a-1" never reached it.
      xpub.invertMatching = false;
      await xpub.send('a-2');
      expect(str((await wantsA.receive()) as Buffer[])).toEqual(['a-2']);
    });
  });
}

describe('invertMatching on a SUB', () => {
  it('an inverted SUB drops the messages that match its subscriptions and keeps the others', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context, invertMatching: true }));
    await pub.bind('inproc://invert-sub');
    const sub = track(new Subscriber({ context, invertMatching: true }));
    sub.subscribe('a');
    sub.connect('inproc://invert-sub');
    // Over inproc the subscription reaches the PUB as the SUB attaches. The PUB sends "b-1" only;
    // "a-1" would be dropped by the SUB anyway (`readable` reads ahead through the filter).
    await pub.send('a-1');
    await pub.send('b-1');
    expect(str((await sub.receive()) as Buffer[])).toEqual(['b-1']);
    // A plain PUB sends the SUB only what matches: an inverted SUB drops it all.
    pub.invertMatching = false;
    await pub.send('a-2');
    expect(sub.readable).toBe(false);
    sub.invertMatching = false;
    await pub.send('a-3');
    expect(str((await sub.receive()) as Buffer[])).toEqual(['a-3']);
  });
});

describe('XPUB manual', () => {
  for (const transport of ['inproc', 'tcp'] as const) {
    it(`over ${transport}: subscriptions are reported, repeats included, and applied only by subscribe()`, async () => {
      const context = new Context();
      const xpub = track(new XPublisher({ context, manual: true }));
      const address = await bound(xpub, transport, 'manual');
      const sub = track(new Subscriber({ context }));
      sub.connect(address);
      sub.subscribe('news');
      expect(str((await xpub.receive()) as Buffer[])).toEqual(['\x01news']);
      // Not applied: a message to "news" reaches nobody yet. Apply a different topic instead.
      xpub.subscribe('weather');
      sub.subscribe('weather');
      expect(str((await xpub.receive()) as Buffer[])).toEqual(['\x01weather']);
      await xpub.send('news: not sent, nobody is subscribed to it by the XPUB');
      await xpub.send('weather: sunny');
      expect(str((await sub.receive()) as Buffer[])).toEqual(['weather: sunny']);
      // A repeat subscribe is reported too (libzmq reports every one in manual mode).
      sub.subscribe('weather');
      expect(str((await xpub.receive()) as Buffer[])).toEqual(['\x01weather']);
      // Cancel by hand: "weather: gone" is not sent, so "alerts: first" is what arrives next.
      xpub.unsubscribe('weather');
      sub.subscribe('alerts');
      expect(str((await xpub.receive()) as Buffer[])).toEqual(['\x01alerts']);
      xpub.subscribe('alerts');
      await xpub.send('weather: gone');
      await xpub.send('alerts: first');
      expect(str((await sub.receive()) as Buffer[])).toEqual(['alerts: first']);
    });
  }

  it('a subscriber that leaves reports a cancel for each prefix it asked for', async () => {
    const context = new Context();
    const xpub = track(new XPublisher({ context, manual: true }));
    await xpub.bind('inproc://manual-leave');
    const xsub = track(new XSubscriber({ context }));
    xsub.connect('inproc://manual-leave');
    await xsub.send(Buffer.from('\x01a'));
    await xsub.send(Buffer.from('\x01b'));
    expect(str((await xpub.receive()) as Buffer[])).toEqual(['\x01a']);
    expect(str((await xpub.receive()) as Buffer[])).toEqual(['\x01b']);
    xsub.close();
    expect(str((await xpub.receive()) as Buffer[])).toEqual(['\x00a']);
    expect(str((await xpub.receive()) as Buffer[])).toEqual(['\x00b']);
  });

  it('subscribe() without manual is EINVAL; before any notice it changes nothing; setStringOption(6) is the same call', async () => {
    const context = new Context();
    const plain = track(new XPublisher({ context }));
    expect(thrown(() => plain.subscribe('a'))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('manual') });
    const xpub = track(new XPublisher({ context, manual: true }));
    xpub.subscribe('a'); // nobody's notice was read: nothing to apply
    await xpub.bind('inproc://manual-ids');
    const xsub = track(new XSubscriber({ context }));
    xsub.connect('inproc://manual-ids');
    await xsub.send(Buffer.from('\x01t'));
    expect(str((await xpub.receive()) as Buffer[])).toEqual(['\x01t']);
    raw(xpub).setStringOption?.call(xpub, 6, 't');
    await xpub.send('t-1');
    expect(str((await xsub.receive()) as Buffer[])).toEqual(['t-1']);
  });
});

describe('interop with libzmq over tcp', () => {
  it('a monocoque DEALER with probeRouter: a libzmq ROUTER reads the empty probe first', async () => {
    const router = new zmq.Router();
    try {
      await router.bind('tcp://127.0.0.1:*');
      const dealer = track(new Dealer({ probeRouter: true, routingId: 'ours' }));
      dealer.connect(router.lastEndpoint as string);
      const [id, probe] = await router.receive();
      expect(id?.toString()).toBe('ours');
      expect(probe?.byteLength).toBe(0);
    } finally {
      router.close();
    }
  });

  it('a monocoque XPUB with welcomeMessage: a libzmq SUB subscribed to it gets it first', async () => {
    const xpub = track(new XPublisher({ welcomeMessage: 'welcome!' }));
    await xpub.bind('tcp://127.0.0.1:*');
    const sub = new zmq.Subscriber();
    try {
      sub.subscribe('welcome');
      sub.connect(xpub.lastEndpoint as string);
      const [msg] = await sub.receive();
      expect(msg?.toString()).toBe('welcome!');
    } finally {
      sub.close();
    }
  });

  it('a libzmq DEALER with probeRouter: our ROUTER reads the empty probe first', async () => {
    const router = track(new Router());
    await router.bind('tcp://127.0.0.1:*');
    const dealer = new zmq.Dealer({ probeRouter: true, routingId: 'theirs' });
    try {
      dealer.connect(router.lastEndpoint as string);
      expect(str((await router.receive()) as Buffer[])).toEqual(['theirs', '']);
    } finally {
      dealer.close();
    }
  });
});
