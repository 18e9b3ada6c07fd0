#!/usr/bin/env node
// Entry point: runs the CLI from the JavaScript compiled from the TypeScript sources (bin/compile.mjs
// builds it when the sources changed), or through tsx (TypeScript on the fly) when IOTCHAIN_TSX=1 or
// compiling is not possible. lib/polyfill.ts is the CLI's first import, so the node runs on the
// machine's Node 20 as well as on Node 22+.
import { compiledEntry } from './compile.mjs';

let entry;
if (process.env.IOTCHAIN_TSX !== '1') {
  try {
    entry = await compiledEntry();
  } catch (e) {
    process.emitWarning(`running the TypeScript through tsx: could not compile it (${e instanceof Error ? e.message : String(e)})`);
  }
}
if (entry !== undefined) {
  await import(entry);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
