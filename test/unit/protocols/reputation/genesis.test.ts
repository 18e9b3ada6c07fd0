// Reputation genesis: strict parsing and defaults.
import t from 'tap';
import { testChain } from '../../../utils/chain.js';
import { runQuery } from '../../../../protocols/query.js';
import { DEFAULT_REPUTATION_PARAMS, REPUTATION_ERR } from '../../../../protocols/reputation/index.js';

t.test('no section: defaults and no notary', async (t) => {
  const c = await testChain();
  const p = (await runQuery(c.app, 'reputation/params', {}, false)).value as Record<string, unknown>;
  t.match(p, { halfLifeMs: DEFAULT_REPUTATION_PARAMS.halfLifeMs, voteFee: DEFAULT_REPUTATION_PARAMS.voteFee.toString(), notary: null });
});

t.test('bad sections are refused', async (t) => {
  const bad = async (section: unknown, re: RegExp) => {
    await t.rejects(testChain({ extra: { reputation: section } }), { code: REPUTATION_ERR.BAD_GENESIS, message: re }, re.source);
  };
  await bad({ notary: 'nope' }, /notary/);
  await bad({ other: 1 }, /unknown field other/);
  await bad({ params: { halfLifeMs: 0 } }, /halfLifeMs/);
  await bad({ params: { maxScore: 0 } }, /maxScore/);
  await bad({ params: { voteFee: -1 } }, /decimal amount/);
  await bad({ params: { periodMs: '5' } }, /integer/);
});
