// Where one block's CPU time goes, in-process (bench/lib/blockCost.ts): admission, propose, block
// encode/decode, replica processProposal and commit, median ms per block of K transfers.
// Run: node --import tsx bench/blockCost.ts [--curve p256|secp256k1] [--txs 1000] [--blocks 10] [--profile]
import '../lib/polyfill.js';
import { measureBlockCost } from './lib/blockCost.js';
import { keyTypeFromName } from '../crypto/keys.js';
import { arg, num, flag, finishArgs } from './lib/args.js';

const curve = keyTypeFromName(arg('curve') ?? 'p256');
const txs = num('txs', 1000, { integer: true, min: 1 });
const blocks = num('blocks', 10, { integer: true, min: 1 });
const profile = flag('profile');
finishArgs(import.meta.url);

const r = await measureBlockCost(curve, txs, blocks, { profile });
console.log(`block of ${r.txsPerBlock} txs (${r.blockBytes} B), median ms over ${r.blocks} blocks:`, Object.entries(r.ms).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', '));
for (const [stage, lines] of Object.entries(r.profile ?? {})) console.log(`  ${stage}: ${lines.map((l) => `${l.where} ${l.share}%`).join('; ')}`);
