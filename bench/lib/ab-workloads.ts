// The two inproc workloads that compare whole builds (baseline-ab.ts times them, instructions.ts
// counts their instructions): PUSH -> PULL of 16 bytes, each send awaited beside one receive loop,
// and the REQ/REP round trip of 16 bytes. Also how a build is loaded by name and its ends linked.

/** What the workloads use of a build's (or zeromq.js's) API. */
export interface AbLib {
  Push: new () => AbSender & { connect(a: string): void; close(): void };
  Pull: new () => AbReceiver & { bind(a: string): Promise<void>; close(): void };
  Request: new () => AbSender & AbReceiver & { connect(a: string): void; close(): void };
  Reply: new () => AbReceiver & { bind(a: string): Promise<void>; send(m: unknown): Promise<void>; close(): void };
}
export interface AbSender {
  send(m: Buffer): Promise<void>;
}
export interface AbReceiver {
  receive(): Promise<unknown>;
}

export const AB_PAYLOAD = Buffer.alloc(16, 0x61);

/** `zeromq`, `this` (this checkout's dist/) or the directory of another build with its dist/. */
export async function loadBuild(which: string): Promise<AbLib> {
  const lib: unknown = which === 'zeromq'
    ? await import('zeromq')
    : await import(which === 'this' ? new URL('../../dist/src/index.js', import.meta.url).href : `${which}/dist/src/index.js`);
  return lib as AbLib;
}

/** Binds `binder` to `address` and connects `connecter` to it. */
export async function linked<B extends { bind(a: string): Promise<void> }, C extends { connect(a: string): void }>(binder: B, connecter: C, address: string): Promise<[B, C]> {
  await binder.bind(address);
  connecter.connect(address);
  return [binder, connecter];
}

/** `n` messages from `push` to `pull`, each send awaited, one receive loop beside. */
export async function pushPull(push: AbSender, pull: AbReceiver, n: number): Promise<void> {
  const received = (async () => {
    for (let i = 0; i < n; i++) await pull.receive();
  })();
  for (let i = 0; i < n; i++) await push.send(AB_PAYLOAD);
  await received;
}

/** `n` round trips: `req` asks and waits, `rep` sends each request back. */
export async function roundTrips(req: AbSender & AbReceiver, rep: AbReceiver & { send(m: unknown): Promise<void> }, n: number): Promise<void> {
  const served = (async () => {
    for (let i = 0; i < n; i++) await rep.send(await rep.receive());
  })();
  for (let i = 0; i < n; i++) {
    await req.send(AB_PAYLOAD);
    await req.receive();
  }
  await served;
}
