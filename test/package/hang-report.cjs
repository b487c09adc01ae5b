// Preloaded (`node -r`) into the README blocks pack.test.ts runs from CommonJS. It only watches (a
// monitor listener on each socket); if the process is still running after HANG_REPORT_MS (60 s by default, far above the
// fraction of a second they take), it prints what it is waiting on to stderr and exits with 99, so
// that a hang reports itself instead of ending as a bare spawnSync ETIMEDOUT:
//   - each socket made so far (through the package's own CommonJS copy, which the blocks require):
//     its type, state and machine context, and its monitor events with their times;
//   - the libuv handles still open (process.report), with their addresses.
// It runs on the main thread, so it cannot report a thread stuck in native code: the Security
// block's CommonJS run that timed out twice in about forty full runs was such a case, a deadlock in
// Node 20's key export (src/transport/node-keys.ts), found with gdb. The test's own timeout still
// ends those, with what the block printed.

'use strict';

const { resolve } = require('node:path');

const started = Date.now();
const sockets = [];
const events = new Map();
const monocoque = require(require.resolve('monocoque', { paths: [process.cwd()] }));
const register = monocoque.Context.prototype.register;
monocoque.Context.prototype.register = function (host, socket) {
  const id = register.call(this, host, socket);
  sockets.push(socket);
  const seen = [];
  events.set(socket, seen);
  socket.events.on('*', (e) => seen.push(`${Date.now() - started}ms ${e.type}${e.error ? ` (${e.error.code})` : ''}`));
  return id;
};

function plain(value, depth = 0) {
  if (depth > 4) return '…';
  if (value instanceof Map) return { Map: [...value].slice(0, 20).map(([k, v]) => [plain(k, depth + 1), plain(v, depth + 1)]) };
  if (value instanceof Set) return { Set: [...value].slice(0, 20).map((v) => plain(v, depth + 1)) };
  if (ArrayBuffer.isView(value)) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => plain(v, depth + 1));
  if (value !== null && typeof value === 'object' && typeof value[Symbol.iterator] === 'function') {
    return { entries: [...value].slice(0, 20).map((v) => plain(v, depth + 1)) };
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `<function ${value.name}>`;
  if (value !== null && typeof value === 'object') {
    if (typeof value.getSnapshot === 'function') return `<actor ${value.id}>`;
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v, depth + 1);
    return out;
  }
  return value;
}

function report() {
  const lines = [`hang-report: ${resolve(process.argv[1] ?? '')} still running after ${Date.now() - started} ms`];
  for (const s of sockets) {
    let state;
    try {
      const snap = s.getSnapshot();
      state = JSON.stringify({ value: snap.value, context: plain(snap.context) }).slice(0, 3000);
    } catch (e) {
      state = `(no snapshot: ${e.message})`;
    }
    lines.push(`socket ${s.type} closed=${s.closed}: ${state}`, `  events: ${events.get(s).join(', ') || 'none'}`);
  }
  const handles = process.report.getReport().libuv.filter((h) => h.is_active || h.type === 'tcp');
  for (const h of handles) {
    const where = [h.localEndpoint, h.remoteEndpoint].filter(Boolean).map((e) => `${e.host}:${e.port}`).join(' -> ');
    lines.push(`libuv ${h.type} active=${h.is_active} referenced=${h.is_referenced}${where ? ` ${where}` : ''}`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(99);
}

setTimeout(report, Number(process.env.HANG_REPORT_MS ?? 60_000)).unref();
