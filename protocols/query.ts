// Queries: "module/method" with JSON args, run against the committed state. With `prove`, every
// state key the query read is returned with its raw value and a state proof against the header at
// the answered height, so a client can verify the records and recompute the answer itself
// (protocols/verify.ts) instead of trusting the node's decoding.
import { encode } from '../lib/encoding.js';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { toHex } from '../lib/hex.js';
import { stateProofCodec } from '../state/authTree.js';
import type { KvStore } from '../state/kvStore.js';
import type { StateReader } from '../state/overlay.js';
import { scopedReader, type AnyQuery, type NativeModule } from './module.js';
import type { App } from './app.js';
import type { ModuleIndex } from './registry.js';

export interface ProvenRecord {
  key: string;
  value: string | null;
  proof: string;
}

export interface QueryAnswer {
  value: unknown;
  height: number;
  proof?: { records: ProvenRecord[] };
}

const PATH_RE = /^([a-z][a-z0-9]{0,31})\/([A-Za-z][A-Za-z0-9]{0,63})$/;

export function findQuery(modules: ModuleIndex, path: string): { module: NativeModule; name: string; def: AnyQuery } {
  const m = typeof path === 'string' ? PATH_RE.exec(path) : null;
  if (!m) throw new InvalidMessageError(ERR.UNKNOWN_QUERY, `query path must be "module/method", got ${JSON.stringify(String(path).slice(0, 80))}`);
  const module = modules.byName.get(m[1]!);
  if (!module) throw new InvalidMessageError(ERR.UNKNOWN_QUERY, `unknown module "${m[1]}"`);
  const def = Object.prototype.hasOwnProperty.call(module.queries, m[2]!) ? module.queries[m[2]!] : undefined;
  if (!def) throw new InvalidMessageError(ERR.UNKNOWN_QUERY, `module ${module.name} has no query "${m[2]}" (has: ${Object.keys(module.queries).join(', ')})`);
  return { module, name: m[2]!, def };
}

/** A reader over `base` that records every key it reads (for proofs). Range reads are refused. */
export class RecordingReader implements StateReader {
  readonly reads = new Map<string, Uint8Array>();
  constructor(private readonly base: Pick<KvStore, 'get'>) {}
  get(key: Uint8Array): Uint8Array | undefined {
    this.reads.set(toHex(key), key);
    return this.base.get(key);
  }
  // eslint-disable-next-line require-yield
  async *range(): AsyncIterable<[Uint8Array, Uint8Array]> {
    throw new InvalidMessageError('QUERY_NOT_PROVABLE', 'this query reads a key range and cannot be proven');
  }
}

/** Runs a query on a reader; shared by the node (committed state) and the client (proven records). */
export async function runQueryOn(modules: ModuleIndex, reader: StateReader, path: string, argsJson: unknown, height: number, time: number, chainId: string): Promise<unknown> {
  const { module, def } = findQuery(modules, path);
  const args = def.args.fromJson(argsJson ?? {}, 'args');
  return def.run({ state: scopedReader(reader, module.id), chainId, height, time, access: { readerOf: (id) => scopedReader(reader, id) } }, args);
}

export async function runQuery(app: App, path: string, argsJson: unknown, prove: boolean): Promise<QueryAnswer> {
  const { def } = findQuery(app.modules, path);
  if (prove && !def.provable) throw new InvalidMessageError('QUERY_NOT_PROVABLE', `query ${path} reads key ranges and cannot carry a proof`);
  return app.withCommitted(async () => {
    const { height, time } = app.head;
    if (!prove) return { value: await runQueryOn(app.modules, app.store, path, argsJson, height, time, app.chainId), height };
    const rec = new RecordingReader(app.store);
    const value = await runQueryOn(app.modules, rec, path, argsJson, height, time, app.chainId);
    const records: ProvenRecord[] = [];
    for (const key of rec.reads.values()) {
      const v = app.store.get(key);
      records.push({ key: toHex(key), value: v === undefined ? null : toHex(v), proof: toHex(encode(stateProofCodec, await app.tree.prove(key))) });
    }
    return { value, height, proof: { records } };
  });
}
