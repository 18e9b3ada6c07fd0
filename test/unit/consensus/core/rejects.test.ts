// Malformed and unacceptable inputs are rejected and counted, never thrown; step() never modifies
// the state or input it is given.
import t from 'tap';
import { createState, step, type Input, type PbftState, type RejectReason } from '../../../../consensus/core/index.js';
import { cert, commit, H, nv, P, params, pp, prepare, SIG, started, vc } from './helpers.js';

const junk = (x: unknown): Input => x as Input;

t.test('rejection table', async (t) => {
  const s = started(4, 0, 1, { maxPayloadBytes: 4 }).state;
  const cases: [string, unknown, RejectReason][] = [
    ['null', null, 'malformed'],
    ['a number', 42, 'malformed'],
    ['an empty object', {}, 'malformed'],
    ['an unknown type', { type: 'Vote', from: 1, height: 1, view: 0 }, 'malformed'],
    ['a Prepare without fields', { type: 'Prepare' }, 'malformed'],
    ['author out of range', prepare(4, 1, 0, 7), 'unknownValidator'],
    ['negative author', prepare(-1, 1, 0, 7), 'malformed'],
    ['fractional author', prepare(1.5, 1, 0, 7), 'malformed'],
    ['author as a string', { ...prepare(2, 1, 0, 7), from: '2' }, 'malformed'],
    ['height 0', prepare(2, 0, 0, 7), 'malformed'],
    ['negative view', prepare(2, 1, -1, 7), 'malformed'],
    ['unsafe integer view', prepare(2, 1, 2 ** 60, 7), 'malformed'],
    ['short hash', { ...prepare(2, 1, 0, 7), blockHash: new Uint8Array(31) }, 'malformed'],
    ['hash as an array', { ...prepare(2, 1, 0, 7), blockHash: [...H(7)] }, 'malformed'],
    ['no signature', { ...prepare(2, 1, 0, 7), signature: undefined }, 'malformed'],
    ['payload too large', { ...pp(1, 1, 0, 7), payload: new Uint8Array(5) }, 'payloadTooLarge'],
    ['payload not bytes', { ...pp(1, 1, 0, 7), payload: 'block' }, 'malformed'],
    ['PrePrepare from a non-primary', pp(2, 1, 0, 7), 'notPrimary'],
    ['PrePrepare for view 1 outside a NewView', pp(2, 1, 1, 7), 'prePrepareOutsideNewView'],
    ['Prepare from the primary', prepare(1, 1, 0, 7), 'prepareFromPrimary'],
    ['Prepare far beyond the view window', prepare(3, 1, 17, 7), 'viewTooFar'],
    ['Commit far beyond the view window', commit(2, 1, 17, 7), 'viewTooFar'],
    ['ViewChange for view 0', vc(2, 1, 0), 'malformed'],
    ['ViewChange with a certificate that is not an object', { ...vc(2, 1, 1), prepared: 'yes' }, 'malformed'],
    ['ViewChange with a short certificate', vc(2, 1, 1, cert(4, 1, 0, 7, [0])), 'badCertificate'],
    ['ViewChange with a certificate lacking prepares', { ...vc(2, 1, 1), prepared: { ...cert(4, 1, 0, 7, [0, 3]), prepares: 'x' } }, 'badCertificate'],
    ['NewView for view 0', { ...nv(1, 1, 0, [], 7) }, 'malformed'],
    ['NewView with viewChanges not a list', { ...nv(2, 1, 1, [], 7), viewChanges: 'x' }, 'malformed'],
    ['NewView with more ViewChanges than validators', nv(2, 1, 1, [0, 1, 2, 3, 0].map((i) => vc(i, 1, 1)), 7), 'malformed'],
    ['NewView with a junk ViewChange', { ...nv(2, 1, 1, [], 7), viewChanges: [null] }, 'malformed'],
    ['NewView with a junk PrePrepare', { ...nv(2, 1, 1, [], 7), prePrepare: { type: 'PrePrepare' } }, 'malformed'],
    ['a message of an old height', prepare(2, 1, 0, 7), 'staleHeight'],
  ];
  for (const [label, input, reason] of cases) {
    const base = label === 'a message of an old height' ? step(s, { type: 'Synced', height: 1 }).state : s;
    let r: ReturnType<typeof step> | undefined;
    t.doesNotThrow(() => {
      r = step(base, junk(input));
    }, label);
    t.equal(r?.state.rejected[reason], (base.rejected[reason] ?? 0) + 1, `${label}: ${reason}`);
    t.equal(r?.state.view, base.view);
    t.equal(r?.state.height, base.height);
  }
});

t.test('inputs before Start and a second Start are rejected', async (t) => {
  const fresh = createState(params(4, 0), 1);
  const r = step(fresh, prepare(2, 1, 0, 7));
  t.equal(r.state.rejected.notStarted, 1);
  t.same(r.out, []);
  const s = step(step(fresh, { type: 'Start' }).state, { type: 'Start' });
  t.equal(s.state.rejected.alreadyStarted, 1);
});

/** A projection of everything observable in a state, to detect mutation. */
function snapshot(s: PbftState): string {
  const enc = (x: unknown): unknown => {
    if (x instanceof Uint8Array) return Buffer.from(x).toString('hex');
    if (x instanceof Map) return [...x.entries()].map(([k, v]) => [enc(k), enc(v)]);
    if (x instanceof Set) return [...x].map(enc);
    if (Array.isArray(x)) return x.map(enc);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, enc(v)]));
    return x;
  };
  return JSON.stringify(enc(s));
}

t.test('step() returns new states and never modifies old ones (random inputs)', async (t) => {
  let seed = 12345;
  const rnd = (k: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % k;
  };
  const gens: (() => Input)[] = [
    () => pp((1 + rnd(2)) % 4, 1 + rnd(2), rnd(2), rnd(3)),
    () => prepare(rnd(4), 1 + rnd(2), rnd(3), rnd(3)),
    () => commit(rnd(4), 1 + rnd(2), rnd(3), rnd(3)),
    () => vc(rnd(4), 1 + rnd(2), 1 + rnd(3), rnd(2) ? cert(4, 1, 0, rnd(3), [0, 2]) : undefined),
    () => nv(2, 1, 1, [vc(0, 1, 1), vc(2, 1, 1), vc(3, 1, 1)], rnd(3)),
    () => ({ type: 'Timeout', height: 1 + rnd(2), view: rnd(3) }),
    () => ({ type: 'BlockExecuted', height: 1 + rnd(2), view: rnd(3), blockHash: H(rnd(3)), valid: rnd(4) > 0 }),
    () => ({ type: 'ProposalReady', height: 1 + rnd(2), view: rnd(3), blockHash: H(rnd(3)), payload: P(1) }),
    () => ({ type: 'Synced', height: rnd(3) }),
    () => junk({ type: 'Commit', from: rnd(9), signature: SIG }),
  ];
  for (let self = 0; self < 4; self++) {
    let s = started(4, self).state;
    const history: [PbftState, string][] = [];
    for (let k = 0; k < 400; k++) {
      const gen = gens[rnd(gens.length)] as () => Input;
      const before = snapshot(s);
      const r = step(s, gen());
      history.push([s, before]);
      s = r.state;
    }
    const changed = history.filter(([st, snap]) => snapshot(st) !== snap).length;
    t.equal(changed, 0, `validator ${self}: 400 earlier states unchanged`);
  }
});
