// Catching up: RequestSync when peers are ahead, Synced to jump forward.
import t from 'tap';
import { step } from '../../../../consensus/core/index.js';
import { feed, pp, prepare, started, summary, vc } from './helpers.js';

t.test('f+1 validators two heights ahead → RequestSync at once; one is not enough', async (t) => {
  const s = started(4, 0).state;
  const one = step(s, prepare(2, 3, 0, 1));
  t.same(summary(one.out), [], 'one validator at height 3 proves nothing');
  const two = step(one.state, prepare(3, 3, 0, 1));
  t.same(summary(two.out), ['RequestSync(1..3)']);
  const again = step(two.state, prepare(1, 3, 0, 1));
  t.same(summary(again.out), [], 'asked once per target');
  const out = two.out[0];
  t.same(out?.type === 'RequestSync' ? out.peers : [], [2, 3], 'names the validators to ask');
});

t.test('one height behind: wait for the Commits, retry sync on the timeout', async (t) => {
  const s = feed(started(4, 0).state, [prepare(2, 2, 0, 1), prepare(3, 2, 0, 1)], { echo: false });
  t.same(summary(s.out), [], 'one height ahead: nothing yet');
  const r = step(s.state, { type: 'Timeout', height: 1, view: 0 });
  t.same(summary(r.out).slice(0, 1), ['RequestSync(1..2)']);
  // A timeout while a single validator claims a higher height still tries (sync verifies certificates).
  const lone = step(step(started(4, 0).state, vc(2, 5, 1)).state, { type: 'Timeout', height: 1, view: 0 });
  t.same(summary(lone.out).slice(0, 1), ['RequestSync(1..5)']);
});

t.test('Synced jumps to the next height, resets the view and replays buffered messages', async (t) => {
  let s = started(4, 0).state;
  s = feed(s, [{ type: 'Timeout', height: 1, view: 0 }, pp(3, 3, 0, 6), prepare(2, 2, 0, 5)]).state;
  t.equal(s.view, 1);
  const r = step(s, { type: 'Synced', height: 2 });
  t.same(summary(r.out), ['ScheduleTimeout(h3 v0 100ms)', 'ExecuteBlock(h3 v0 #6)']);
  t.equal(r.state.height, 3);
  t.equal(r.state.view, 0);
  t.equal(r.state.phase, 'normal');
  t.equal(r.state.future.length, 0, 'height-2 messages dropped, height-3 replayed');
  t.same(step(r.state, { type: 'Synced', height: 1 }).out, [], 'an older Synced is ignored');
});
