// The messages of the fault runs: multipart, each frame's size and bytes a function of the message's
// sequence number, so a receiver can tell a whole message from a part of one, a duplicate or a
// message out of order. peer.mjs writes and checks the same layout (keep the two in step):
//
//   [seq] [part 0] ... [part n-1] [end:<seq>:<n>]     n = 1 + seq % 4, part i: partSize(seq, i) bytes
//                                                      of (seq + i) & 0xff  (1 B to 12 KB each)

/** Frames in a part of the message body. */
export function partCount(seq: number): number {
  return 1 + (seq % 4);
}

export function partSize(seq: number, i: number): number {
  return ((seq * 7919 + i * 104729) % 12000) + 1;
}

/** The body of message `seq`. */
export function body(seq: number): Buffer[] {
  const n = partCount(seq);
  const frames = [Buffer.from(String(seq))];
  for (let i = 0; i < n; i++) frames.push(Buffer.alloc(partSize(seq, i), (seq + i) & 0xff));
  frames.push(Buffer.from(`end:${seq}:${n}`));
  return frames;
}

/** The sequence number of a whole message, or why `frames` is not one. */
export function check(frames: readonly Uint8Array[]): { seq: number } | { bad: string } {
  if (frames.length < 3) return { bad: `${frames.length} frame(s), a message has at least 3` };
  const head = Buffer.from(frames[0]).toString();
  const seq = Number(head);
  if (!Number.isSafeInteger(seq) || seq < 0) return { bad: `header "${head.slice(0, 20)}" is not a sequence number` };
  const n = partCount(seq);
  if (frames.length !== n + 2) return { bad: `seq ${seq}: ${frames.length} frames, ${n + 2} expected` };
  for (let i = 0; i < n; i++) {
    const part = frames[1 + i];
    const size = partSize(seq, i);
    const fill = (seq + i) & 0xff;
    if (part.length !== size) return { bad: `seq ${seq} part ${i}: ${part.length} bytes, ${size} expected` };
    const at = part.findIndex((b) => b !== fill);
    if (at >= 0) return { bad: `seq ${seq} part ${i}: byte ${at} is ${part[at]}, ${fill} expected` };
  }
  const trailer = Buffer.from(frames[n + 1]).toString();
  if (trailer !== `end:${seq}:${n}`) return { bad: `seq ${seq}: trailer "${trailer.slice(0, 20)}"` };
  return { seq };
}
