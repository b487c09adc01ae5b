// Sans-IO ZMTP 3.1 codec: greeting, frames, commands, metadata, the mechanism interface and NULL. Re-exports only.

export * from './violation.js';
export * from './greeting.js';
export * from './frame-decoder.js';
export * from './frame-encoder.js';
export * from './commands.js';
export * from './socket-types.js';
export * from './mechanism.js';
export * from './null-mechanism.js';
export * from './zap.js';
export * from './plain-mechanism.js';
export * from './sodium.js';
export * from './curve-keys.js';
export * from './curve-mechanism.js';
