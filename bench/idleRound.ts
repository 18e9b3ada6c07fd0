// CPU of the consensus round alone: 4 validator processes commit empty blocks back to back
// (emptyBlockIntervalMs 0, no load) for a window; prints blocks, validator CPU and CPU per block per
// validator (fsyncs, consensus messages and their signatures, socket I/O, per-block state work).
// Run: node --import tsx bench/idleRound.ts [--validators 4] [--seconds 15] [--profile DIR]
// --profile DIR: the validators run under V8's sampling profiler (200 µs); their .cpuprofile files are
// copied to DIR at the end (the samples cover start-up too: cut by time when reading them).
import '../lib/polyfill.js';
import { cp } from 'node:fs/promises';
import { arg, num, finishArgs } from './lib/args.js';
import { startCluster } from './lib/cluster.js';
import { processCpuSeconds } from './lib/cpu.js';
import { RpcClient } from '../rpc/client.js';

const N = num('validators', 4, { integer: true, min: 2 });
const SECONDS = num('seconds', 15, { integer: true, min: 1 });
const PROFILE_DIR = arg('profile');
finishArgs(import.meta.url);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)); // a measurement window, not a test wait

const cluster = await startCluster({ validators: N, chainId: 'bench-idle', fund: [], startTimeoutMs: 120_000, consensus: { emptyBlockIntervalMs: 0 }, ...(PROFILE_DIR ? { cpuProfile: { intervalUs: 200 } } : {}) });
const rpc = new RpcClient(cluster.rpcUrls[0]!, { timeoutMs: 5000 });
try {
  await sleep(8000); // peers connect, the first heights pass
  const h0 = (await rpc.status()).height;
  const c0 = cluster.pids.map((p) => processCpuSeconds(p) ?? 0);
  await sleep(SECONDS * 1000);
  const h1 = (await rpc.status()).height;
  const cpu = cluster.pids.reduce((a, p, i) => a + (processCpuSeconds(p) ?? 0) - c0[i]!, 0);
  const blocks = Math.max(1, h1 - h0);
  console.log(`${N} validators, empty blocks back to back: ${h1 - h0} blocks in ${SECONDS} s; validator CPU ${cpu.toFixed(1)} s → ${((cpu * 1000) / blocks / N).toFixed(1)} ms per block per validator`);
} finally {
  await rpc.close();
  await cluster.stopProcesses();
  if (PROFILE_DIR) await cp(cluster.profileDir, PROFILE_DIR, { recursive: true });
  await cluster.stop();
}
