// Data at rest: rows/s hashed and anchored by the daemon, against raw SHA-256 over the same bytes in
// the same run. A single-validator node runs in-process (blocks every 50 ms when idle), rows live in
// LevelDB. Figures: raw SHA-256 of the rows' canonical bytes; the daemon's hashing alone (read from
// the store + decode + split + leaf hashes + tree + proofs); the daemon end to end (the same, plus
// the storeRootHash transaction, its commit and the receipt files).
// Run: node --import tsx bench/anchor.ts [--rows 20000] [--m 400] [--n 4]
import '../lib/polyfill.js';
import { num } from './lib/args.js';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { initHome } from '../node/home.js';
import { createNode } from '../node/node.js';
import { paths } from '../node/config.js';
import { RpcClient } from '../rpc/client.js';
import { sha256 } from '../crypto/hash.js';
import { KeyType, addressOf, keyPairFromPrivate } from '../crypto/keys.js';
import { utf8 } from '../lib/hex.js';
import { LevelDataStore } from '../protocols/receipts/levelDataStore.js';
import { ingestReadings } from '../protocols/receipts/ingest.js';
import { AnchorDaemon } from '../protocols/receipts/anchorDaemon.js';
import { ReceiptDir } from '../protocols/receipts/receiptDir.js';
import { ensureRegistered } from '../protocols/receipts/anchorIdentity.js';
import { MerkleLevels, splitBatch, subTableLeaf } from '../protocols/receipts/merkleReceipt.js';
import { encodeRow } from '../protocols/receipts/rows.js';

const ROWS = num('rows', 20_000, { integer: true, min: 1 });
const M = num('m', 400, { integer: true, min: 1 });
const N = num('n', 4, { integer: true, min: 1 });

const dir = await mkdtemp(join(tmpdir(), 'iotchain-bench-anchor-'));
const home = join(dir, 'home');
await initHome({ home, chainId: 'bench-anchor', rpcPort: 0 });
const cfgFile = paths(home).config;
const cfg = JSON.parse(await readFile(cfgFile, 'utf8')) as { consensus: { emptyBlockIntervalMs: number } };
cfg.consensus.emptyBlockIntervalMs = 50;
await writeFile(cfgFile, JSON.stringify(cfg));
const node = await createNode({ home, logger: pino({ level: 'silent' }) });
await node.start();
const client = new RpcClient(node.rpcUrl!);
const store = new LevelDataStore(join(dir, 'db'));
try {
  const online = keyPairFromPrivate(KeyType.p256, sha256(utf8('bench anchor online')));
  const offline = keyPairFromPrivate(KeyType.p256, sha256(utf8('bench anchor offline')));
  await ensureRegistered(client, { online, offline });
  let t0 = performance.now();
  await ingestReadings({ store, table: 'bench', count: ROWS, service: online, identity: addressOf(offline.type, offline.publicKey) });
  const ingestS = (performance.now() - t0) / 1000;

  const rows = await store.read('bench', 0, ROWS, ROWS);
  const bytes = rows.map(encodeRow);
  const totalBytes = bytes.reduce((s, b) => s + b.length, 0);
  // raw SHA-256 over the same bytes, one hash per row and one per batch-sized chunk
  t0 = performance.now();
  for (const b of bytes) createHash('sha256').update(b).digest();
  const rawPerRowS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  for (let i = 0; i < bytes.length; i += M) {
    const h = createHash('sha256');
    for (const b of bytes.slice(i, i + M)) h.update(b);
    h.digest();
  }
  const rawStreamS = (performance.now() - t0) / 1000;
  // the daemon's hashing path without the chain
  t0 = performance.now();
  for (let after = 0; after + M <= ROWS; after += M) {
    const batch = await store.read('bench', after, ROWS, M);
    const subs = splitBatch(batch, N, after + 1);
    const tree = new MerkleLevels(subs.map((s) => subTableLeaf(s.rows)));
    for (let j = 0; j < subs.length; j++) tree.proof(j);
  }
  const hashS = (performance.now() - t0) / 1000;
  // the daemon end to end
  const daemon = new AnchorDaemon({ store, table: 'bench', m: M, n: N, key: online, identity: addressOf(offline.type, offline.publicKey), client, receipts: new ReceiptDir(join(dir, 'receipts')) });
  t0 = performance.now();
  const batches = await daemon.runOnce();
  const anchorS = (performance.now() - t0) / 1000;
  const anchored = batches.reduce((s, b) => s + b.rows, 0);
  const r = (x: number) => Math.round(x);
  console.log(
    JSON.stringify(
      {
        rows: ROWS,
        m: M,
        n: N,
        bytesPerRow: Math.round(totalBytes / ROWS),
        ingestSignedRowsPerS: r(ROWS / ingestS),
        rawSha256RowsPerS_oneHashPerRow: r(ROWS / rawPerRowS),
        rawSha256RowsPerS_streamed: r(ROWS / rawStreamS),
        rawSha256MBPerS_streamed: Number((totalBytes / 1e6 / rawStreamS).toFixed(1)),
        daemonHashRowsPerS: r(ROWS / hashS),
        daemonAnchoredRowsPerS: r(anchored / anchorS),
        batches: batches.length,
        msPerBatch: Number(((anchorS * 1000) / batches.length).toFixed(1)),
        cpus: cpus().length,
        node: process.version,
      },
      null,
      2,
    ),
  );
} finally {
  await store.close();
  await client.close();
  await node.stop();
  await rm(dir, { recursive: true, force: true });
}
