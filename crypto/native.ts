// Native code this package loads, each with a switch to turn it off: the secp256k1 package's
// libsecp256k1 binding, and our own addon (native/*.c, built by `npm install` where a compiler and
// Node's headers exist: OpenSSL's P-256 verification and an RFC 6962 Merkle root over OpenSSL's
// SHA-256). Where one does not load, its caller does the same work through node:crypto or
// JavaScript; the tests compare both paths.
import { createRequire } from 'node:module';

/** A native binding, or undefined where it does not load or the environment variable `env` is `off`. */
export function loadBinding<T>(env: string, off: string, path: string): T | undefined {
  if (process.env[env] === off) return undefined;
  try {
    return createRequire(import.meta.url)(path) as T;
  } catch {
    return undefined;
  }
}

/** Where `npm install` puts our addon (native/build.mjs). */
export const ADDON_PATH = '../native/build/Release/iotchain_native.node';
