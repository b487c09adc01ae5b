// Found by the fuzzer: a message whose first frame (with MORE) came before the handshake ended was
// completed by the frames after READY and delivered. libzmq refuses it (ERR_ZMTP_UNEXPECTED_COMMAND).

import net from 'node:net';
import { describe, expect, it } from 'vitest';
import '../../src/transport/register-node.js';
import { encodeGreeting, readyCommand } from '../../src/protocol/index.js';
import { Context } from '../../src/socket/context.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import type { SocketEvent } from '../../src/socket/events.js';
import { closeAfterEach, text } from '../helpers/sockets.js';

const track = closeAfterEach();

describe('a message begun before the handshake', () => {
  it('is refused as a protocol error, nothing delivered, and the socket goes on with other peers', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind('tcp://127.0.0.1:*');
    const failed = new Promise<SocketEvent>((resolve) => pull.events.on('handshake:error:protocol', resolve));
    const raw = net.connect(Number(pull.lastEndpoint!.split(':').pop()), '127.0.0.1');
    raw.on('error', () => {});
    raw.write(Buffer.concat([
      encodeGreeting('NULL', false),
      Buffer.from([1, 5]), Buffer.from('early'), // a data frame with MORE, before READY
      readyCommand('PUSH'),
      Buffer.from([0, 4]), Buffer.from('late'),
    ]));
    expect((await failed).error?.code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');
    raw.destroy();
    const push = track(new Push({ context }));
    push.connect(pull.lastEndpoint!);
    await push.send('honest');
    expect(text(await pull.receive())).toEqual(['honest']);
  });
});
