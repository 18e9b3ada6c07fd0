import t from 'tap';
import {
  ReplayGuard,
  SIGCHAIN_TAGS,
  chainSigner,
  checkAggregateMembers,
  commandSignBytes,
  countersignAggregate,
  countersignFeedback,
  countersignReading,
  decodeEnvelope,
  encodeEnvelope,
  envelopeFromJson,
  envelopeToJson,
  readingSignBytes,
  signAggregate,
  signCommand,
  signFeedback,
  signReading,
  staticResolver,
  verifyAggregate,
  verifyCommand,
  verifyEnvelopeBytes,
  verifyFeedback,
  verifyReading,
  type ChainSigner,
  type KeyResolver,
  type ReadingEnvelope,
  type VerifyResult,
} from '../../../../protocols/receipts/signatureChain.js';
import { KeyType, curveOf, keyPairFromPrivate, type KeyPair } from '../../../../crypto/keys.js';
import { sha256 } from '../../../../crypto/hash.js';
import { sign } from '../../../../crypto/sign.js';
import { concatBytes, readUintBE, toHex, uintBE, utf8 } from '../../../../lib/hex.js';

/** Deterministic key from a label. */
function keyOf(label: string, type: KeyType): KeyPair {
  return keyPairFromPrivate(type, sha256(utf8(`iotchain test key ${label}`)));
}

/** The same signature with s replaced by n - s (valid for OpenSSL, refused here). */
function highS(type: KeyType, sig: Uint8Array): Uint8Array {
  const n = curveOf(type).Point.CURVE().n;
  const s = readUintBE(sig.subarray(32));
  return concatBytes(sig.subarray(0, 32), uintBE(n - s, 32));
}

type Parties = {
  type: KeyType;
  device: ChainSigner;
  device2: ChainSigner;
  gw1: ChainSigner;
  gw2: ChainSigner;
  service: ChainSigner;
  attacker: KeyPair;
  resolver: KeyResolver;
};

function parties(type: KeyType): Parties {
  const keys = ['device', 'device2', 'gw1', 'gw2', 'service'].map((l) => keyOf(`${l}/${type}`, type));
  const [device, device2, gw1, gw2, service] = keys.map((k) => chainSigner(k)) as [ChainSigner, ChainSigner, ChainSigner, ChainSigner, ChainSigner];
  return { type, device, device2, gw1, gw2, service, attacker: keyOf(`attacker/${type}`, type), resolver: staticResolver(keys) };
}

const hex = (b: Uint8Array): string => toHex(b);

/** The one assertion the helpers below need (keeps them independent of tap's plugin types). */
type Asserts = Pick<typeof t, 'same'>;

/** Asserts a failure naming exactly this signer and reason. */
function failsAt(t: Asserts, r: VerifyResult, reason: string, role: string, address: Uint8Array, index: number, msg: string): void {
  t.same(r.ok ? r : { ok: r.ok, reason: r.reason, failedSigner: r.failedSigner }, { ok: false, reason, failedSigner: { role, address: hex(address), index } }, msg);
}

function failsWith(t: Asserts, r: VerifyResult, reason: string, msg: string): void {
  t.same(r.ok ? r : { ok: r.ok, reason: r.reason, failedSigner: r.failedSigner }, { ok: false, reason, failedSigner: undefined }, msg);
}

const T0 = 1_700_000_000_000;

function reading(p: Parties, seq: number, data = `temp=21.${seq}`, gateways: ChainSigner[] = [p.gw1], withService = true): ReadingEnvelope {
  let env = signReading(p.device, { seq, timestamp: T0 + seq, data: utf8(data) });
  for (const g of gateways) env = countersignReading(env, 'gateway', g);
  return withService ? countersignReading(env, 'service', p.service) : env;
}

for (const [curve, type] of [
  ['secp256k1', KeyType.secp256k1],
  ['P-256', KeyType.p256],
] as const) {
  t.test(`${curve}: Fig. 5a device → gateway → service`, async (t) => {
    const p = parties(type);
    const env = reading(p, 1);
    t.same(verifyReading(env, p.resolver), { ok: true });
    t.equal(env.gateways.length, 1);
    t.ok(env.service);

    // wire and JSON forms round-trip and still verify
    const bytes = encodeEnvelope('reading', env);
    const back = decodeEnvelope('reading', bytes);
    t.equal(hex(encodeEnvelope('reading', back)), hex(bytes));
    t.same(verifyReading(back, p.resolver), { ok: true });
    const json = JSON.parse(JSON.stringify(envelopeToJson('reading', env))) as unknown;
    t.equal(hex(encodeEnvelope('reading', envelopeFromJson('reading', json))), hex(bytes));
    t.same(verifyEnvelopeBytes('reading', bytes, p.resolver), { ok: true });

    // modified data, modified timestamp, modified seq: the device is the first signer that fails
    failsAt(t, verifyReading({ ...env, reading: { ...env.reading, data: utf8('temp=99.9') } }, p.resolver), 'bad-signature', 'device', p.device.address, 0, 'modified data');
    failsAt(t, verifyReading({ ...env, reading: { ...env.reading, timestamp: env.reading.timestamp + 1 } }, p.resolver), 'bad-signature', 'device', p.device.address, 0, 'modified timestamp');
    failsAt(t, verifyReading({ ...env, reading: { ...env.reading, seq: 2 } }, p.resolver), 'bad-signature', 'device', p.device.address, 0, 'modified seq');

    // a gateway signature from the wrong key names that gateway
    const forger = chainSigner(p.attacker, p.gw1.address);
    const forged = countersignReading(countersignReading(signReading(p.device, { seq: 1, timestamp: T0, data: utf8('x') }), 'gateway', forger), 'service', p.service);
    failsAt(t, verifyReading(forged, p.resolver), 'bad-signature', 'gateway', p.gw1.address, 1, 'gateway signed with the wrong key');

    // the service signature from the wrong key names the service
    const badService = countersignReading({ ...env, service: undefined }, 'service', chainSigner(p.attacker, p.service.address));
    failsAt(t, verifyReading(badService, p.resolver), 'bad-signature', 'service', p.service.address, 2, 'service signed with the wrong key');

    // a gateway signature swapped between two messages
    const other = reading(p, 2);
    failsAt(t, verifyReading({ ...other, gateways: env.gateways }, p.resolver), 'bad-signature', 'gateway', p.gw1.address, 1, 'gateway signature swapped');

    // an unknown signer
    const noGw = staticResolver([p.device, p.service].map((s) => keyOf(s === p.device ? `device/${type}` : `service/${type}`, type)));
    failsAt(t, verifyReading(env, noGw), 'unknown-key', 'gateway', p.gw1.address, 1, 'gateway key unknown');

    // high-s forms of each signature are refused, naming the signer
    failsAt(t, verifyReading({ ...env, reading: { ...env.reading, signature: highS(type, env.reading.signature) } }, p.resolver), 'high-s', 'device', p.device.address, 0, 'high-s device signature');
    const g0 = env.gateways[0]!;
    failsAt(t, verifyReading({ ...env, gateways: [{ ...g0, signature: highS(type, g0.signature) }] }, p.resolver), 'high-s', 'gateway', p.gw1.address, 1, 'high-s gateway signature');

    // incomplete chains
    failsWith(t, verifyReading({ ...env, service: undefined }, p.resolver), 'incomplete', 'service signature stripped');
    failsWith(t, verifyReading(reading(p, 3, 'x', [], true), p.resolver), 'incomplete', 'no gateway');
    t.same(verifyReading({ ...env, service: undefined }, p.resolver, { requireService: false }), { ok: true }, 'in transit: gateway table shape');
    t.same(verifyReading(signReading(p.device, { seq: 4, timestamp: T0, data: utf8('y') }), p.resolver, { minGateways: 0, requireService: false }), { ok: true });
  });

  t.test(`${curve}: Fig. 5b two gateways (and longer chains)`, async (t) => {
    const p = parties(type);
    const env = reading(p, 1, 'humidity=40', [p.gw1, p.gw2]);
    t.same(verifyReading(env, p.resolver), { ok: true });
    t.same(env.gateways.map((g) => hex(g.address)), [hex(p.gw1.address), hex(p.gw2.address)]);

    // reordered chain: the first signature out of place is the first to fail
    const swapped = { ...env, gateways: [env.gateways[1]!, env.gateways[0]!] };
    failsAt(t, verifyReading(swapped, p.resolver), 'bad-signature', 'gateway', p.gw2.address, 1, 'gateways reordered');
    // a dropped middle gateway breaks the next signer
    failsAt(t, verifyReading({ ...env, gateways: [env.gateways[1]!] }, p.resolver), 'bad-signature', 'gateway', p.gw2.address, 1, 'gateway dropped');
    // the second gateway forged
    const forged = countersignReading(countersignReading(countersignReading(signReading(p.device, { seq: 1, timestamp: T0, data: utf8('h') }), 'gateway', p.gw1), 'gateway', chainSigner(p.attacker, p.gw2.address)), 'service', p.service);
    failsAt(t, verifyReading(forged, p.resolver), 'bad-signature', 'gateway', p.gw2.address, 2, 'second gateway wrong key');

    // a chain of five gateways verifies
    let long = signReading(p.device, { seq: 9, timestamp: T0, data: utf8('z') });
    for (let i = 0; i < 5; i++) long = countersignReading(long, 'gateway', i % 2 ? p.gw2 : p.gw1);
    t.same(verifyReading(countersignReading(long, 'service', p.service), p.resolver), { ok: true });
    t.throws(() => countersignReading(countersignReading(long, 'service', p.service), 'gateway', p.gw1), 'nothing is added after the service');
  });

  t.test(`${curve}: Fig. 5c gateway aggregation with groupID`, async (t) => {
    const p = parties(type);
    const m1 = signReading(p.device, { seq: 1, timestamp: T0, data: utf8('20') }).reading;
    const m2 = signReading(p.device2, { seq: 1, timestamp: T0 + 5, data: utf8('22') }).reading;
    const m3 = signReading(p.device, { seq: 2, timestamp: T0 + 9, data: utf8('24') }).reading;
    const agg = countersignAggregate(signAggregate(p.gw1, { groupId: 10, timestamp: T0 + 10, aggr: utf8('avg=22') }, [m1, m2, m3]), 'service', p.service);
    t.same(verifyAggregate(agg, p.resolver), { ok: true });
    t.equal(agg.aggregate.memberCount, 3);
    t.equal(agg.aggregate.groupId, 10);
    const bytes = encodeEnvelope('aggregate', agg);
    t.same(verifyEnvelopeBytes('aggregate', bytes, p.resolver), { ok: true });
    t.equal(hex(encodeEnvelope('aggregate', envelopeFromJson('aggregate', JSON.parse(JSON.stringify(envelopeToJson('aggregate', agg)))))), hex(bytes));

    // with a relaying gateway
    const relayed = countersignAggregate(countersignAggregate(signAggregate(p.gw1, { groupId: 11, timestamp: T0, aggr: utf8('avg') }, [m1, m2]), 'gateway', p.gw2), 'service', p.service);
    t.same(verifyAggregate(relayed, p.resolver), { ok: true });

    failsWith(t, verifyAggregate({ ...agg, members: [m1, m3] }, p.resolver), 'member-dropped', 'dropped member');
    const extra = signReading(p.device2, { seq: 2, timestamp: T0 + 11, data: utf8('30') }).reading;
    failsWith(t, verifyAggregate({ ...agg, members: [m1, m2, m3, extra] }, p.resolver), 'member-added', 'added member');
    failsWith(t, verifyAggregate({ ...agg, members: [m1, m2, extra] }, p.resolver), 'member-mismatch', 'replaced member');
    failsWith(t, verifyAggregate({ ...agg, members: [m2, m1, m3] }, p.resolver), 'member-mismatch', 'reordered members');
    t.same(checkAggregateMembers(agg.aggregate, [m1, m2, m3]), { ok: true }, 'cross-check against the gateway table');

    // a modified member names its device, by its position
    failsAt(t, verifyAggregate({ ...agg, members: [m1, { ...m2, data: utf8('99') }, m3] }, p.resolver), 'bad-signature', 'device', p.device2.address, 1, 'modified member');
    // a modified aggregate names the aggregating gateway (after the 3 members)
    failsAt(t, verifyAggregate({ ...agg, aggregate: { ...agg.aggregate, aggr: utf8('avg=99') } }, p.resolver), 'bad-signature', 'gateway', p.gw1.address, 3, 'modified aggr');
    failsAt(t, verifyAggregate({ ...agg, aggregate: { ...agg.aggregate, groupId: 12 } }, p.resolver), 'bad-signature', 'gateway', p.gw1.address, 3, 'modified groupId');
    // recomputing the commitment after dropping a member still fails: the gateway signed the old one
    const resigned = { ...agg, members: [m1, m3], aggregate: { ...agg.aggregate, memberCount: 2 } };
    failsAt(t, verifyAggregate(resigned, p.resolver), 'bad-signature', 'gateway', p.gw1.address, 2, 'count rewritten');
    // wrong service key
    failsAt(t, verifyAggregate(countersignAggregate({ ...agg, service: undefined }, 'service', chainSigner(p.attacker, p.service.address)), p.resolver), 'bad-signature', 'service', p.service.address, 4, 'service wrong key');
    failsWith(t, verifyAggregate({ ...agg, service: undefined }, p.resolver), 'incomplete', 'service missing');

    // replay: members' sequence numbers go through the guard
    const guard = new ReplayGuard();
    t.same(verifyAggregate(agg, p.resolver, { replayGuard: guard }), { ok: true });
    failsAt(t, verifyAggregate(agg, p.resolver, { replayGuard: guard }), 'replay', 'device', p.device.address, 0, 'aggregate replayed');
    const dup = countersignAggregate(signAggregate(p.gw1, { groupId: 13, timestamp: T0, aggr: utf8('a') }, [m3, m3]), 'service', p.service);
    failsAt(t, verifyAggregate(dup, p.resolver, { replayGuard: new ReplayGuard() }), 'replay', 'device', p.device.address, 1, 'same reading twice in one aggregate');
  });

  t.test(`${curve}: Fig. 5d command → feedback through the gateway`, async (t) => {
    const p = parties(type);
    const cmd = signCommand(p.service, { deviceId: p.device.address, seq: 1, timestamp: T0, command: utf8('valve=open') });
    t.same(verifyCommand(cmd, p.resolver), { ok: true });
    failsAt(t, verifyCommand({ ...cmd, command: utf8('valve=close') }, p.resolver), 'bad-signature', 'service', p.service.address, 0, 'modified command');
    failsAt(t, verifyCommand({ ...cmd, deviceId: p.device2.address }, p.resolver), 'bad-signature', 'service', p.service.address, 0, 'command redirected');

    const fb = countersignFeedback(signFeedback(p.device, cmd, { seq: 5, timestamp: T0 + 100, feedback: utf8('ok') }), 'gateway', p.gw1, 11);
    t.equal(fb.groupId, 11);
    t.same(verifyFeedback(fb, p.resolver), { ok: true });
    const bytes = encodeEnvelope('feedback', fb);
    t.same(verifyEnvelopeBytes('feedback', bytes, p.resolver), { ok: true });
    t.equal(hex(encodeEnvelope('feedback', envelopeFromJson('feedback', JSON.parse(JSON.stringify(envelopeToJson('feedback', fb)))))), hex(bytes));
    t.same(verifyFeedback(countersignFeedback(fb, 'service', p.service), p.resolver), { ok: true }, 'optional closing service signature');
    failsWith(t, verifyFeedback(fb, p.resolver, { requireService: true }), 'incomplete', 'service required');
    failsWith(t, verifyFeedback(signFeedback(p.device, cmd, { seq: 5, timestamp: T0, feedback: utf8('ok') }), p.resolver), 'incomplete', 'gateway missing');
    t.throws(() => countersignFeedback(fb, 'gateway', p.gw2, 12), 'groupId is set by the first gateway only');

    // feedback is bound to the signed command: another command breaks the device's signature
    const cmd2 = signCommand(p.service, { deviceId: p.device.address, seq: 2, timestamp: T0, command: utf8('valve=close') });
    failsAt(t, verifyFeedback({ ...fb, command: cmd2 }, p.resolver), 'bad-signature', 'device', p.device.address, 1, 'command swapped');
    failsAt(t, verifyFeedback({ ...fb, command: { ...cmd, command: utf8('valve=close') } }, p.resolver), 'bad-signature', 'service', p.service.address, 0, 'command modified');
    failsAt(t, verifyFeedback({ ...fb, feedback: { ...fb.feedback, feedback: utf8('failed') } }, p.resolver), 'bad-signature', 'device', p.device.address, 1, 'feedback modified');
    failsAt(t, verifyFeedback({ ...fb, feedback: { ...fb.feedback, timestamp: T0 } }, p.resolver), 'bad-signature', 'device', p.device.address, 1, 'feedback timestamp modified');
    failsAt(t, verifyFeedback({ ...fb, groupId: 12 }, p.resolver), 'bad-signature', 'gateway', p.gw1.address, 2, 'groupId modified');
    const forged = countersignFeedback(signFeedback(p.device, cmd, { seq: 5, timestamp: T0 + 100, feedback: utf8('ok') }), 'gateway', chainSigner(p.attacker, p.gw1.address), 11);
    failsAt(t, verifyFeedback(forged, p.resolver), 'bad-signature', 'gateway', p.gw1.address, 2, 'gateway wrong key');
    // a device answering a command addressed to another device
    const cmdFor2 = signCommand(p.service, { deviceId: p.device2.address, seq: 1, timestamp: T0, command: utf8('x') });
    failsWith(t, verifyFeedback({ ...fb, command: cmdFor2 }, p.resolver), 'malformed', 'feedback from a device the command was not for');
    t.throws(() => signFeedback(p.device, cmdFor2, { seq: 1, timestamp: T0, feedback: utf8('x') }));

    // replay: commands at the device (stream service ‖ device), feedback at the service (stream device)
    const atDevice = new ReplayGuard();
    t.same(verifyCommand(cmd, p.resolver, { replayGuard: atDevice }), { ok: true });
    failsAt(t, verifyCommand(cmd, p.resolver, { replayGuard: atDevice }), 'replay', 'service', p.service.address, 0, 'command replayed');
    t.same(verifyCommand(cmd2, p.resolver, { replayGuard: atDevice }), { ok: true });
    const atService = new ReplayGuard();
    t.same(verifyFeedback(fb, p.resolver, { replayGuard: atService }), { ok: true });
    failsAt(t, verifyFeedback(fb, p.resolver, { replayGuard: atService }), 'replay', 'device', p.device.address, 1, 'feedback replayed');
  });

  t.test(`${curve}: replayed readings`, async (t) => {
    const p = parties(type);
    const guard = new ReplayGuard();
    t.same(verifyReading(reading(p, 5), p.resolver, { replayGuard: guard }), { ok: true });
    failsAt(t, verifyReading(reading(p, 5), p.resolver, { replayGuard: guard }), 'replay', 'device', p.device.address, 0, 'same seq');
    failsAt(t, verifyReading(reading(p, 4), p.resolver, { replayGuard: guard }), 'replay', 'device', p.device.address, 0, 'lower seq');
    t.same(verifyReading(reading(p, 7), p.resolver, { replayGuard: guard }), { ok: true }, 'gaps are allowed');
    t.equal(guard.last(p.device.address), 7);
    // a forged envelope with a high number is not recorded
    const forged = { ...reading(p, 1000), reading: { ...reading(p, 1000).reading, data: utf8('forged') } };
    t.equal(verifyReading(forged, p.resolver, { replayGuard: guard }).ok, false);
    t.equal(guard.last(p.device.address), 7, 'a failed envelope records nothing');
    // saved state reloads
    const reloaded = new ReplayGuard(guard.entries());
    failsAt(t, verifyReading(reading(p, 7), p.resolver, { replayGuard: reloaded }), 'replay', 'device', p.device.address, 0, 'after reload');
  });

  t.test(`${curve}: domain separation between flows and roles`, async (t) => {
    const p = parties(type);
    // The last gateway's and the service's countersignatures cover the same tuple; only the role tag
    // tells them apart. Moving the gateway entry into the service slot must fail.
    const env = reading(p, 1, 'x', [p.gw1, p.gw2], false);
    const asService = { ...env, gateways: [env.gateways[0]!], service: env.gateways[1]! };
    failsAt(t, verifyReading(asService, staticResolver([keyOf(`device/${type}`, type), keyOf(`gw1/${type}`, type), keyOf(`gw2/${type}`, type)])), 'bad-signature', 'service', p.gw2.address, 2, 'gateway signature presented as the service');

    const m = signReading(p.device, { seq: 1, timestamp: T0, data: utf8('1') }).reading;
    const agg = countersignAggregate(signAggregate(p.gw1, { groupId: 1, timestamp: T0, aggr: utf8('a') }, [m]), 'gateway', p.gw2);
    failsAt(t, verifyAggregate({ ...agg, gateways: [], service: agg.gateways[0]! }, staticResolver([keyOf(`device/${type}`, type), keyOf(`gw1/${type}`, type), keyOf(`gw2/${type}`, type)])), 'bad-signature', 'service', p.gw2.address, 2, 'aggregate relay presented as the service');

    const cmd = signCommand(p.service, { deviceId: p.device.address, seq: 1, timestamp: T0, command: utf8('c') });
    const fb = countersignFeedback(signFeedback(p.device, cmd, { seq: 1, timestamp: T0, feedback: utf8('f') }), 'gateway', p.gw1, 3);
    failsAt(t, verifyFeedback({ ...fb, gateways: [], service: fb.gateways[0]! }, p.resolver, { minGateways: 0 }), 'bad-signature', 'service', p.gw1.address, 2, 'feedback gateway presented as the service');

    // A device signature over a reading's exact tuple, but made under another flow's tag, is refused.
    const body = { deviceId: p.device.address, seq: 3, timestamp: T0, data: utf8('same bytes') };
    const plain = readingSignBytes(body).subarray(SIGCHAIN_TAGS.readingDevice.length);
    for (const [name, tag] of Object.entries(SIGCHAIN_TAGS)) {
      if (name === 'readingDevice') continue;
      const crossSig = sign(p.device.key, concatBytes(tag, plain));
      const crossEnv = countersignReading(countersignReading({ reading: { ...body, signature: crossSig }, gateways: [], service: undefined }, 'gateway', p.gw1), 'service', p.service);
      failsAt(t, verifyReading(crossEnv, p.resolver), 'bad-signature', 'device', p.device.address, 0, `signature under tag ${name} refused as a reading`);
    }
    // and an untagged signature too
    const untagged = { reading: { ...body, signature: sign(p.device.key, plain) }, gateways: [], service: undefined };
    failsAt(t, verifyReading(untagged, p.resolver, { minGateways: 0, requireService: false }), 'bad-signature', 'device', p.device.address, 0, 'untagged');
    // a command signature presented as a reading-shaped signature of the same service
    t.not(hex(commandSignBytes(cmd).subarray(0, SIGCHAIN_TAGS.commandService.length)), hex(SIGCHAIN_TAGS.readingService));
  });

  t.test(`${curve}: malformed input`, async (t) => {
    const p = parties(type);
    const env = reading(p, 7);
    const bytes = encodeEnvelope('reading', env);
    failsWith(t, verifyEnvelopeBytes('reading', bytes.subarray(0, bytes.length - 1), p.resolver), 'malformed', 'truncated');
    failsWith(t, verifyEnvelopeBytes('reading', concatBytes(bytes, new Uint8Array([0])), p.resolver), 'malformed', 'trailing byte');
    failsWith(t, verifyEnvelopeBytes('reading', new Uint8Array([0xc1]), p.resolver), 'malformed', 'not msgpack');
    // seq 7 is a positive fixint at offset 24 ([ [ bin8(20) deviceId, seq, …): re-encode it as uint16
    t.equal(bytes[24], 7);
    const wide = concatBytes(bytes.subarray(0, 24), new Uint8Array([0xcd, 0x00, 0x07]), bytes.subarray(25));
    failsWith(t, verifyEnvelopeBytes('reading', wide, p.resolver), 'malformed', 'non-minimal integer');
    t.throws(() => decodeEnvelope('reading', wide), /non-canonical/);
    // an envelope of one kind presented as another
    failsWith(t, verifyEnvelopeBytes('aggregate', bytes, p.resolver), 'malformed', 'reading bytes as an aggregate');
    failsWith(t, verifyEnvelopeBytes('feedback', bytes, p.resolver), 'malformed', 'reading bytes as feedback');
    // object-level: a 19-byte address, a 63-byte signature
    failsWith(t, verifyReading({ ...env, reading: { ...env.reading, deviceId: env.reading.deviceId.subarray(1) } }, p.resolver), 'malformed', 'short address');
    failsWith(t, verifyReading({ ...env, gateways: [{ ...env.gateways[0]!, signature: env.gateways[0]!.signature.subarray(1) }] }, p.resolver), 'malformed', 'short signature');
  });
}

t.test('mixed curves in one chain', async (t) => {
  const dev = keyOf('mixed device', KeyType.secp256k1);
  const gw = keyOf('mixed gateway', KeyType.p256);
  const svc = keyOf('mixed service', KeyType.secp256k1);
  const resolver = staticResolver([dev, gw, svc]);
  const env = countersignReading(countersignReading(signReading(chainSigner(dev), { seq: 1, timestamp: T0, data: utf8('m') }), 'gateway', chainSigner(gw)), 'service', chainSigner(svc));
  t.same(verifyReading(env, resolver), { ok: true });
  // the resolver says which curve: the gateway's key under the wrong curve does not verify
  const wrongCurve: KeyResolver = (a) => {
    const k = resolver(a);
    return k && hex(a) === hex(chainSigner(gw).address) ? { type: KeyType.secp256k1, publicKey: k.publicKey } : k;
  };
  t.equal(verifyReading(env, wrongCurve).ok, false);
});

t.test('signing for an identity other than the key address (online key of an offline identity)', async (t) => {
  const online = keyOf('online', KeyType.p256);
  const offline = chainSigner(keyOf('offline', KeyType.secp256k1)).address;
  const gw = keyOf('gw', KeyType.secp256k1);
  const svc = keyOf('svc', KeyType.secp256k1);
  const resolver = staticResolver([{ address: offline, type: online.type, publicKey: online.publicKey }, gw, svc]);
  const env = countersignReading(countersignReading(signReading(chainSigner(online, offline), { seq: 1, timestamp: T0, data: utf8('o') }), 'gateway', chainSigner(gw)), 'service', chainSigner(svc));
  t.equal(hex(env.reading.deviceId), hex(offline));
  t.same(verifyReading(env, resolver), { ok: true });
});

t.test('tags are distinct and prefix-free', async (t) => {
  const tags = Object.values(SIGCHAIN_TAGS).map((x) => Buffer.from(x).toString('latin1'));
  t.equal(new Set(tags).size, tags.length);
  for (const a of tags) {
    t.ok(a.endsWith('\0') && a.indexOf('\0') === a.length - 1, `${a} ends at its only NUL`);
    for (const b of tags) if (a !== b) t.notOk(b.startsWith(a), `${a} is not a prefix of ${b}`);
  }
});

t.test('test vector: the bytes a device signs for a reading', async (t) => {
  const device = chainSigner(keyOf('vector device', KeyType.secp256k1));
  const body = { deviceId: device.address, seq: 1, timestamp: 1_700_000_000_000, data: utf8('21.5') };
  const b = readingSignBytes(body);
  t.equal(
    hex(b),
    hex(concatBytes(utf8('iotchain/sigchain/reading/device/v1\0'), new Uint8Array([0x94, 0xc4, 0x14]), device.address, new Uint8Array([0x01, 0xd3]), uintBE(1_700_000_000_000, 8), new Uint8Array([0xc4, 0x04]), utf8('21.5'))),
  );
});
