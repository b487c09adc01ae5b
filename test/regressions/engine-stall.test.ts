// Issue 14 (found by the reliability run: a PUSH over ipc stopped sending after a reconnect). The
// engine's flush can stop at FLUSH_LIMIT just after taking the last queued message: the pipe is then
// empty, but only a read that finds it empty makes it tell its reader of the next write. When that
// engine's stream went (the peer died before `drain`), the next engine attached to a pipe that would
// never tell it anything, and every later send stayed queued. Each engine now reads an empty pipe
// when it attaches, and after a flush that emptied it.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Context, Pull, Push } from '../../src/index.js';
import { closeAfterEach, text } from '../helpers/sockets.js';

const track = closeAfterEach();

describe('a send after a reconnect is not stuck behind a flush that stopped at its limit (issue 14)', () => {
  // Over ipc, where a path can be bound again at once (a tcp port freed and taken again could race).
  it('ipc: one 512 KiB message fills a flush, the peer goes, the next peer gets the next send', async () => {
    const context = new Context();
    const first = track(new Pull({ context, linger: 0 }));
    await first.bind(`ipc://${join(tmpdir(), `monocoque-stall-${process.pid}.sock`)}`);
    const address = first.lastEndpoint as string;
    const push = track(new Push({ context, linger: 0, reconnectInterval: 10 }));
    const handshakes: (() => void)[] = [];
    push.events.on('handshake', () => handshakes.shift()?.());
    const handshake = (): Promise<void> => new Promise((resolve) => handshakes.push(resolve));
    let up = handshake();
    push.connect(address);
    await up;
    // Past the flush limit (256 KiB: the flush stops just after taking it) and past what the stream
    // takes before it says "wait for drain" (256 KiB waiting, NodeStream's IN_FLIGHT), by a margin.
    await push.send(Buffer.alloc(512 * 1024));
    first.close();
    await first.whenReleased();
    up = handshake();
    const second = track(new Pull({ context, linger: 0 }));
    await second.bind(address);
    await up;
    await push.send('after the reconnect');
    // Without the fix this receive never completes (the test times out).
    let got = text(await second.receive());
    if (got[0] !== 'after the reconnect') got = text(await second.receive()); // the big one may have gone to the new peer first
    expect(got).toEqual(['after the reconnect']);
  });
});
