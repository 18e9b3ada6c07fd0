import t from 'tap';
import { PeerScores } from '../../../node/peerScore.js';
import { encodeFrame, badFrameOf } from '../../../node/p2pProtocols.js';
import { LengthPrefixedDecoder } from '@libp2p/utils';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

t.test('penalties add up, decay with the half-life, and ban at the threshold', async (t) => {
  const c = clock();
  const s = new PeerScores({ threshold: -100, halfLifeMs: 1000, banMs: 5000, now: c.now });
  t.equal(s.score('p'), 0, 'unknown peer is clean');
  t.same(s.penalize('p', 40), { score: -40, banned: false, bannedUntil: undefined });
  c.advance(1000);
  t.equal(s.score('p'), -20, 'halved after one half-life');
  t.equal(s.penalize('p', 50).score, -70);
  t.notOk(s.isBanned('p'));
  const p = s.penalize('p', 30);
  t.ok(p.banned, 'reaching the threshold bans');
  t.equal(p.bannedUntil, c.now() + 5000);
  t.ok(s.isBanned('p'));
  t.equal(s.score('p'), -100, 'a banned peer reads as the threshold');
  t.notOk(s.penalize('p', 100).banned, 'no second ban while banned');
  c.advance(5000);
  t.notOk(s.isBanned('p'), 'ban expires');
  t.equal(s.score('p'), 0, 'a peer starts clean after its ban');
});

t.test('repeat offenders are banned for longer, up to the cap', async (t) => {
  const c = clock();
  const s = new PeerScores({ threshold: -10, banMs: 1000, maxBanMs: 3000, now: c.now });
  const lengths: number[] = [];
  for (let i = 0; i < 4; i++) {
    const p = s.penalize('p', 10);
    t.ok(p.banned);
    lengths.push((p.bannedUntil ?? 0) - c.now());
    c.advance(lengths[i]!);
  }
  t.same(lengths, [1000, 2000, 3000, 3000]);
});

t.test('the table stays bounded', async (t) => {
  const c = clock();
  const s = new PeerScores({ maxPeers: 10, halfLifeMs: 10, now: c.now });
  for (let i = 0; i < 100; i++) {
    s.penalize(`p${i}`, 1);
    c.advance(1000);
  }
  t.ok(s.size <= 10, `size ${s.size}`);
});

t.test('bad weights and options are refused', async (t) => {
  t.throws(() => new PeerScores({ threshold: 5 }), RangeError);
  const s = new PeerScores();
  t.throws(() => s.penalize('p', 0), RangeError);
  t.throws(() => s.penalize('p', Number.NaN), RangeError);
});

t.test('frames: encodeFrame round-trips; an oversize length prefix is refused before the body arrives', async (t) => {
  const msgs = [new Uint8Array([1]), new Uint8Array(127).fill(2), new Uint8Array(128).fill(3), new Uint8Array(70_000).fill(4)];
  const d = new LengthPrefixedDecoder({ maxDataLength: 100_000 });
  const wire = Buffer.concat(msgs.map(encodeFrame));
  const out: Uint8Array[] = [];
  // feed in awkward chunks
  for (let i = 0; i < wire.length; i += 333) for (const f of d.decode(wire.subarray(i, i + 333))) out.push(f.subarray());
  t.same(out.map((m) => Buffer.from(m).toString('hex')), msgs.map((m) => Buffer.from(m).toString('hex')));

  const small = new LengthPrefixedDecoder({ maxDataLength: 1000 });
  const header = encodeFrame(new Uint8Array(5000)).subarray(0, 2); // varint(5000) only
  let err: unknown;
  try {
    for (const f of small.decode(header)) t.fail(`unexpected frame ${f.byteLength}`);
  } catch (e) {
    err = e;
  }
  t.equal(badFrameOf(err), 'oversize', 'refused from the 2-byte header alone');
});
