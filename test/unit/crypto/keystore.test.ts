import t from 'tap';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveKeyFile, loadKeyFile, readPassphraseFile } from '../../../crypto/keystore.js';
import { generateKeyPair, KeyType } from '../../../crypto/keys.js';
import { InvalidMessageError } from '../../../lib/errors.js';

t.test('encrypted and insecure key files; wrong passphrase and corrupt files give clear errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-keys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const type of [KeyType.secp256k1, KeyType.p256]) {
    const k = generateKeyPair(type);
    const f = join(dir, `k${type}.json`);
    await saveKeyFile(f, k, 'correct horse', { scryptN: 1024 });
    t.same((await loadKeyFile(f, 'correct horse')).privateKey, k.privateKey);
    await t.rejects(loadKeyFile(f, 'wrong'), { code: 'KEY_WRONG_PASSPHRASE' });
    await t.rejects(loadKeyFile(f, undefined), { code: 'KEY_WRONG_PASSPHRASE', message: /passphrase-file/ });
    const j = JSON.parse(await readFile(f, 'utf8'));
    j.crypto.ciphertext = '0x' + (j.crypto.ciphertext[2] === '0' ? '1' : '0') + j.crypto.ciphertext.slice(3);
    await writeFile(f, JSON.stringify(j));
    await t.rejects(loadKeyFile(f, 'correct horse'), InvalidMessageError, 'tampered ciphertext');
  }
  const k = generateKeyPair();
  const plain = join(dir, 'plain.json');
  await saveKeyFile(plain, k, undefined);
  t.same((await loadKeyFile(plain, undefined)).publicKey, k.publicKey);
  await writeFile(join(dir, 'bad.json'), '{not json');
  await t.rejects(loadKeyFile(join(dir, 'bad.json'), undefined), { code: 'KEY_FILE_INVALID', message: /not valid JSON/ });
  await writeFile(join(dir, 'other.json'), '{"kind":"something"}');
  await t.rejects(loadKeyFile(join(dir, 'other.json'), undefined), { code: 'KEY_FILE_INVALID' });
  const j = JSON.parse(await readFile(plain, 'utf8'));
  j.address = '0x' + '11'.repeat(20);
  await writeFile(join(dir, 'mismatch.json'), JSON.stringify(j));
  await t.rejects(loadKeyFile(join(dir, 'mismatch.json'), undefined), /address does not match/);
  await t.rejects(loadKeyFile(join(dir, 'missing.json'), undefined), /cannot read key file/);
  await writeFile(join(dir, 'pass'), 'secret\n');
  t.equal(await readPassphraseFile(join(dir, 'pass')), 'secret');
  await writeFile(join(dir, 'empty'), '');
  await t.rejects(readPassphraseFile(join(dir, 'empty')), /empty/);
});
