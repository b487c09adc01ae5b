import { describe, expect, it } from 'vitest';
import { formatEndpoint, isEphemeral, parseEndpoint, type EndpointMode } from '../../src/core/endpoint.js';
import type { ZmqError } from '../../src/core/errors.js';

/** The ZmqError thrown by parsing `address` (fails the test when nothing is thrown). */
function failure(address: unknown, mode: EndpointMode = 'connect'): ZmqError {
  try {
    parseEndpoint(address, mode);
  } catch (e) {
    return e as ZmqError;
  }
  throw new Error(`parseEndpoint(${JSON.stringify(address)}, ${mode}) did not throw`);
}

function expectFailure(address: string, mode: EndpointMode, code: string, ...fragments: string[]): void {
  const e = failure(address, mode);
  expect(e.code).toBe(code);
  expect(e.address).toBe(address);
  expect(e.message).toContain(`endpoint "${address}"`);
  for (const fragment of fragments) expect(e.message).toContain(fragment);
}

describe('endpoint: what is not an endpoint', () => {
  it.each([undefined, null, 5555, {}, ['tcp://a:1']])('endpoint: %j (not a string) is EINVAL', (value) => {
    const e = failure(value);
    expect(e.code).toBe('EINVAL');
    expect(e.message).toContain('must be a string');
  });

  it('endpoint: the empty string is EINVAL listing the accepted forms', () => {
    expectFailure('', 'bind', 'EINVAL', 'empty', 'tcp://host:port', 'ipc://path', 'inproc://name');
  });

  it('endpoint: surrounding whitespace is EINVAL', () => {
    expectFailure(' tcp://127.0.0.1:5555', 'connect', 'EINVAL', 'whitespace');
  });

  it('endpoint: a missing "://" is EINVAL and suggests tcp:// for host:port', () => {
    expectFailure('localhost:5555', 'connect', 'EINVAL', '"://" is missing', 'did you mean "tcp://localhost:5555"');
    expectFailure('tcp:/x', 'connect', 'EINVAL', '"://" is missing', 'tcp://host:port');
  });

  it.each(['pgm', 'epgm', 'norm', 'vmci', 'udp', 'ws', 'wss', 'tipc'])(
    'endpoint: the ZeroMQ transport %s is EPROTONOSUPPORT naming the supported ones',
    (scheme) => {
      expectFailure(`${scheme}://eth0;239.192.1.1:5555`, 'connect', 'EPROTONOSUPPORT',
        `transport "${scheme}"`, 'tcp://host:port', 'ipc://path', 'inproc://name');
    },
  );

  it.each(['foo://x', 'http://example.com:80'])('endpoint: the unknown scheme in %s is EPROTONOSUPPORT, as libzmq says', (address) => {
    expectFailure(address, 'connect', 'EPROTONOSUPPORT', 'unknown transport', 'tcp://host:port');
  });

  it('endpoint: an empty scheme is EINVAL', () => {
    expectFailure('://x', 'connect', 'EINVAL', 'no transport before "://"', 'tcp://host:port');
  });

  it('endpoint: an upper-case scheme is EPROTONOSUPPORT (libzmq compares exactly) asking for lower case', () => {
    expectFailure('TCP://127.0.0.1:5555', 'connect', 'EPROTONOSUPPORT', '"tcp://"', 'lower case');
  });

  it.each(['connect', 'bind'] as const)('endpoint: a trailing ";" on %s is EINVAL saying nothing follows it', (mode) => {
    expectFailure('tcp://127.0.0.1:5555;', mode, 'EINVAL', 'nothing follows ";"');
  });
});

describe('endpoint: inproc', () => {
  it('endpoint: inproc://name keeps the name as written, any characters', () => {
    expect(parseEndpoint('inproc://my-name:with/odd chars', 'bind')).toEqual({
      transport: 'inproc', name: 'my-name:with/odd chars', address: 'inproc://my-name:with/odd chars',
    });
  });

  it('endpoint: an empty inproc name is EINVAL', () => {
    expectFailure('inproc://', 'bind', 'EINVAL', 'inproc name is empty');
  });

  it('endpoint: an inproc name of 255 UTF-8 bytes is accepted, 256 is ENAMETOOLONG', () => {
    expect(parseEndpoint(`inproc://${'a'.repeat(255)}`, 'connect').transport).toBe('inproc');
    expectFailure(`inproc://${'a'.repeat(256)}`, 'connect', 'ENAMETOOLONG', '256 bytes', 'at most 255');
  });

  it('endpoint: inproc name length counts UTF-8 bytes, not characters', () => {
    // 'é' is two bytes, '😀' four: 127 * 2 + 1 = 255 bytes fits; 64 * 4 = 256 does not.
    expect(parseEndpoint(`inproc://${'é'.repeat(127)}a`, 'bind').transport).toBe('inproc');
    expectFailure(`inproc://${'😀'.repeat(64)}`, 'bind', 'ENAMETOOLONG', '256 bytes');
  });
});

describe('endpoint: ipc', () => {
  it('endpoint: ipc://path keeps an absolute or relative path', () => {
    expect(parseEndpoint('ipc:///tmp/feed.sock', 'bind')).toEqual({
      transport: 'ipc', path: '/tmp/feed.sock', abstract: false, wildcard: false, address: 'ipc:///tmp/feed.sock',
    });
    expect(parseEndpoint('ipc://feed.sock', 'connect')).toMatchObject({ path: 'feed.sock', abstract: false });
  });

  it('endpoint: ipc://@name is an abstract socket whose path omits the @', () => {
    const ep = parseEndpoint('ipc://@feed', 'connect');
    expect(ep).toEqual({ transport: 'ipc', path: 'feed', abstract: true, wildcard: false, address: 'ipc://@feed' });
    expect(formatEndpoint(ep)).toBe('ipc://@feed');
  });

  it('endpoint: an empty ipc path or a lone @ is EINVAL', () => {
    expectFailure('ipc://', 'bind', 'EINVAL', 'ipc path is empty', 'ipc://path');
    expectFailure('ipc://@', 'bind', 'EINVAL', 'after "@" is empty', 'ipc://@name');
  });

  it('endpoint: an ipc path with a NUL character is EINVAL', () => {
    expectFailure('ipc:///tmp/a\0b', 'bind', 'EINVAL', 'NUL');
  });

  it('endpoint: an ipc path of 107 UTF-8 bytes fits sun_path, 108 is ENAMETOOLONG', () => {
    const fits = `/${'p'.repeat(106)}`;
    expect(parseEndpoint(`ipc://${fits}`, 'bind')).toMatchObject({ path: fits });
    expectFailure(`ipc:///${'p'.repeat(107)}`, 'bind', 'ENAMETOOLONG', '108 bytes', 'at most 107');
  });

  it('endpoint: an abstract ipc name counts its @ against sun_path', () => {
    expect(parseEndpoint(`ipc://@${'n'.repeat(106)}`, 'bind').transport).toBe('ipc');
    expectFailure(`ipc://@${'n'.repeat(107)}`, 'bind', 'ENAMETOOLONG', '108 bytes');
  });

  it('endpoint: ipc path length counts UTF-8 bytes', () => {
    expectFailure(`ipc:///${'ü'.repeat(54)}`, 'bind', 'ENAMETOOLONG', '109 bytes');
  });

  it('endpoint: ipc://* binds to a generated path and is ephemeral', () => {
    const ep = parseEndpoint('ipc://*', 'bind');
    expect(ep).toEqual({ transport: 'ipc', path: '*', abstract: false, wildcard: true, address: 'ipc://*' });
    expect(isEphemeral(ep)).toBe(true);
  });

  it('endpoint: connecting to ipc://* is EINVAL', () => {
    expectFailure('ipc://*', 'connect', 'EINVAL', 'only valid when binding');
  });
});

describe('endpoint: tcp, good forms', () => {
  it('endpoint: tcp IPv4 address and port', () => {
    expect(parseEndpoint('tcp://127.0.0.1:5555', 'connect')).toEqual({
      transport: 'tcp', host: '127.0.0.1', port: 5555, ipv6: false, address: 'tcp://127.0.0.1:5555',
    });
    expect(parseEndpoint('tcp://0.0.0.0:1', 'bind')).toMatchObject({ host: '0.0.0.0', port: 1 });
    expect(parseEndpoint('tcp://255.255.255.255:65535', 'connect')).toMatchObject({ port: 65535 });
  });

  it('endpoint: tcp [::1] is IPv6 with the brackets stripped and restored by formatEndpoint', () => {
    const ep = parseEndpoint('tcp://[::1]:5555', 'connect');
    expect(ep).toEqual({ transport: 'tcp', host: '::1', port: 5555, ipv6: true, address: 'tcp://[::1]:5555' });
    expect(formatEndpoint(ep)).toBe('tcp://[::1]:5555');
  });

  it.each(['::', '2001:db8::5', '2001:0db8:0000:0000:0000:ff00:0042:8329', '1:2:3:4:5:6:7::', '::ffff:192.0.2.1',
    'FE80::ABCD', '1::2:3:4:5:6:7'])('endpoint: tcp [%s] is a valid IPv6 host', (host) => {
    expect(parseEndpoint(`tcp://[${host}]:80`, 'connect')).toMatchObject({ host, ipv6: true });
  });

  it('endpoint: tcp IPv6 zone ids are accepted and kept in host (fe80::1%eth0)', () => {
    const ep = parseEndpoint('tcp://[fe80::1%eth0]:5555', 'connect');
    expect(ep).toMatchObject({ host: 'fe80::1%eth0', ipv6: true, address: 'tcp://[fe80::1%eth0]:5555' });
    expect(parseEndpoint('tcp://[fe80::1%2]:5555', 'connect')).toMatchObject({ host: 'fe80::1%2' });
  });

  it.each(['localhost', 'example.com', 'my-host.example.org', 'example.com.', 'eth0', 'a'.repeat(63) + '.io',
    '1st.example'])('endpoint: tcp host name %s is accepted', (host) => {
    expect(parseEndpoint(`tcp://${host}:5555`, 'connect')).toMatchObject({ host, ipv6: false });
  });

  it('endpoint: tcp://*:port binds all interfaces', () => {
    const ep = parseEndpoint('tcp://*:5555', 'bind');
    expect(ep).toEqual({ transport: 'tcp', host: '*', port: 5555, ipv6: false, address: 'tcp://*:5555' });
    expect(isEphemeral(ep)).toBe(false);
  });

  it('endpoint: tcp port * and 0 are ephemeral when binding, normalised to 0', () => {
    const star = parseEndpoint('tcp://127.0.0.1:*', 'bind');
    expect(star).toMatchObject({ port: 0, address: 'tcp://127.0.0.1:0' });
    expect(isEphemeral(star)).toBe(true);
    expect(isEphemeral(parseEndpoint('tcp://*:0', 'bind'))).toBe(true);
    expect(parseEndpoint('tcp://[::]:*', 'bind')).toMatchObject({ host: '::', port: 0, address: 'tcp://[::]:0' });
  });

  it('endpoint: tcp port with leading zeros is read as decimal', () => {
    expect(parseEndpoint('tcp://127.0.0.1:08080', 'connect')).toMatchObject({ port: 8080, address: 'tcp://127.0.0.1:8080' });
  });

  it('endpoint: inproc and fixed ports are not ephemeral', () => {
    expect(isEphemeral(parseEndpoint('inproc://x', 'bind'))).toBe(false);
    expect(isEphemeral(parseEndpoint('ipc:///tmp/x', 'bind'))).toBe(false);
  });
});

describe('endpoint: tcp, bad forms', () => {
  it('endpoint: tcp:// with nothing after is EINVAL', () => {
    expectFailure('tcp://', 'bind', 'EINVAL', 'tcp://host:port');
  });

  it('endpoint: tcp without a port is EINVAL suggesting host:port', () => {
    expectFailure('tcp://127.0.0.1', 'connect', 'EINVAL', 'port is missing', 'tcp://127.0.0.1:port');
    expectFailure('tcp://[::1]', 'connect', 'EINVAL', 'port is missing', 'tcp://[::1]:port');
  });

  it('endpoint: tcp port 65536 is EINVAL naming the port', () => {
    expectFailure('tcp://127.0.0.1:65536', 'connect', 'EINVAL', 'port "65536" is not an integer in 1..65535');
  });

  it('endpoint: tcp port 99999 message names the port and the ephemeral forms', () => {
    const e = failure('tcp://127.0.0.1:99999');
    expect(e.message).toBe(
      'endpoint "tcp://127.0.0.1:99999": port "99999" is not an integer in 1..65535 (or * / 0 for an ephemeral port when binding)',
    );
  });

  it.each(['+1', '1e3', '08x', ' 80', '', '-1', '80.0', '0x50', '1_000', '٨٠', '123456'])(
    'endpoint: tcp port "%s" is EINVAL naming the port',
    (port) => {
      expectFailure(`tcp://127.0.0.1:${port}`, 'bind', 'EINVAL', `port "${port}" is not an integer in 1..65535`);
    },
  );

  it.each(['0', '*', '00'])('endpoint: connecting to tcp port %s (ephemeral) is EINVAL', (port) => {
    expectFailure(`tcp://127.0.0.1:${port}`, 'connect', 'EINVAL', `port "${port}" (ephemeral)`, 'only valid when binding');
  });

  it('endpoint: connecting to tcp host * is EINVAL', () => {
    expectFailure('tcp://*:5555', 'connect', 'EINVAL', 'host "*"', 'only valid when binding');
  });

  it('endpoint: an empty tcp host is EINVAL', () => {
    expectFailure('tcp://:5555', 'bind', 'EINVAL', 'host is empty');
  });

  it.each([
    ['256.0.0.1', 'octet "256"'],
    ['1.2.3', 'four decimal octets'],
    ['1.2.3.4.5', 'four decimal octets'],
    ['1..2.3', 'empty'],
    ['010.0.0.1', 'leading zero'],
    ['2130706433', 'four decimal octets'],
    ['1.2.3.1000', 'octet "1000"'],
  ])('endpoint: tcp host %s is EINVAL as an IPv4 address (%s)', (host, why) => {
    expectFailure(`tcp://${host}:5555`, 'connect', 'EINVAL', `host "${host}" is not a valid IPv4 address`, why);
  });

  it.each([
    ['exa_mple.com', 'label "exa_mple"'],
    ['-bad.com', 'label "-bad"'],
    ['bad-.com', 'label "bad-"'],
    ['a..b', 'empty label'],
    ['.a', 'empty label'],
    ['h\u00e9te', 'label'],
    [`${'a'.repeat(64)}.com`, '64 characters'],
    [Array.from({ length: 64 }, () => 'abc').join('.'), 'at most 253'],
  ])('endpoint: tcp host %s is EINVAL as a host name (%s)', (host, why) => {
    expectFailure(`tcp://${host}:5555`, 'connect', 'EINVAL', 'is not a valid host name', why);
  });

  it('endpoint: an unbracketed IPv6 host is EINVAL showing the bracketed form', () => {
    expectFailure('tcp://::1:5555', 'connect', 'EINVAL', 'in brackets', '"tcp://[::1]:5555"');
    expectFailure('tcp://fe80::1:2:80', 'connect', 'EINVAL', '"tcp://[fe80::1:2]:80"');
  });

  it('endpoint: a host with colons that is not IPv6 is EINVAL', () => {
    expectFailure('tcp://a:b:80', 'connect', 'EINVAL', 'host "a:b" is not valid');
  });

  it.each(['1:2:3:4:5:6:7:8:9', '::1::', '1:::2', 'g::1', '12345::', '1.2.3.4::', ':1::', '1::2:', '1:2:3:4:5:6:7',
    '::1%', '::1%eth 0', 'localhost', '*', ''])('endpoint: tcp [%s] is EINVAL as an IPv6 address', (host) => {
    expectFailure(`tcp://[${host}]:5555`, 'connect', 'EINVAL', `"${host}" is not a valid IPv6 address`);
  });

  it('endpoint: a missing "]" or junk after it is EINVAL', () => {
    expectFailure('tcp://[::1:5555', 'connect', 'EINVAL', 'closing "]"');
    expectFailure('tcp://[::1]5555', 'connect', 'EINVAL', 'unexpected "5555" after "]"');
  });

  it('endpoint: a path after the port is EINVAL naming the port', () => {
    expectFailure('tcp://example.com:80/x', 'connect', 'EINVAL', 'port "80/x"');
  });

  it('endpoint: the tcp source-address form is ENOTSUP when connecting', () => {
    expectFailure('tcp://192.168.1.2:0;10.0.0.1:5555', 'connect', 'ENOTSUP', 'not supported yet', '"tcp://10.0.0.1:5555"');
  });

  it('endpoint: the tcp source-address form is EINVAL when binding', () => {
    expectFailure('tcp://192.168.1.2:0;10.0.0.1:5555', 'bind', 'EINVAL', 'only applies to connect');
  });
});

describe('endpoint: formatEndpoint', () => {
  it.each([
    ['tcp://*:*', 'bind', 'tcp://*:0'],
    ['tcp://[2001:db8::1]:00080', 'connect', 'tcp://[2001:db8::1]:80'],
    ['ipc://@abstract', 'connect', 'ipc://@abstract'],
    ['inproc://x', 'connect', 'inproc://x'],
  ] as const)('endpoint: %s (%s) formats as %s and reparses to the same endpoint', (input, mode, normal) => {
    const ep = parseEndpoint(input, mode);
    expect(formatEndpoint(ep)).toBe(normal);
    expect(ep.address).toBe(normal);
    expect(parseEndpoint(normal, mode)).toEqual(ep);
  });
});
