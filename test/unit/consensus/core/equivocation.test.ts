// Two different signed messages of one kind from one validator for one (height, view): Evidence
// once, the first message kept for quorums. n = 4, validator 0's view; primary of (1, 0) is 1.
import t from 'tap';
import { step, type ConsensusMessage, type Input } from '../../../../consensus/core/index.js';
import { cert, commit, feed, H, pp, prepare, started, summary, vc } from './helpers.js';

t.test('conflicting messages → Evidence once, a Reject per conflict, duplicates are not evidence', async (t) => {
  const cases: [string, ConsensusMessage, ConsensusMessage][] = [
    ['PrePrepare', pp(1, 1, 0, 7), pp(1, 1, 0, 8)],
    ['Prepare', prepare(2, 1, 0, 7), prepare(2, 1, 0, 8)],
    ['Commit', commit(2, 1, 0, 7), commit(2, 1, 0, 8)],
    ['Commit of an older view', commit(2, 1, 0, 7), commit(2, 1, 0, 9)],
    ['ViewChange', vc(2, 1, 1), vc(2, 1, 1, cert(4, 1, 0, 7, [0, 3]))],
  ];
  for (const [label, a, b] of cases) {
    const s0 = started(4, 0).state;
    const r = feed(s0, [a, b], { echo: false });
    const ev = r.out.filter((o) => o.type === 'Evidence');
    t.equal(ev.length, 1, `${label}: one Evidence`);
    const e = ev[0];
    if (e?.type === 'Evidence') t.ok(e.a === a && e.b === b, `${label}: carries both signed messages, first one first`);
    t.ok(r.out.some((o) => o.type === 'Reject' && o.reason === 'equivocation' && o.from === a.from), `${label}: the author is reported`);
    // a third conflicting message is counted but not reported again
    const third: ConsensusMessage = a.type === 'ViewChange' || a.type === 'NewView' ? vc(2, 1, 1, cert(4, 1, 0, 6, [0, 3])) : { ...a, blockHash: H(99) };
    const r3 = step(r.state, third);
    t.equal(r3.out.filter((o) => o.type === 'Evidence').length, 0, `${label}: reported once`);
    t.equal(r3.state.rejected.equivocation, 2, `${label}: counted twice`);
    // the same message again is a duplicate, not evidence
    const dup = step(r.state, a);
    t.same(summary(dup.out), [], `${label}: duplicate is silent`);
  }
});

t.test('the first vote counts, the conflicting one does not', async (t) => {
  const base = feed(started(4, 0).state, [pp(1, 1, 0, 7), { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(7), valid: true }], { echo: false }).state;
  // validator 2 votes for #7 then #8; validator 3 votes for #8: #8 has only one valid vote.
  const forB: Input[] = [prepare(2, 1, 0, 7), prepare(2, 1, 0, 8), prepare(3, 1, 0, 8)];
  const r = feed(base, forB, { echo: false });
  t.notOk(r.out.some((o) => o.type === 'Broadcast' && o.msg.type === 'Commit'), 'not prepared on #8 (nor #7)');
  // validator 3 votes for #7 as well: #7 is prepared with 2 and 3 (the first votes).
  const r2 = feed(base, [prepare(2, 1, 0, 7), prepare(2, 1, 0, 8), prepare(3, 1, 0, 7)], { echo: false });
  t.ok(r2.out.some((o) => o.type === 'Broadcast' && o.msg.type === 'Commit'), 'prepared on #7');
  // Commits: 3 for #8 where one author first committed #7 → no decision.
  const r3 = feed(started(4, 0).state, [pp(1, 1, 0, 8), commit(1, 1, 0, 7), commit(1, 1, 0, 8), commit(2, 1, 0, 8), commit(3, 1, 0, 8)], { echo: false });
  t.notOk(r3.out.some((o) => o.type === 'Decide'), 'no decision from an equivocator\'s second Commit');
});

t.test('an equivocating primary: the replica executes and votes only for the first PrePrepare', async (t) => {
  const r = feed(started(4, 0).state, [pp(1, 1, 0, 7), pp(1, 1, 0, 8)], { echo: false });
  t.same(summary(r.out), ['ExecuteBlock(h1 v0 #7)', 'Reject(equivocation from 1)', 'Evidence(PrePrepare(from 1 h1 v0 #7) / PrePrepare(from 1 h1 v0 #8))']);
  const r2 = step(r.state, { type: 'BlockExecuted', height: 1, view: 0, blockHash: H(8), valid: true });
  t.same(r2.out, [], 'a result for the second block is ignored');
});

t.test('one Evidence per (kind, height, author): equivocating ViewChanges for view after view add none', async (t) => {
  // validator 2 sends conflicting ViewChange pairs (without and with a prepared certificate) for new
  // views 1..40 at height 1: each pair is an equivocation, but one record convicts; storing every
  // pair (each certificate may carry a block) would let it fill the node's disk
  let s = started(4, 0).state;
  let evidence = 0;
  for (let v = 1; v <= 40; v++) {
    for (const m of [vc(2, 1, v), vc(2, 1, v, cert(4, 1, 0, 7, [0, 3]))]) {
      const r = step(s, m);
      s = r.state;
      evidence += r.out.filter((o) => o.type === 'Evidence').length;
    }
  }
  t.equal(evidence, 1, 'one Evidence');
  t.ok((s.rejected.equivocation ?? 0) >= 40, `every conflict still counted (${s.rejected.equivocation})`);
});
