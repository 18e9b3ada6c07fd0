// Where one block's CPU time goes, measured in-process with the node's own code (no network, one
// core): a proposer App and a replica App, each on its own LevelDB, run blocks of K transfers
// through the same calls the PBFT driver makes — admission (decode + signature), prepareProposal
// (execute + state root), block encode/decode (the PrePrepare payload), processProposal on the
// replica (re-execute + state root), commit (LevelDB batch) — timing each stage.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelKvStore } from '../../state/kvStore.js';
import { checkTxStateless } from '../../state/tx.js';
import { decodeBlock, encodeBlock, validatorAddress } from '../../state/block.js';
import type { KeyType, KeyPair } from '../../crypto/keys.js';
import { KeyType as KT } from '../../crypto/keys.js';
import { App } from '../../protocols/app.js';
import { defaultModules } from '../../protocols/registry.js';
import { parseGenesis, type Genesis } from '../../state/genesis.js';
import { toChecksumAddress } from '../../crypto/keys.js';
import { toHex } from '../../lib/hex.js';
import { certify, addr, testKey, CHAIN_ID, GENESIS_TIME } from '../../test/utils/chain.js';
import { presignTransfers, senderKey } from './presign.js';
import { median } from './stats.js';
import { StageProfiler, type ProfileLine } from './profile.js';

export interface BlockCost {
  txsPerBlock: number;
  blocks: number;
  /** Median milliseconds per block, by stage. */
  ms: {
    admitVerify: number;
    propose: number;
    encode: number;
    decode: number;
    replicaProcess: number;
    commit: number;
  };
  blockBytes: number;
  /** With profiling: per stage, where its CPU time went (see bench/lib/profile.ts). */
  profile?: Record<'propose' | 'replicaProcess' | 'commit', ProfileLine[]>;
}

export async function measureBlockCost(type: KeyType, txsPerBlock: number, blocks: number, opts: { profile?: boolean } = {}): Promise<BlockCost> {
  const senders = 200;
  const label = `blockcost-${type}`;
  const keys = Array.from({ length: senders }, (_, i) => senderKey({ label, type }, i));
  const perSender = Math.ceil((txsPerBlock * blocks) / senders);
  const stock = keys.map((k, i) => presignTransfers({ from: k, to: addr(keys[(i + 1) % senders]!), amount: 1n, fee: 0n, chainId: CHAIN_ID }, 0, perSender));
  // block b takes nonces of every sender round robin, in order
  const order: Uint8Array[] = [];
  for (let n = 0; n < perSender; n++) for (let s = 0; s < senders; s++) order.push(stock[s]![n]!.raw);

  const dirs = [await mkdtemp(join(tmpdir(), 'iotchain-bench-blockcost-')), await mkdtemp(join(tmpdir(), 'iotchain-bench-blockcost-'))];
  // A signal skips the finally below: a handler that exits the process (bench/lib/cluster.ts) still
  // emits 'exit'; with no handler at all, SIGINT/SIGTERM would end it without one, so one is added.
  const removeOnExit = () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  process.once('exit', removeOnExit);
  const onSignal = (sig: NodeJS.Signals) => process.exit(sig === 'SIGINT' ? 130 : 143);
  const signals = (['SIGINT', 'SIGTERM'] as const).filter((sig) => process.listenerCount(sig) === 0);
  for (const sig of signals) process.once(sig, onSignal);
  const stores = [await LevelKvStore.open(dirs[0]!), await LevelKvStore.open(dirs[1]!)];
  const validator = testKey('validator', KT.p256);
  // the chain's default params (test/utils' testGenesis shrinks the state tree to 2^8 buckets)
  const genesis = benchGenesis(validator, keys);
  const prof = opts.profile ? await StageProfiler.open() : undefined;
  // the first block is a warm-up (JIT, caches) when profiling: its samples are not kept
  const timed = <T>(stage: 'propose' | 'replicaProcess' | 'commit', b: number, fn: () => Promise<T>): Promise<T> => (prof && b > 0 ? prof.run(stage, 'protocols/app.ts', fn) : fn());
  try {
    const clock = { now: GENESIS_TIME + 1000 };
    const proposer = await App.open({ store: stores[0]!, genesis, modules: defaultModules(), now: () => clock.now });
    const replica = await App.open({ store: stores[1]!, genesis, modules: defaultModules(), now: () => clock.now });
    const st: Record<keyof BlockCost['ms'], number[]> = { admitVerify: [], propose: [], encode: [], decode: [], replicaProcess: [], commit: [] };
    let blockBytes = 0;
    for (let b = 0; b < blocks; b++) {
      const txs = order.slice(b * txsPerBlock, (b + 1) * txsPerBlock);
      clock.now += 1000;
      let t = performance.now();
      for (const raw of txs) checkTxStateless(raw, CHAIN_ID); // cold: every tx is new to the verified-id cache
      st.admitVerify.push(performance.now() - t);

      const info = proposer.info();
      t = performance.now();
      const p = await timed('propose', b, () => proposer.prepareProposal({ height: info.height + 1, time: clock.now, proposer: validatorAddress(info.validators[0]!), txs }));
      st.propose.push(performance.now() - t);
      if (p.block.txs.length !== txs.length) throw new Error(`block cost: proposal dropped ${txs.length - p.block.txs.length} txs (${p.dropped[0]?.reason ?? ''})`);

      t = performance.now();
      const bytes = encodeBlock(p.block);
      st.encode.push(performance.now() - t);
      blockBytes = bytes.length;
      t = performance.now();
      const decoded = decodeBlock(bytes);
      st.decode.push(performance.now() - t);

      t = performance.now();
      const r = await timed('replicaProcess', b, () => replica.processProposal(decoded)); // warm verify cache: the txs reached it by gossip first
      st.replicaProcess.push(performance.now() - t);
      if (!r.accept) throw new Error(`block cost: replica rejected the block: ${r.reason}`);

      const cert = certify(validator, p.block.header.height, p.hash);
      t = performance.now();
      await timed('commit', b, () => proposer.commit(p.block, cert));
      st.commit.push(performance.now() - t);
      await replica.commit(decoded, cert);
    }
    const ms = Object.fromEntries(Object.entries(st).map(([k, v]) => [k, median(v)])) as BlockCost['ms'];
    const profile = prof ? { propose: prof.top('propose', 15), replicaProcess: prof.top('replicaProcess', 15), commit: prof.top('commit', 6) } : undefined;
    return { txsPerBlock, blocks, ms, blockBytes, ...(profile ? { profile } : {}) };
  } finally {
    await prof?.close();
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    process.removeListener('exit', removeOnExit);
    for (const sig of signals) process.removeListener(sig, onSignal);
  }
}

function benchGenesis(validator: KeyPair, funded: KeyPair[]): Genesis {
  return parseGenesis({
    chainId: CHAIN_ID,
    genesisTime: GENESIS_TIME,
    validators: [{ name: 'v0', consensusKey: toHex(validator.publicKey), peerId: '', power: 1 }],
    params: { minFee: '0' },
    modules: { bank: { balances: funded.map((k) => ({ address: toChecksumAddress(addr(k)), amount: (10n ** 20n).toString() })) } },
  });
}
