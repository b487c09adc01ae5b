// libsodium (libsodium-wrappers: libsodium compiled to WebAssembly, as libzmq uses libsodium) loaded
// on first use, so a program that never asks for CURVE never loads it. Nothing cryptographic is
// written here: this file only loads the library and names the part of it CURVE uses.

/** The libsodium functions CURVE uses (a subset of libsodium-wrappers' API). */
export interface Sodium {
  crypto_box_keypair(): { publicKey: Uint8Array; privateKey: Uint8Array };
  crypto_scalarmult_base(secretKey: Uint8Array): Uint8Array;
  crypto_box_easy(message: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array;
  crypto_box_open_easy(box: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array;
  crypto_box_beforenm(publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array;
  crypto_box_easy_afternm(message: Uint8Array, nonce: Uint8Array, sharedKey: Uint8Array): Uint8Array;
  crypto_box_open_easy_afternm(box: Uint8Array, nonce: Uint8Array, sharedKey: Uint8Array): Uint8Array;
  crypto_secretbox_easy(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  crypto_secretbox_open_easy(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  randombytes_buf(length: number): Uint8Array;
}

let loaded: Sodium | undefined;
let loading: Promise<Sodium> | undefined;

/** libsodium once loaded, or undefined before {@link loadSodium} has completed. */
export function sodiumNow(): Sodium | undefined {
  return loaded;
}

/** Loads libsodium (once; later calls share the first load). Rejects if the package is missing. */
export function loadSodium(): Promise<Sodium> {
  if (loading === undefined) {
    loading = import('libsodium-wrappers').then(async (m) => {
      const lib = ((m as { default?: unknown }).default ?? m) as { ready: Promise<void> } & Sodium;
      await lib.ready;
      loaded = lib;
      return lib;
    });
    // A failed load may be retried (e.g. after the package is installed).
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}
