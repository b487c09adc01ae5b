// Sans-IO ZMTP 3.1 codec: greeting, frames, commands, metadata, the NULL mechanism. Re-exports only.

export * from './violation.js';
export * from './greeting.js';
export * from './frame-decoder.js';
export * from './frame-encoder.js';
export * from './commands.js';
export * from './socket-types.js';
export * from './null-mechanism.js';
