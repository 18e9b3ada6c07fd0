// Where a running validator's CPU time goes, without touching node code: the validator processes
// run with `--cpu-prof` (through NODE_OPTIONS, which `iotchain start` inherits) and write a V8
// profile when they exit; this folds the samples taken inside the measurement window into a few
// subsystems. Each sample is charged to the innermost frame on its stack that matches an owner rule
// below; generic helpers (encoding, hex, hashing, node internals) are transparent, so SHA-256 called
// by the state tree is "state root" and msgpack called by tx decoding is "tx decode". Only a stack
// with no owner at all falls back to the generic rules.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const ROOT = 'file://' + resolve(import.meta.dirname, '../..') + '/';

const SIG = 'signatures';
/** Who asked for a signature operation: the first of these above crypto/sign.ts on the stack. */
const SIG_CALLERS: [string, RegExp][] = [
  ['signatures: tx verify (state/tx.ts)', /^state\/tx\.ts$/],
  ['signatures: consensus messages, sign + verify (consensus/)', /^consensus\//],
  ['signatures: commit certificates (state/block.ts)', /^state\/block\.ts$/],
];

/** First match wins, tested from the innermost frame outwards. */
const RULES: [string, RegExp][] = [
  [SIG, /^crypto\/sign\.ts$/],
  ['consensus messages (encode, sign, verify)', /^consensus\/messages\.ts$/],
  ['state root (state/authTree.ts)', /^state\/authTree\.ts$/],
  ['block/tx/results roots + block encoding (state/block.ts)', /^state\/block\.ts$/],
  ['LevelDB (state/kvStore.ts, level)', /^state\/kvStore\.ts$|node_modules\/(classic-level|abstract-level|level)/],
  ['block store (state/blockStore.ts)', /^state\/blockStore\.ts$/],
  ['WAL (consensus/wal.ts)', /^consensus\/wal\.ts$/],
  ['tx decode/check (state/tx.ts)', /^state\/tx\.ts$/],
  ['execute txs (protocols/)', /^protocols\//],
  ['state overlay (state/overlay.ts)', /^state\/overlay\.ts$/],
  ['mempool (mempool/)', /^mempool\//],
  ['libp2p: noise encryption (libp2p-noise, chacha20poly1305)', /node_modules\/@chainsafe\/(libp2p-noise|as-chacha20poly1305|as-sha256)/],
  ['libp2p: yamux multiplexing', /node_modules\/@chainsafe\/libp2p-yamux/],
  ['libp2p: gossipsub', /node_modules\/@libp2p\/gossipsub/],
  ['libp2p: tcp, streams, other', /node_modules\/(@libp2p|libp2p|it-|uint8arraylist|uint8arrays|uint8-varint|p-queue|p-defer|p-event|progress-events|race-event|@multiformats|multiformats|race-signal|abort-error|protons)/],
  ['p2p glue (node/p2p*.ts)', /^node\/p2p/],
  ['JSON-RPC server (rpc/, ws)', /^rpc\/|node_modules\/ws\//],
  ['consensus core + driver (consensus/)', /^consensus\//],
  ['logging (pino)', /node_modules\/(pino|sonic-boom|thread-stream)/],
  ['metrics (prom-client)', /node_modules\/prom-client|^node\/metrics\.ts$/],
  ['node/ other', /^node\//],
];
/** Used only when no owner rule matches anywhere on the stack. */
const GENERIC: [string, RegExp][] = [
  ['encoding/hashing helpers, caller unknown (lib/, crypto/hash.ts, msgpackr)', /^lib\/|^crypto\/hash\.ts$|node_modules\/(msgpackr|@noble)/],
  ['tsx / module loading', /node_modules\/(tsx|esbuild)|^node:internal\/modules/],
];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SubsystemShare {
  what: string;
  /** CPU milliseconds in the window, summed over the validators. */
  ms: number;
  /** Percent of all busy samples in the window. */
  share: number;
}

/** The source file of a frame, relative to the repository: a compiled file (dist/<fingerprint>/x.js) counts as its x.ts. */
export function sourceOf(url: string): string {
  const f = url.startsWith(ROOT) ? url.slice(ROOT.length) : url;
  const compiled = /^dist\/[0-9a-f]{16}\/(.*)\.js$/.exec(f);
  return compiled ? `${compiled[1]}.ts` : f;
}

function ruleOf(rules: [string, RegExp][], url: string): string | undefined {
  const f = sourceOf(url);
  for (const [what, re] of rules) if (re.test(f)) return what;
  return undefined;
}

/**
 * Folds every *.cpuprofile in `dir` over the window [fromUs, toUs] of the monotonic clock (the clock
 * of process.hrtime and of V8 profile timestamps, shared by all processes on the machine).
 */
export async function foldProfiles(dir: string, fromUs: number, toUs: number): Promise<{ files: number; lines: SubsystemShare[] }> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const totals = new Map<string, number>();
  for (const f of files) {
    const p = JSON.parse(await readFile(join(dir, f), 'utf8')) as CpuProfile;
    const parent = new Map<number, number>();
    const byId = new Map<number, ProfileNode>();
    for (const n of p.nodes) {
      byId.set(n.id, n);
      for (const c of n.children ?? []) parent.set(c, n.id);
    }
    const memo = new Map<number, string | undefined>();
    const label = (id: number): string | undefined => {
      if (memo.has(id)) return memo.get(id);
      const fn = byId.get(id)!.callFrame.functionName;
      let l: string | undefined;
      if (fn === '(idle)' || fn === '(root)') l = undefined;
      else if (fn === '(garbage collector)') l = 'garbage collector';
      else if (fn === '(program)') l = '(program: V8/native, no JS frame)';
      else {
        let at: number | undefined;
        for (const rules of [RULES, GENERIC]) {
          for (let cur: number | undefined = id; cur !== undefined && l === undefined; cur = parent.get(cur)) {
            l = ruleOf(rules, byId.get(cur)!.callFrame.url);
            at = cur;
          }
        }
        if (l === SIG) {
          let who: string | undefined;
          for (let cur = parent.get(at!); cur !== undefined && who === undefined; cur = parent.get(cur)) who = ruleOf(SIG_CALLERS, byId.get(cur)!.callFrame.url);
          l = who ?? 'signatures: other callers';
        }
        l ??= 'other (node internals: timers, net, http)';
      }
      memo.set(id, l);
      return l;
    };
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      if (t < fromUs || t > toUs) continue;
      const l = label(p.samples[i]!);
      if (l === undefined) continue;
      // a sample stands for the time until the next one
      const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
      totals.set(l, (totals.get(l) ?? 0) + ms);
    }
  }
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  const lines = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([what, ms]) => ({ what, ms: Math.round(ms), share: Math.round((1000 * ms) / all) / 10 }));
  return { files: files.length, lines };
}

/** Monotonic clock in microseconds (the clock of V8 profile timestamps). */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
