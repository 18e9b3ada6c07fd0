// The transport-agnostic session evidence (no sockets): what the gateway refuses to sign, and what
// the client refuses to accept — including evidence replayed from another session — plus framing.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { KeyType, addressOf } from '../../../../crypto/keys.js';
import { testKey } from '../../../utils/chain.js';
import { verifySessionProof } from '../../../../protocols/reputation/index.js';
import { answerHello, checkEvidence, createHello, decodeMessage, encodeMessage, CHANNEL_PROTOCOL_VERSION } from '../../../../protocols/channel/index.js';

const CHAIN = 'evidence-chain';
const NAME = 'gw.example';
const gwKey = testKey('evidence/gw-online');
const gwP256 = testKey('evidence/gw-online-p256', KeyType.p256);
const voter = addressOf(KeyType.secp256k1, testKey('evidence/voter').publicKey);
const gw = { chainId: CHAIN, name: NAME, onlineKey: gwKey };
const now = 1_800_000_000_000;
const exporterA = new Uint8Array(randomBytes(32));
const exporterB = new Uint8Array(randomBytes(32));
const codes = (r: { code: string }[]) => r.map((x) => x.code).sort();

t.test('a proof for this session is accepted, and the reputation module would accept it too', async (t) => {
  for (const onlineKey of [gwKey, gwP256]) {
    const hello = createHello(CHAIN, NAME, voter, now);
    const proof = answerHello({ ...gw, onlineKey }, hello, exporterA, now + 5);
    t.same(checkEvidence({ hello, proof, exporter: exporterA, gatewayKey: { keyType: onlineKey.type, pub: onlineKey.publicKey }, now: now + 10 }), []);
    t.ok(verifySessionProof(onlineKey.type, onlineKey.publicKey, CHAIN, NAME, voter, proof), 'verifySessionProof (voteDomain) agrees');
  }
});

t.test('the client refuses: replay from another session, mismatch, wrong key, skewed clock — all reasons', async (t) => {
  const key = { keyType: gwKey.type, pub: gwKey.publicKey };
  const hello = createHello(CHAIN, NAME, voter, now);
  const proof = answerHello(gw, hello, exporterA, now);
  t.same(codes(checkEvidence({ hello, proof, exporter: exporterB, gatewayKey: key, now })), ['EVIDENCE_RELAYED'], 'made for session A, shown in session B');
  const hello2 = createHello(CHAIN, NAME, voter, now);
  t.same(codes(checkEvidence({ hello: hello2, proof, exporter: exporterA, gatewayKey: key, now })), ['EVIDENCE_MISMATCH'], 'another hello: its random is not in the proof');
  t.same(codes(checkEvidence({ hello, proof, exporter: exporterA, gatewayKey: { keyType: gwP256.type, pub: gwP256.publicKey }, now })), ['BAD_SESSION_SIGNATURE']);
  const forged = { ...proof, exporterHash: new Uint8Array(32) };
  t.same(codes(checkEvidence({ hello, proof: forged, exporter: exporterA, gatewayKey: key, now })), ['BAD_SESSION_SIGNATURE', 'EVIDENCE_RELAYED']);
  t.same(codes(checkEvidence({ hello, proof, exporter: exporterA, gatewayKey: key, now: now + 60_000 })), ['TIME_SKEW']);
  t.same(codes(checkEvidence({ hello: hello2, proof: forged, exporter: exporterB, gatewayKey: { keyType: gwP256.type, pub: gwP256.publicKey }, now: now + 60_000 })), [
    'BAD_SESSION_SIGNATURE',
    'EVIDENCE_MISMATCH',
    'EVIDENCE_RELAYED',
    'TIME_SKEW',
  ]);
  t.notOk(verifySessionProof(gwKey.type, gwKey.publicKey, CHAIN, NAME, addressOf(KeyType.secp256k1, testKey('evidence/thief').publicKey), proof), 'the proof names its voter');
});

t.test('the gateway signs nothing for a wrong chain, a wrong name, a skewed clock or an unknown version', async (t) => {
  const hello = createHello(CHAIN, NAME, voter, now);
  t.throws(() => answerHello(gw, { ...hello, chainId: 'other' }, exporterA, now), { code: 'WRONG_CHAIN' });
  t.throws(() => answerHello(gw, { ...hello, name: 'other.example' }, exporterA, now), { code: 'WRONG_NAME' });
  t.throws(() => answerHello(gw, hello, exporterA, now + 31_000), { code: 'TIME_SKEW' });
  t.throws(() => answerHello(gw, { ...hello, version: CHANNEL_PROTOCOL_VERSION + 1 }, exporterA, now), { code: 'CHANNEL_PROTOCOL' });
  t.throws(() => answerHello(gw, hello, exporterA.subarray(0, 16), now), { code: 'CHANNEL_PROTOCOL' });
});

t.test('frames round-trip; malformed frames are refused', async (t) => {
  const hello = createHello(CHAIN, NAME, voter, now);
  const proof = answerHello(gw, hello, exporterA, now);
  for (const m of [
    { type: 'hello', hello },
    { type: 'evidence', proof },
    { type: 'get' },
    { type: 'payload', contentType: 'text/plain', data: new Uint8Array([1, 2, 3]) },
    { type: 'refused', code: 'X', message: 'y' },
  ] as const) {
    t.same(decodeMessage(encodeMessage(m).trimEnd()), m);
  }
  t.throws(() => decodeMessage('nope'), { code: 'CHANNEL_PROTOCOL' });
  t.throws(() => decodeMessage('{"type":"hello","body":{"version":1}}'), { code: 'CHANNEL_PROTOCOL' });
  t.throws(() => decodeMessage('{"type":"evidence","body":{"clientRandom":"0x00"}}'), { code: 'CHANNEL_PROTOCOL' });
  t.throws(() => decodeMessage('{"type":"other","body":{}}'), { code: 'CHANNEL_PROTOCOL' });
});
