// Table tests of the normal case: state + input → outputs. n = 4 (f = 1, quorum 3); the primary
// of (height 1, view 0) is validator 1. Own Broadcasts are fed back explicitly, as the driver does.
import t, { type Test } from 'tap';
import { step, type ConsensusMessage, type Input, type PbftState } from '../../../../consensus/core/index.js';
import { commit, feed, H, P, pp, prepare, signed, started, summary } from './helpers.js';

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

const own = (m: Parameters<typeof signed>[0]): Input => signed(m);

t.test('replica: pre-prepare → execute → prepare (2 matching) → commit (3) → decide', async (t) => {
  const start = started(4, 0);
  t.same(summary(start.out), ['ScheduleTimeout(h1 v0 100ms)']);
  const s = table(t, start.state, [
    ['primary PrePrepare is executed first', pp(1, 1, 0, 7), ['ExecuteBlock(h1 v0 #7)']],
    ['valid → Prepare', { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(7), valid: true }, ['Broadcast:Prepare(from 0 h1 v0 #7)']],
    ['own Prepare fed back: 1 of 2', own(prepare(0, 1, 0, 7)), []],
    ['Prepare for another block does not count', prepare(3, 1, 0, 8), []],
    ['second matching Prepare: prepared → persist, then Commit', prepare(2, 1, 0, 7), ['PersistWal:prepared(v0 #7)', 'Broadcast:Commit(from 0 h1 v0 #7)']],
    ['own Commit: 1 of 3', own(commit(0, 1, 0, 7)), []],
    ['duplicate Commit does not count', own(commit(0, 1, 0, 7)), []],
    ['Commit 2 of 3', commit(2, 1, 0, 7), []],
    ['Commit 3 of 3: decide, then height 2 starts at the base timeout', commit(1, 1, 0, 7), ['Decide(h1 v0 #7 by 0,1,2)', 'ScheduleTimeout(h2 v0 100ms)']],
  ]);
  t.equal(s.height, 2);
  t.equal(s.view, 0);
  t.equal(s.rejected.duplicate, 1);
});

t.test('the Decide output carries the payload, the sorted commit certificate and whether it was executed', async (t) => {
  const r = feed(started(4, 0).state, [
    pp(1, 1, 0, 7),
    { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(7), valid: true },
    prepare(2, 1, 0, 7),
    commit(3, 1, 0, 7),
    commit(2, 1, 0, 7),
  ]);
  const d = r.out.find((o) => o.type === 'Decide');
  if (d?.type !== 'Decide') throw new Error('no Decide');
  t.same(d.payload, P(7));
  t.same(d.certificate.map((c) => c.from), [0, 2, 3]);
  t.ok(d.certificate.every((c) => c.signature.length > 0), 'certificate holds the signed Commits');
  t.equal(d.executed, true);
});

t.test('primary: Propose → ProposalReady → PrePrepare; no Prepare of its own; commits after 2 Prepares', async (t) => {
  const start = started(4, 1);
  t.same(summary(start.out), ['ScheduleTimeout(h1 v0 100ms)', 'Propose(h1 v0)']);
  table(t, start.state, [
    ['a stale ProposalReady is ignored', { type: 'ProposalReady', height: 1, view: 3, blockHash: H(9), payload: P(9) }, []],
    ['ProposalReady → PrePrepare', { type: 'ProposalReady', height: 1, view: 0, blockHash: H(5), payload: P(5) }, ['Broadcast:PrePrepare(from 1 h1 v0 #5)']],
    ['a second ProposalReady proposes nothing', { type: 'ProposalReady', height: 1, view: 0, blockHash: H(6), payload: P(6) }, []],
    ['own PrePrepare is known valid: nothing to execute', own(pp(1, 1, 0, 5)), []],
    ['Prepare 1', prepare(0, 1, 0, 5), []],
    ['Prepare 2 → prepared', prepare(3, 1, 0, 5), ['PersistWal:prepared(v0 #5)', 'Broadcast:Commit(from 1 h1 v0 #5)']],
    ['own Commit', own(commit(1, 1, 0, 5)), []],
    ['Commit', commit(0, 1, 0, 5), []],
    ['third Commit decides', commit(3, 1, 0, 5), ['Decide(h1 v0 #5 by 0,1,3)', 'ScheduleTimeout(h2 v0 100ms)']],
  ]);
});

t.test('Prepare quorum: how many matching Prepares make a validator prepared', async (t) => {
  const base = feed(started(4, 0).state, [pp(1, 1, 0, 7), { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(7), valid: true }], { echo: false }).state;
  const cases: [string, Input[], boolean][] = [
    ['none', [], false],
    ['one backup', [prepare(2, 1, 0, 7)], false],
    ['the same backup twice', [prepare(2, 1, 0, 7), prepare(2, 1, 0, 7)], false],
    ['two backups', [prepare(2, 1, 0, 7), prepare(3, 1, 0, 7)], true],
    ['two backups, one for another block', [prepare(2, 1, 0, 7), prepare(3, 1, 0, 8)], false],
    ['the primary cannot Prepare', [prepare(2, 1, 0, 7), prepare(1, 1, 0, 7)], false],
    ['Prepares of another view do not count', [prepare(2, 1, 1, 7), prepare(3, 1, 1, 7)], false],
  ];
  for (const [label, inputs, committed] of cases) {
    const r = feed(base, inputs, { echo: false });
    t.equal(r.out.some((o) => o.type === 'Broadcast' && o.msg.type === 'Commit'), committed, label);
  }
});

t.test('no Prepare (and no Commit) for a block that failed execution', async (t) => {
  const s = table(t, started(4, 0).state, [
    ['PrePrepare', pp(1, 1, 0, 7), ['ExecuteBlock(h1 v0 #7)']],
    ['result for another block is ignored', { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(8), valid: true }, []],
    ['invalid', { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(7), valid: false }, []],
    ['Prepares from others', prepare(2, 1, 0, 7), []],
    ['still no Commit', prepare(3, 1, 0, 7), []],
  ]);
  t.equal(s.rejected.invalidBlock, 1);
  t.equal(s.execution, 'invalid');
});

t.test('Commit quorum: how many matching Commits decide', async (t) => {
  const base = feed(started(4, 0).state, [pp(1, 1, 0, 7)], { echo: false }).state;
  const cases: [string, Input[], string | undefined][] = [
    ['two', [commit(1, 1, 0, 7), commit(2, 1, 0, 7)], undefined],
    ['three', [commit(1, 1, 0, 7), commit(2, 1, 0, 7), commit(3, 1, 0, 7)], 'Decide(h1 v0 #7 by 1,2,3)'],
    ['a duplicate does not count', [commit(1, 1, 0, 7), commit(2, 1, 0, 7), commit(2, 1, 0, 7)], undefined],
    ['split between two blocks', [commit(1, 1, 0, 7), commit(2, 1, 0, 7), commit(3, 1, 0, 8)], undefined],
    ['split between two views', [commit(1, 1, 0, 7), commit(2, 1, 0, 7), commit(3, 1, 1, 7)], undefined],
    ['four: the certificate has exactly a quorum', [commit(0, 1, 0, 7), commit(1, 1, 0, 7), commit(2, 1, 0, 7), commit(3, 1, 0, 7)], 'Decide(h1 v0 #7 by 0,1,2)'],
  ];
  for (const [label, inputs, decided] of cases) {
    const r = feed(base, inputs, { echo: false });
    t.same(summary(r.out).filter((x) => x.startsWith('Decide')), decided ? [decided] : [], label);
  }
});

t.test('a commit quorum decides even before this validator executed or prepared (old view, view change)', async (t) => {
  const s = feed(started(4, 0).state, [pp(1, 1, 0, 7), { type: 'Timeout', height: 1, view: 0 }], { echo: false }).state;
  t.equal(s.phase, 'viewChange');
  const r = feed(s, [commit(1, 1, 0, 7), commit(2, 1, 0, 7), commit(3, 1, 0, 7)], { echo: false });
  const d = r.out.find((o) => o.type === 'Decide');
  t.equal(d?.type === 'Decide' && d.executed, false, 'the driver must execute it before committing');
  t.equal(r.state.height, 2);
});

t.test('a commit quorum for a block whose payload never arrived asks for block sync', async (t) => {
  const r = feed(started(4, 0).state, [commit(1, 1, 0, 7), commit(2, 1, 0, 7), commit(3, 1, 0, 7), commit(3, 1, 0, 7)], { echo: false });
  t.same(summary(r.out), ['RequestSync(1..2)']);
  t.equal(r.state.height, 1);
  // the payload arriving later (a late PrePrepare) completes the decision
  const r2 = step(r.state, pp(1, 1, 0, 7));
  t.same(summary(r2.out), ['ExecuteBlock(h1 v0 #7)', 'Decide(h1 v0 #7 by 1,2,3)', 'ScheduleTimeout(h2 v0 100ms)']);
});

t.test('n = 1: a 1-of-1 quorum decides alone', async (t) => {
  const r = feed(started(1, 0).state, [{ type: 'ProposalReady', height: 1, view: 0, blockHash: H(3), payload: P(3) }]);
  t.same(summary(r.out), [
    'Broadcast:PrePrepare(from 0 h1 v0 #3)',
    'PersistWal:prepared(v0 #3)',
    'Broadcast:Commit(from 0 h1 v0 #3)',
    'Decide(h1 v0 #3 by 0)',
    'ScheduleTimeout(h2 v0 100ms)',
    'Propose(h2 v0)',
  ]);
});

t.test('messages for the next heights are buffered and replayed; older and farther ones are not', async (t) => {
  const s0 = started(4, 0).state;
  const table: [string, Input, string][] = [
    ['height + 1 is buffered', pp(2, 2, 0, 9), 'future'],
    ['height + 2 is buffered', prepare(3, 3, 0, 4), 'future'],
    ['height + 3 is too far', prepare(3, 4, 0, 4), 'heightTooFar'],
  ];
  let s = s0;
  for (const [label, input, where] of table) {
    const r = step(s, input);
    if (where === 'future') t.equal(r.state.future.length, s.future.length + 1, label);
    else t.equal(r.state.rejected.heightTooFar, 1, label);
    t.same(r.out, [], `${label}: no output`);
    s = r.state;
  }
  // deciding height 1 replays the buffered PrePrepare of height 2
  const r = feed(s, [commit(1, 1, 0, 7), commit(2, 1, 0, 7), commit(3, 1, 0, 7), pp(1, 1, 0, 7)], { echo: false });
  t.same(summary(r.out).slice(-3), ['Decide(h1 v0 #7 by 1,2,3)', 'ScheduleTimeout(h2 v0 100ms)', 'ExecuteBlock(h2 v0 #9)']);
  t.equal(r.state.future.length, 1, 'height 3 still waits');
  const old = step(r.state, prepare(3, 1, 0, 7));
  t.equal(old.state.rejected.staleHeight, 1, 'height 1 is over');
});

t.test('the future-height buffer is bounded per sender and drops duplicates', async (t) => {
  let s = started(4, 0, 1, { maxBufferedPerSender: 3 }).state;
  for (let v = 0; v < 5; v++) s = step(s, prepare(3, 2, v, 1)).state;
  s = step(s, prepare(2, 2, 0, 1)).state;
  s = step(s, prepare(2, 2, 0, 1)).state;
  t.equal(s.future.length, 4);
  t.equal(s.rejected.bufferFull, 2);
  t.equal(s.rejected.duplicate, 1);
});

t.test('the future-height buffer is bounded per sender by the block bytes it holds too', async (t) => {
  // payloads of 40 bytes, maxPayloadBytes 100: a sender's buffered blocks may total 200 bytes
  let s = started(4, 0, 1, { maxPayloadBytes: 100 }).state;
  const big = (from: number, view: number): ConsensusMessage => ({ ...pp(from, 2, view, view + 1), payload: new Uint8Array(40).fill(view) });
  for (let v = 0; v < 8; v++) s = step(s, big(2, v)).state;
  t.equal(s.future.filter((m) => m.from === 2).length, 5, 'five of 40 bytes fit in 200');
  t.equal(s.rejected.bufferFull, 3, 'the rest are refused (benign: counted, not a fault)');
  s = step(s, big(3, 0)).state;
  s = step(s, prepare(2, 2, 0, 1)).state;
  t.equal(s.future.length, 7, "another sender's budget is its own; votes carry no block bytes");
});
