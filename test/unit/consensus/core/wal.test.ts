// Restart from the write-ahead log: a restarted core never signs a different vote for a (height,
// view) it voted in, still proves what it prepared, and resumes the view it was in.
import t from 'tap';
import { createState, step, type ConsensusMessage, type Output, type WalRecord } from '../../../../consensus/core/index.js';
import { commit, feed, H, P, params, pp, prepare, signed, started, summary, vc } from './helpers.js';

/** The WAL a driver would have written for these outputs: own signed messages and prepared certificates. */
function walOf(out: Output[]): WalRecord[] {
  const wal: WalRecord[] = [];
  for (const o of out) {
    if (o.type === 'Broadcast') wal.push({ kind: 'sent', msg: signed(o.msg) });
    if (o.type === 'PersistWal') wal.push(o.record);
  }
  return wal;
}

function restart(n: number, self: number, height: number, wal: WalRecord[]) {
  return step(createState(params(n, self), height), { type: 'Start', wal });
}

const broadcasts = (out: Output[]): ConsensusMessage[] => out.flatMap((o) => (o.type === 'Broadcast' ? [o.msg] : []));

t.test('a restarted replica refuses to Prepare another block in the same view', async (t) => {
  const before = feed(started(4, 0).state, [pp(1, 1, 0, 7), { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(7), valid: true }]);
  const wal = walOf(before.out);
  t.same(wal.map((r) => (r.kind === 'sent' ? r.msg.type : r.kind)), ['Prepare']);
  const after = restart(4, 0, 1, wal);
  t.same(summary(after.out), ['ScheduleTimeout(h1 v0 100ms)', 'Rebroadcast:Prepare(from 0 h1 v0 #7)'], 'resumes and re-sends its signed vote');
  // The (Byzantine) primary now shows this replica another block for view 0.
  const r = feed(after.state, [pp(1, 1, 0, 8), { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(8), valid: true }]);
  t.same(broadcasts(r.out), [], 'no Prepare for #8');
  t.equal(r.state.rejected.voteConflict, 1);
  // The same block again: the vote already exists, nothing new is signed.
  const same = feed(after.state, [pp(1, 1, 0, 7), { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(7), valid: true }]);
  t.same(broadcasts(same.out), []);
  t.equal(same.state.rejected.voteConflict, undefined);
});

t.test('a restarted primary does not propose again in a view where it already proposed', async (t) => {
  const before = feed(started(4, 1).state, [{ type: 'ProposalReady', height: 1, view: 0, blockHash: H(5), payload: P(5) }]);
  const after = restart(4, 1, 1, walOf(before.out));
  t.same(summary(after.out), ['ScheduleTimeout(h1 v0 100ms)', 'Rebroadcast:PrePrepare(from 1 h1 v0 #5)', 'ExecuteBlock(h1 v0 #5)'], 'no Propose; re-executes its own block');
});

t.test('a restarted validator still proves what it prepared, and sends a Commit it persisted but never sent', async (t) => {
  const before = feed(started(4, 0).state, [pp(1, 1, 0, 7), { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(7), valid: true }, prepare(2, 1, 0, 7)]);
  const wal = walOf(before.out);
  t.same(wal.map((r) => (r.kind === 'sent' ? r.msg.type : r.kind)), ['Prepare', 'prepared', 'Commit']);
  // crash after the Commit went out: the certificate rides on the next ViewChange
  const after = restart(4, 0, 1, wal);
  t.ok(after.state.prepared, 'prepared certificate restored');
  const r = step(after.state, { type: 'Timeout', height: 1, view: 0 });
  t.same(summary(r.out).slice(0, 1), ['Broadcast:ViewChange(from 0 h1 →v1 cert v0 #7)']);
  // crash between persisting the certificate and sending the Commit: the Commit is sent on restart
  const crashed = restart(4, 0, 1, wal.slice(0, 2));
  t.same(summary(crashed.out), ['ScheduleTimeout(h1 v0 100ms)', 'Rebroadcast:Prepare(from 0 h1 v0 #7)', 'Broadcast:Commit(from 0 h1 v0 #7)']);
});

t.test('a restarted validator resumes the view it asked for and never sends another ViewChange for it', async (t) => {
  const before = feed(started(4, 0).state, [{ type: 'Timeout', height: 1, view: 0 }, vc(1, 1, 1), vc(3, 1, 1), { type: 'Timeout', height: 1, view: 1 }]);
  const wal = walOf(before.out);
  t.same(wal.map((r) => (r.kind === 'sent' && r.msg.type === 'ViewChange' ? r.msg.newView : -1)), [1, 2]);
  const after = restart(4, 0, 1, wal);
  t.equal(after.state.view, 2);
  t.equal(after.state.phase, 'viewChange');
  t.same(summary(after.out), ['ScheduleTimeout(h1 v2 400ms)', 'Rebroadcast:ViewChange(from 0 h1 →v2)']);
  // joining view 2 again (f+1 others ask for it) signs nothing new
  const r = feed(after.state, [vc(1, 1, 2), vc(3, 1, 2)]);
  t.same(broadcasts(r.out), []);
});

t.test('WAL records of older heights are ignored; votes of the restored height are kept', async (t) => {
  const wal: WalRecord[] = [
    { kind: 'sent', msg: signed(prepare(0, 1, 0, 7)) },
    { kind: 'sent', msg: signed(commit(0, 1, 0, 7)) },
    { kind: 'sent', msg: signed(prepare(0, 2, 0, 9)) },
  ];
  const r = restart(4, 0, 2, wal);
  t.equal(r.state.height, 2);
  t.same(summary(r.out), ['ScheduleTimeout(h2 v0 100ms)', 'Rebroadcast:Prepare(from 0 h2 v0 #9)']);
  const again = feed(r.state, [pp(2, 2, 0, 8), { type: 'BlockExecuted', height: 2, view: 0, blockHash: H(8), valid: true }]);
  t.same(broadcasts(again.out), [], 'no second Prepare at height 2 view 0');
});
