import '../../../lib/polyfill.js';
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, loadConfig, DEFAULT_CONFIG } from '../../../node/config.js';
import { ERR } from '../../../lib/errors.js';

t.test('defaults fill what the file leaves out', async (t) => {
  t.same(parseConfig({}), DEFAULT_CONFIG);
  t.equal(DEFAULT_CONFIG.p2p.txRelay, 'flood', 'tx gossip floods by default');
  const c = parseConfig({ moniker: 'v-1', p2p: { port: 4001, txRelay: 'mesh' }, metrics: { port: -1 } });
  t.equal(c.moniker, 'v-1');
  t.same(c.p2p, { ...DEFAULT_CONFIG.p2p, port: 4001, txRelay: 'mesh' }, 'one field of a section set, the others default');
  t.equal(c.metrics.port, -1, 'metrics off');
  t.equal(c.rpc.port, DEFAULT_CONFIG.rpc.port);
});

t.test('bad fields get a clear error naming the field', async (t) => {
  const cases: [unknown, RegExp][] = [
    [[], /expected a JSON object/],
    [null, /expected a JSON object/],
    [{ nope: 1 }, /unknown field "nope"/],
    [{ p2p: { txrelay: 'flood' } }, /unknown field "p2p.txrelay"/],
    [{ p2p: { txRelay: 'gossip' } }, /p2p.txRelay must be "flood" or "mesh"/],
    [{ p2p: { txRelay: 1 } }, /p2p.txRelay must be "flood" or "mesh"/],
    [{ p2p: { peers: 'x' } }, /p2p.peers must be a list of multiaddrs/],
    [{ p2p: { peers: [1] } }, /p2p.peers must be a list of multiaddrs/],
    [{ p2p: [] }, /p2p must be an object/],
    [{ rpc: { host: '' } }, /rpc.host must be a host name or address/],
    [{ rpc: { port: 70000 } }, /rpc.port must be a non-negative integer ≤ 65535/],
    [{ rpc: { port: -1 } }, /rpc.port must be a non-negative integer/],
    [{ mempool: { maxTxs: 1.5 } }, /mempool.maxTxs must be a non-negative integer/],
    [{ consensus: { timeoutBaseMs: '3000' } }, /consensus.timeoutBaseMs must be a non-negative integer/],
    [{ log: { level: 'loud' } }, /log.level must be one of/],
    [{ moniker: 'has space' }, /moniker must be 1-64/],
    [{ consensus: { blockDelayMaxMs: 1.5 } }, /consensus.blockDelayMaxMs must be a non-negative integer/],
    [{ consensus: { blockDelayMaxMs: '200' } }, /consensus.blockDelayMaxMs must be a non-negative integer/],
  ];
  for (const [json, msg] of cases) {
    t.throws(() => parseConfig(json, 'cfg.json'), { code: ERR.CONFIG, message: msg }, JSON.stringify(json));
    t.throws(() => parseConfig(json, 'cfg.json'), { message: /^cfg\.json: / }, 'the message names the file');
  }
});

t.test('loadConfig: unreadable, not JSON, an idle primary voted out', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'iotchain-config-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  await t.rejects(loadConfig(home), { code: ERR.CONFIG, message: /cannot read .*config\.json: ENOENT/ });
  await writeFile(join(home, 'config.json'), '{ not json');
  await t.rejects(loadConfig(home), { code: ERR.CONFIG, message: /config\.json is not valid JSON/ });
  await writeFile(join(home, 'config.json'), JSON.stringify({ consensus: { emptyBlockIntervalMs: 3000, timeoutBaseMs: 3000 } }));
  await t.rejects(loadConfig(home), { code: ERR.CONFIG, message: /emptyBlockIntervalMs must be below consensus.timeoutBaseMs/ });
  await writeFile(join(home, 'config.json'), JSON.stringify({ consensus: { blockDelayMaxMs: 500, emptyBlockIntervalMs: 400, timeoutBaseMs: 500 } }));
  await t.rejects(loadConfig(home), { code: ERR.CONFIG, message: /blockDelayMaxMs must be below consensus.timeoutBaseMs/ }, 'a primary gathering past the round timeout');
  await writeFile(join(home, 'config.json'), JSON.stringify({ consensus: { blockDelayMaxMs: 499, emptyBlockIntervalMs: 400, timeoutBaseMs: 500 } }));
  t.equal((await loadConfig(home)).consensus.blockDelayMaxMs, 499);
  await writeFile(join(home, 'config.json'), JSON.stringify({ p2p: { txRelay: 'mesh' } }));
  t.equal((await loadConfig(home)).p2p.txRelay, 'mesh');
});
