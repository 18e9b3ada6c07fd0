import t from 'tap';
import {
  ROW_FORMAT_VERSION,
  decodeRow,
  decodeRows,
  encodeRow,
  encodeRows,
  rowFromJson,
  rowFromJsonLine,
  rowToJson,
  rowToJsonLine,
  verifyRow,
  type Row,
} from '../../../../protocols/receipts/rows.js';
import {
  chainSigner,
  countersignAggregate,
  countersignFeedback,
  countersignReading,
  signAggregate,
  signCommand,
  signFeedback,
  signReading,
  staticResolver,
} from '../../../../protocols/receipts/signatureChain.js';
import { KeyType, keyPairFromPrivate, toChecksumAddress } from '../../../../crypto/keys.js';
import { sha256 } from '../../../../crypto/hash.js';
import { concatBytes, toHex, utf8 } from '../../../../lib/hex.js';
import { InvalidMessageError } from '../../../../lib/errors.js';

const keyOf = (label: string, type: KeyType = KeyType.secp256k1) => keyPairFromPrivate(type, sha256(utf8(`iotchain rows test ${label}`)));
const keys = { device: keyOf('device'), device2: keyOf('device2', KeyType.p256), gw: keyOf('gw', KeyType.p256), service: keyOf('service') };
const s = { device: chainSigner(keys.device), device2: chainSigner(keys.device2), gw: chainSigner(keys.gw), service: chainSigner(keys.service) };
const resolver = staticResolver(Object.values(keys));
const T0 = 1_700_000_000_000;

// Fig. 5e (the service's table) and 5f (the gateway's table)
const r1 = signReading(s.device, { seq: 1, timestamp: T0, data: utf8('21.5') });
const m1 = signReading(s.device, { seq: 2, timestamp: T0 + 1, data: utf8('20') }).reading;
const m2 = signReading(s.device2, { seq: 1, timestamp: T0 + 2, data: utf8('22') }).reading;
const cmd = signCommand(s.service, { deviceId: s.device.address, seq: 1, timestamp: T0 + 3, command: utf8('valve=open') });
const fb = countersignFeedback(signFeedback(s.device, cmd, { seq: 3, timestamp: T0 + 4, feedback: utf8('ok') }), 'gateway', s.gw, 11);

const serviceTable: Row[] = [
  { id: 1, table: 'service_data', groupId: undefined, kind: 'reading', envelope: countersignReading(countersignReading(r1, 'gateway', s.gw), 'service', s.service) },
  {
    id: 3,
    table: 'service_data',
    groupId: 10,
    kind: 'aggregate',
    envelope: countersignAggregate(signAggregate(s.gw, { groupId: 10, timestamp: T0 + 2, aggr: utf8('avg=21') }, [m1, m2]), 'service', s.service),
  },
  { id: 4, table: 'service_data', groupId: 11, kind: 'feedback', envelope: fb },
];
const gatewayTable: Row[] = [
  { id: 1, table: 'gw.data', groupId: 10, kind: 'reading', envelope: { reading: m1, gateways: [], service: undefined } },
  { id: 2, table: 'gw.data', groupId: 10, kind: 'reading', envelope: { reading: m2, gateways: [], service: undefined } },
  { id: 3, table: 'gw.data', groupId: 11, kind: 'command', envelope: cmd },
  { id: 4, table: 'gw.data', groupId: 11, kind: 'feedback', envelope: signFeedback(s.device, cmd, { seq: 3, timestamp: T0 + 4, feedback: utf8('ok') }) },
];
// (the gateway stores feedback before countersigning it: its row's groupId 11 is the table's own pointer)
const allRows = [...serviceTable, ...gatewayTable];

function throwsInvalid(t: Pick<typeof import('tap').default, 'throws'>, fn: () => unknown, re: RegExp, msg: string): void {
  t.throws(fn, { constructor: InvalidMessageError, message: re }, msg);
}

t.test('canonical encoding round-trips every row kind', async (t) => {
  for (const row of allRows) {
    const b = encodeRow(row);
    t.equal(new DataView(b.buffer, b.byteOffset).getUint32(0), b.length - 4, 'length prefix');
    t.equal(b[4], 0x96, 'a 6-tuple');
    t.equal(b[5], ROW_FORMAT_VERSION);
    const back = decodeRow(b);
    t.equal(toHex(encodeRow(back)), toHex(b), `${row.table}/${row.id} re-encodes identically`);
    t.same(back, row);
  }
  const all = encodeRows(serviceTable);
  t.equal(toHex(all), toHex(concatBytes(...serviceTable.map(encodeRow))));
  t.equal(toHex(encodeRows(decodeRows(all))), toHex(all));
  t.same(decodeRows(new Uint8Array(0)), []);
});

t.test('encoding is deterministic and distinguishes every field', async (t) => {
  const row = serviceTable[0]!;
  t.equal(toHex(encodeRow(row)), toHex(encodeRow({ ...row })));
  t.not(toHex(encodeRow(row)), toHex(encodeRow({ ...row, id: 2 })));
  t.not(toHex(encodeRow(row)), toHex(encodeRow({ ...row, table: 'service_datb' })));
  t.not(toHex(encodeRow(row)), toHex(encodeRow({ ...row, groupId: 0 })));
  t.throws(() => encodeRow({ ...row, id: -1 }));
  t.throws(() => encodeRow({ ...row, id: 1.5 }));
  t.throws(() => encodeRow({ ...row, table: 'bad table' }));
});

t.test('decodeRow rejects non-canonical and malformed bytes', async (t) => {
  const row = serviceTable[1]!; // id 3
  const b = encodeRow(row);
  const body = b.subarray(4);
  const withPrefix = (x: Uint8Array) => {
    const out = new Uint8Array(4 + x.length);
    new DataView(out.buffer).setUint32(0, x.length);
    out.set(x, 4);
    return out;
  };
  throwsInvalid(t, () => decodeRow(concatBytes(b, new Uint8Array([0]))), /length prefix/, 'trailing byte');
  throwsInvalid(t, () => decodeRow(b.subarray(0, b.length - 1)), /length prefix/, 'truncated');
  throwsInvalid(t, () => decodeRow(b.subarray(0, 3)), /length prefix/, 'shorter than the prefix');
  throwsInvalid(t, () => decodeRow(withPrefix(concatBytes(body, new Uint8Array([0])))), /non-canonical|trailing|msgpack/, 'trailing byte inside the prefix');
  // id 3 (fixint at body offset 2) re-encoded as uint16
  t.equal(body[2], 3);
  throwsInvalid(t, () => decodeRow(withPrefix(concatBytes(body.subarray(0, 2), new Uint8Array([0xcd, 0x00, 0x03]), body.subarray(3)))), /non-canonical/, 'non-minimal id');
  // version and kind tags
  throwsInvalid(t, () => decodeRow(withPrefix(concatBytes(new Uint8Array([0x96, 0x02]), body.subarray(2)))), /unsupported row format/, 'unknown version');
  const kindAt = body.indexOf(0x02, 3); // groupId 10 (0x0a), then kind 2 (aggregate)
  t.equal(body[kindAt - 1], 10);
  throwsInvalid(t, () => decodeRow(withPrefix(concatBytes(body.subarray(0, kindAt), new Uint8Array([0x09]), body.subarray(kindAt + 1)))), /unknown row kind/, 'unknown kind');
  throwsInvalid(t, () => decodeRow(withPrefix(concatBytes(body.subarray(0, kindAt), new Uint8Array([0x01]), body.subarray(kindAt + 1)))), /row\.envelope/, 'aggregate presented as a reading');
  throwsInvalid(t, () => decodeRows(concatBytes(encodeRow(serviceTable[0]!), b.subarray(0, 10))), /rows @\d+: truncated row/, 'truncated sub-table');
  throwsInvalid(t, () => decodeRows(concatBytes(encodeRow(serviceTable[0]!), new Uint8Array([0, 0]))), /truncated length prefix/, 'truncated prefix in a sub-table');
});

t.test('JSON form round-trips and is strict', async (t) => {
  for (const row of allRows) {
    const line = rowToJsonLine(row);
    t.notOk(line.includes('\n'));
    const back = rowFromJsonLine(line);
    t.equal(toHex(encodeRow(back)), toHex(encodeRow(row)), `${row.kind} row via JSON`);
  }
  const json = rowToJson(serviceTable[0]!) as { id: number; groupId: null; envelope: { reading: Record<string, unknown>; service: unknown } };
  t.equal(json.id, 1);
  t.equal(json.groupId, null);
  t.equal(json.envelope.reading.seq, 1);
  t.equal(json.envelope.reading.deviceId, toHex(s.device.address));
  t.match(json.envelope.reading.data, /^0x[0-9a-f]+$/);

  const line = rowToJsonLine(serviceTable[0]!);
  type Obj = { [k: string]: unknown };
  type RowObj = Obj & { envelope?: Obj & { reading: Obj } };
  const mutate = (f: (o: RowObj & { envelope: Obj & { reading: Obj } }) => void): string => {
    const o = JSON.parse(line) as RowObj & { envelope: Obj & { reading: Obj } };
    f(o);
    return JSON.stringify(o);
  };
  const cases: [string, string, RegExp][] = [
    ['odd-length hex', mutate((o) => (o.envelope.reading.data = '0x123')), /row\.envelope\.reading\.data/],
    ['non-hex digit', mutate((o) => (o.envelope.reading.data = '0xzz')), /row\.envelope\.reading\.data/],
    ['hex without 0x', mutate((o) => (o.envelope.reading.data = '1234')), /row\.envelope\.reading\.data/],
    ['short signature', mutate((o) => (o.envelope.reading.signature = '0x' + '11'.repeat(63))), /row\.envelope\.reading\.signature.*64/],
    ['short address', mutate((o) => (o.envelope.reading.deviceId = '0x' + '11'.repeat(19))), /row\.envelope\.reading\.deviceId/],
    [
      'bad EIP-55 checksum',
      mutate((o) => {
        const c = toChecksumAddress(s.device.address);
        const flipped = c.slice(0, 2) + [...c.slice(2)].map((ch) => (/[a-f]/.test(ch) ? ch.toUpperCase() : /[A-F]/.test(ch) ? ch.toLowerCase() : ch)).join('');
        o.envelope.reading.deviceId = flipped;
      }),
      /checksum/,
    ],
    ['missing seq', mutate((o) => delete o.envelope.reading.seq), /row\.envelope\.reading\.seq: missing field/],
    ['missing groupId', mutate((o) => delete o.groupId), /row\.groupId: missing field/],
    ['missing service', mutate((o) => delete o.envelope.service), /row\.envelope\.service: missing field/],
    ['missing envelope', mutate((o: RowObj) => delete o.envelope), /row\.envelope: missing field/],
    ['unknown field', mutate((o) => (o.extra = 1)), /unknown field "extra"/],
    ['seq as a string', mutate((o) => (o.envelope.reading.seq = '1')), /row\.envelope\.reading\.seq/],
    ['negative id', mutate((o) => (o.id = -1)), /row\.id/],
    ['fractional timestamp', mutate((o) => (o.envelope.reading.timestamp = 1.5)), /row\.envelope\.reading\.timestamp/],
    ['id above 2^53', mutate((o) => (o.id = 2 ** 53)), /row\.id/],
    ['unknown kind', mutate((o) => (o.kind = 'telemetry')), /row\.kind/],
    ['bad table name', mutate((o) => (o.table = '../etc')), /row\.table/],
    ['gateways not an array', mutate((o) => (o.envelope.gateways = {})), /row\.envelope\.gateways/],
    ['not JSON', line.slice(0, -1), /not valid JSON/],
    ['not an object', '[1,2]', /row: expected a JSON object/],
  ];
  for (const [name, text, re] of cases) throwsInvalid(t, () => rowFromJsonLine(text), re, name);
  throwsInvalid(t, () => rowFromJson(null), /row: expected a JSON object/, 'null');
  // checksummed and upper-case addresses are accepted
  const cs = mutate((o) => (o.envelope.reading.deviceId = toChecksumAddress(s.device.address)));
  t.equal(toHex(encodeRow(rowFromJsonLine(cs))), toHex(encodeRow(serviceTable[0]!)));
});

t.test('verifyRow checks the chain each row carries', async (t) => {
  for (const row of serviceTable) t.same(verifyRow(row, resolver), { ok: true }, `service row ${row.id}`);
  // the gateway's table holds what the gateway received: readings and feedback without its own signature yet
  const gwShape = { minGateways: 0, requireService: false };
  for (const row of gatewayTable) t.same(verifyRow(row, resolver, gwShape), { ok: true }, `gateway row ${row.id}`);

  const tampered = JSON.parse(rowToJsonLine(serviceTable[0]!)) as { envelope: { reading: { data: string } } };
  tampered.envelope.reading.data = toHex(utf8('99.9'));
  const r = verifyRow(rowFromJson(tampered), resolver);
  t.same(r.ok ? r : r.failedSigner, { role: 'device', address: toHex(s.device.address), index: 0 }, 'tampered row names the device');

  const wrongGroup = { ...serviceTable[1]!, groupId: 12 } as Row;
  t.match(verifyRow(wrongGroup, resolver), { ok: false, reason: 'malformed', detail: /groupId 12 differs from the signed groupId 10/ });
  const noGroup = { ...serviceTable[2]!, groupId: undefined } as Row;
  t.match(verifyRow(noGroup, resolver), { ok: false, reason: 'malformed' }, 'countersigned feedback row without its signed groupId');
  const otherPointer = { ...gatewayTable[3]!, groupId: 99 } as Row;
  t.same(verifyRow(otherPointer, resolver, gwShape), { ok: true }, 'an unsigned pointer is the table\'s own (protected by anchoring, not signatures)');
});
