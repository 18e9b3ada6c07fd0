// Table tests of view changes: n = 4 (f = 1, quorum 3). At height 1 the primaries are
// view 0 → 1, view 1 → 2, view 2 → 3, view 3 → 0.
import t, { type Test } from 'tap';
import { step, type Input, type NewView, type PbftState } from '../../../../consensus/core/index.js';
import { cert, commit, feed, H, nv, P, pp, prepare, signed, started, summary, vc } from './helpers.js';

type Row = [label: string, input: Input, expected: string[]];

function table(t: Test, initial: PbftState, rows: Row[]): PbftState {
  let s = initial;
  for (const [label, input, expected] of rows) {
    const r = step(s, input);
    t.same(summary(r.out), expected, label);
    s = r.state;
  }
  return s;
}

t.test('timeout → ViewChange for view+1; a validator alone in a view waits (and relays) instead of running ahead', async (t) => {
  const s = table(t, started(4, 0).state, [
    ['timeout of view 0', { type: 'Timeout', height: 1, view: 0 }, ['Broadcast:ViewChange(from 0 h1 →v1)', 'ScheduleTimeout(h1 v1 200ms)']],
    ['a stale timeout is ignored', { type: 'Timeout', height: 1, view: 0 }, []],
    ['a timeout of another height is ignored', { type: 'Timeout', height: 2, view: 1 }, []],
    ['own ViewChange fed back', signed(vc(0, 1, 1)), []],
    ['alone in view 1: relay, re-arm, do not move on', { type: 'Timeout', height: 1, view: 1 }, ['Rebroadcast:ViewChange(from 0 h1 →v1)', 'ScheduleTimeout(h1 v1 200ms)']],
    ['ViewChange from 1', vc(1, 1, 1), []],
    ['ViewChange from 3: a quorum asked for view 1', vc(3, 1, 1), []],
    [
      'the primary of view 1 failed: move to view 2',
      { type: 'Timeout', height: 1, view: 1 },
      [
        'Rebroadcast:ViewChange(from 0 h1 →v1)',
        'Rebroadcast:ViewChange(from 1 h1 →v1)',
        'Rebroadcast:ViewChange(from 3 h1 →v1)',
        'Broadcast:ViewChange(from 0 h1 →v2)',
        'ScheduleTimeout(h1 v2 400ms)',
      ],
    ],
  ]);
  t.equal(s.view, 2);
  t.equal(s.phase, 'viewChange');
});

t.test('a ViewChange carries the highest prepared certificate', async (t) => {
  const prepared = feed(started(4, 0).state, [pp(1, 1, 0, 7), { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(7), valid: true }, prepare(2, 1, 0, 7)]);
  t.ok(prepared.state.prepared, 'prepared');
  const r = step(prepared.state, { type: 'Timeout', height: 1, view: 0 });
  t.same(summary(r.out), ['Broadcast:ViewChange(from 0 h1 →v1 cert v0 #7)', 'ScheduleTimeout(h1 v1 200ms)']);
  const out = r.out[0];
  if (out?.type !== 'Broadcast' || out.msg.type !== 'ViewChange' || !out.msg.prepared) throw new Error('no certificate');
  t.same(out.msg.prepared.prepares.map((p) => p.from), [0, 2], 'the 2 Prepares');
  t.equal(out.msg.prepared.prePrepare.from, 1, 'and the PrePrepare');
});

t.test('the new primary: quorum of ViewChanges without certificates → Propose → NewView', async (t) => {
  const s = table(t, started(4, 2).state, [
    ['timeout', { type: 'Timeout', height: 1, view: 0 }, ['Broadcast:ViewChange(from 2 h1 →v1)', 'ScheduleTimeout(h1 v1 200ms)']],
    ['own', signed(vc(2, 1, 1)), []],
    ['from 0', vc(0, 1, 1), []],
    ['from 3: quorum, no certificate: build a new block', vc(3, 1, 1), ['Propose(h1 v1)']],
    ['block built', { type: 'ProposalReady', height: 1, view: 1, blockHash: H(4), payload: P(4) }, ['Broadcast:NewView(from 2 h1 v1 #4 vcs 0,2,3)']],
  ]);
  const nvOut = step(s, { type: 'ProposalReady', height: 1, view: 1, blockHash: H(4), payload: P(4) });
  t.same(nvOut.out, [], 'one NewView per view');
  const own = table(t, s, [
    ['own NewView fed back: enter view 1 (own block, nothing to execute)', signed(nv(2, 1, 1, [vc(0, 1, 1), vc(2, 1, 1), vc(3, 1, 1)], 4)), ['ScheduleTimeout(h1 v1 200ms)']],
    ['Prepare', prepare(0, 1, 1, 4), []],
    ['Prepare → prepared in view 1', prepare(3, 1, 1, 4), ['PersistWal:prepared(v1 #4)', 'Broadcast:Commit(from 2 h1 v1 #4)']],
    ['Commit', commit(0, 1, 1, 4), []],
    ['Commit', commit(3, 1, 1, 4), []],
    ['Commit → decide', commit(1, 1, 1, 4), ['Decide(h1 v1 #4 by 0,1,3)', 'ScheduleTimeout(h2 v0 100ms)', 'Propose(h2 v0)']],
  ]);
  t.equal(own.height, 2);
});

t.test('the new primary re-proposes the highest prepared block, never a new one', async (t) => {
  const c7 = cert(4, 1, 0, 7, [0, 3]);
  const s = table(t, started(4, 2).state, [
    ['timeout', { type: 'Timeout', height: 1, view: 0 }, ['Broadcast:ViewChange(from 2 h1 →v1)', 'ScheduleTimeout(h1 v1 200ms)']],
    ['own', signed(vc(2, 1, 1)), []],
    ['from 0 with a certificate', vc(0, 1, 1, c7), []],
    ['from 3: quorum: NewView re-proposes #7 at once', vc(3, 1, 1), ['Broadcast:NewView(from 2 h1 v1 #7 vcs 0,2,3)']],
    ['own NewView: enter view 1 and execute #7 (not built here)', signed(nv(2, 1, 1, [vc(0, 1, 1, c7), vc(2, 1, 1), vc(3, 1, 1)], 7)), ['ScheduleTimeout(h1 v1 200ms)', 'ExecuteBlock(h1 v1 #7)']],
  ]);
  t.equal(s.view, 1);

  // A certificate that arrives while the new block is being built still wins.
  const r = table(t, started(4, 2).state, [
    ['timeout', { type: 'Timeout', height: 1, view: 0 }, ['Broadcast:ViewChange(from 2 h1 →v1)', 'ScheduleTimeout(h1 v1 200ms)']],
    ['own', signed(vc(2, 1, 1)), []],
    ['from 0', vc(0, 1, 1), []],
    ['from 3: build a block', vc(3, 1, 1), ['Propose(h1 v1)']],
    ['from 1 with a certificate: re-propose it', vc(1, 1, 1, c7), ['Broadcast:NewView(from 2 h1 v1 #7 vcs 0,1,2,3)']],
    ['the new block comes too late', { type: 'ProposalReady', height: 1, view: 1, blockHash: H(4), payload: P(4) }, []],
  ]);
  t.equal(r.rejected.voteConflict, undefined);
});

t.test('NewView validation', async (t) => {
  const v1 = (from: number) => vc(from, 1, 1);
  const c7 = cert(4, 1, 0, 7, [0, 2]);
  const c8v1 = cert(4, 1, 1, 8, [0, 3]);
  const good = nv(2, 1, 1, [v1(0), v1(2), v1(3)], 4);
  const cases: [string, NewView, string[]][] = [
    ['valid, no certificate: enter view 1 and execute', good, ['ScheduleTimeout(h1 v1 200ms)', 'ExecuteBlock(h1 v1 #4)']],
    ['valid with 4 ViewChanges', nv(2, 1, 1, [v1(0), v1(1), v1(2), v1(3)], 4), ['ScheduleTimeout(h1 v1 200ms)', 'ExecuteBlock(h1 v1 #4)']],
    ['valid, re-proposing the certified block', nv(2, 1, 1, [vc(0, 1, 1, c7), v1(2), v1(3)], 7), ['ScheduleTimeout(h1 v1 200ms)', 'ExecuteBlock(h1 v1 #7)']],
    ['valid, jumping to view 5', nv(2, 1, 5, [vc(0, 1, 5), vc(1, 1, 5), vc(3, 1, 5)], 4), ['ScheduleTimeout(h1 v5 500ms)', 'ExecuteBlock(h1 v5 #4)']],
    ['not from the primary of the view', nv(3, 1, 1, [v1(0), v1(2), v1(3)], 4), ['Reject(notPrimary from 3)']],
    ['only 2 ViewChanges', nv(2, 1, 1, [v1(0), v1(3)], 4), ['Reject(badNewView from 2)']],
    ['one validator counted twice', nv(2, 1, 1, [v1(0), v1(0), v1(3)], 4), ['Reject(badNewView from 2)']],
    ['a ViewChange for another view', nv(2, 1, 1, [v1(0), vc(2, 1, 2), v1(3)], 4), ['Reject(badNewView from 2)']],
    ['a ViewChange for another height', nv(2, 1, 1, [v1(0), vc(2, 2, 1), v1(3)], 4), ['Reject(badNewView from 2)']],
    ['its PrePrepare is for another view', { ...good, prePrepare: pp(2, 1, 2, 4) }, ['Reject(badNewView from 2)']],
    ['its PrePrepare is by someone else', { ...good, prePrepare: pp(3, 1, 1, 4) }, ['Reject(badNewView from 2)']],
    ['a new block although a certificate exists', nv(2, 1, 1, [vc(0, 1, 1, c7), v1(2), v1(3)], 4), ['Reject(newViewWrongBlock from 2)']],
    ['the certified hash with another payload', { ...nv(2, 1, 1, [vc(0, 1, 1, c7), v1(2), v1(3)], 7), prePrepare: { ...pp(2, 1, 1, 7), payload: P(9) } }, ['Reject(newViewWrongBlock from 2)']],
    ['a certificate with 1 Prepare', nv(2, 1, 1, [vc(0, 1, 1, cert(4, 1, 0, 7, [0])), v1(2), v1(3)], 7), ['Reject(badCertificate from 2)']],
    ['a certificate counting one Prepare twice', nv(2, 1, 1, [vc(0, 1, 1, cert(4, 1, 0, 7, [0, 0])), v1(2), v1(3)], 7), ['Reject(badCertificate from 2)']],
    ['a certificate with a Prepare from the primary', nv(2, 1, 1, [vc(0, 1, 1, cert(4, 1, 0, 7, [0, 1])), v1(2), v1(3)], 7), ['Reject(badCertificate from 2)']],
    ['a certificate from the view being entered', nv(2, 1, 1, [vc(0, 1, 1, cert(4, 1, 1, 7, [0, 3])), v1(2), v1(3)], 7), ['Reject(badCertificate from 2)']],
    ['a certificate whose PrePrepare is not by that view\'s primary', nv(2, 1, 1, [vc(0, 1, 1, { ...c7, prePrepare: pp(3, 1, 0, 7) }), v1(2), v1(3)], 7), ['Reject(badCertificate from 2)']],
    ['a certificate for another block than its Prepares', nv(2, 1, 1, [vc(0, 1, 1, { ...c7, blockHash: H(9) }), v1(2), v1(3)], 7), ['Reject(badCertificate from 2)']],
  ];
  const base = started(4, 0).state;
  for (const [label, msg, expected] of cases) {
    t.same(summary(step(base, msg).out), expected, label);
  }
  // Two certificates: the one from the higher view decides the block (view 2, primary 3).
  const two = [vc(0, 1, 2, c7), vc(1, 1, 2, c8v1), vc(3, 1, 2)];
  t.same(summary(step(base, nv(3, 1, 2, two, 8)).out), ['ScheduleTimeout(h1 v2 400ms)', 'ExecuteBlock(h1 v2 #8)'], 'highest certificate chosen');
  t.same(summary(step(base, nv(3, 1, 2, two, 7)).out), ['Reject(newViewWrongBlock from 3)'], 'a lower certificate is not enough');
  // A NewView for an older view than the current one is stale.
  const inView2 = step(base, nv(3, 1, 2, two, 8)).state;
  const stale = step(inView2, good);
  t.equal(stale.state.view, 2);
  t.equal(stale.state.rejected.staleView, 1);
});

t.test('f+1 ViewChanges for higher views make a validator join (the highest view f+1 vouch for)', async (t) => {
  table(t, started(4, 0).state, [
    ['one validator asks for view 1000: not enough', vc(3, 1, 1000), []],
    ['another asks for view 2: join view 2', vc(2, 1, 2), ['Broadcast:ViewChange(from 0 h1 →v2)', 'ScheduleTimeout(h1 v2 400ms)']],
  ]);
});

t.test('timeouts are bounded while views climb and reset to the base at the next height', async (t) => {
  let s = started(4, 0).state;
  const durations: number[] = [];
  for (let v = 0; v < 8; v++) {
    const r = feed(s, [{ type: 'Timeout', height: 1, view: v }, vc(1, 1, v + 1), vc(3, 1, v + 1)]);
    for (const o of r.out) if (o.type === 'ScheduleTimeout' && o.view === v + 1) durations.push(o.durationMs);
    s = r.state;
  }
  t.same([...new Set(durations)], [200, 400, 500], 'base 100 · 2^v, at most 500');
  t.ok(durations.every((d) => d <= 500));
  const synced = step(s, { type: 'Synced', height: 1 });
  t.same(summary(synced.out), ['ScheduleTimeout(h2 v0 100ms)'], 'reset on progress');
});

t.test('equivocating NewViews are evidence; the first one stands', async (t) => {
  const vcs = [vc(0, 1, 1), vc(2, 1, 1), vc(3, 1, 1)];
  const first = step(started(4, 0).state, nv(2, 1, 1, vcs, 4));
  const second = step(first.state, nv(2, 1, 1, vcs, 5));
  t.same(summary(second.out), ['Reject(equivocation from 2)', 'Evidence(PrePrepare(from 2 h1 v1 #4) / PrePrepare(from 2 h1 v1 #5))']);
  t.same(second.state.accepted?.blockHash, H(4));
});
