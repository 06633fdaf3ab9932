/**
 * The encrypted wallet file: round trip, wrong passphrase, damaged files reported and never
 * written over, atomic saves with a .bak, mode 0600, no overwrite on create.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { WalletError } from '../../../services/cli/errors.ts';
import {
  createWalletFile,
  openWalletFile,
  saveWalletFile,
  type WalletSecrets,
} from '../../../services/cli/wallet/wallet-file.ts';
import { tempDir } from '../../helpers/node.ts';

const dir = tempDir('cairn-wallet-file-');
after(() => dir.remove());
/** A low scrypt cost so the suite is quick; the default (2^17) is tested once below. */
const FAST = { scryptN: 1024 };
const secrets: WalletSecrets = {
  mnemonic: 'legal winner thank year wave sausage worth useful legal winner thank yellow',
  bip39Passphrase: '',
  createdAt: 1_700_000_000,
  next: { receive: 0, change: 0 },
};
let n = 0;
const fresh = () => join(dir.path, `w${n++}`, 'wallet.json');

function isWalletError(code: string, re?: RegExp) {
  return (e: unknown) =>
    e instanceof WalletError && e.code === code && (re === undefined || re.test(e.message));
}

describe('wallet file', () => {
  it('round-trips the secrets, mode 0600, and refuses to create over an existing file', () => {
    const path = fresh();
    const w = createWalletFile(path, 'local', secrets, 'correct horse', FAST);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const r = openWalletFile(path, 'correct horse');
    assert.deepEqual(r.secrets, secrets);
    assert.equal(r.network, 'local');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(file.format, 'cairn-wallet');
    assert.equal(file.version, 1);
    assert.equal(file.kdf.name, 'scrypt');
    assert.equal(file.cipher.name, 'aes-256-gcm');
    assert.ok(!readFileSync(path, 'utf8').includes('legal'), 'the mnemonic is not in clear');
    const before = readFileSync(path);
    assert.throws(
      () => createWalletFile(path, 'local', secrets, 'other', FAST),
      isWalletError('wallet-exists'),
    );
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(w.bytes, before);
    // no temp files left behind
    assert.deepEqual(readdirSync(join(path, '..')), ['wallet.json']);
  });

  it('says "wrong passphrase" when the passphrase is wrong', () => {
    const path = fresh();
    createWalletFile(path, 'local', secrets, 'right', FAST);
    assert.throws(
      () => openWalletFile(path, 'wrong'),
      isWalletError('wallet-wrong-passphrase', /wrong passphrase/),
    );
  });

  it('refuses a file whose header was altered (authenticated) as it refuses a wrong passphrase', () => {
    const path = fresh();
    createWalletFile(path, 'local', secrets, 'pw', FAST);
    const j = JSON.parse(readFileSync(path, 'utf8'));
    j.network = 'main';
    writeFileSync(path, JSON.stringify(j));
    assert.throws(() => openWalletFile(path, 'pw'), isWalletError('wallet-wrong-passphrase'));
  });

  it('reports truncated, garbage and odd files naming the file, and leaves the bytes alone', () => {
    const path = fresh();
    createWalletFile(path, 'local', secrets, 'pw', FAST);
    const good = readFileSync(path);
    const cases: [string, Buffer | string, RegExp][] = [
      ['truncated', good.subarray(0, good.length >> 1), /not JSON/],
      ['garbage', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2]), /not JSON/],
      ['empty', '', /not JSON/],
      ['array', '[]', /not a JSON object/],
      ['future version', good.toString().replace('"version": 1', '"version": 9'), /version 9/],
      ['huge scrypt cost', good.toString().replace(/"n": \d+/, '"n": 1073741824'), /kdf\.n/],
      ['short iv', good.toString().replace(/"iv": "[0-9a-f]+"/, '"iv": "00"'), /cipher\.iv/],
    ];
    for (const [what, bytes, re] of cases) {
      writeFileSync(path, bytes);
      const onDisk = readFileSync(path);
      assert.throws(
        () => openWalletFile(path, 'pw'),
        (e: unknown) => isWalletError('wallet-damaged', re)(e) && (e as Error).message.includes(path),
        what,
      );
      assert.deepEqual(readFileSync(path), onDisk, `${what}: bytes on disk unchanged`);
      assert.throws(
        () => createWalletFile(path, 'local', secrets, 'pw', FAST),
        isWalletError('wallet-exists'),
      );
      assert.deepEqual(readFileSync(path), onDisk, `${what}: create did not overwrite`);
    }
  });

  it('keeps the pending transactions list across saves', () => {
    const path = fresh();
    const w = createWalletFile(path, 'local', secrets, 'pw', FAST);
    const pending = [{ txid: 'ab'.repeat(32), spends: [`${'cd'.repeat(32)}:0`, `${'ef'.repeat(32)}:12`] }];
    saveWalletFile(w, { ...secrets, pending });
    assert.deepEqual(openWalletFile(path, 'pw').secrets.pending, pending);
  });

  it('reports a missing file', () => {
    assert.throws(() => openWalletFile(join(dir.path, 'nope.json'), 'pw'), isWalletError('wallet-missing'));
  });

  it('saves atomically with a .bak of the previous version, without a new scrypt', () => {
    const path = fresh();
    const w = createWalletFile(path, 'local', secrets, 'pw', FAST);
    const v1 = readFileSync(path);
    const w2 = saveWalletFile(w, { ...secrets, next: { receive: 5, change: 2 } });
    assert.deepEqual(readFileSync(`${path}.bak`), v1);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(`${path}.bak`).mode & 0o777, 0o600);
    assert.deepEqual(openWalletFile(path, 'pw').secrets.next, { receive: 5, change: 2 });
    assert.deepEqual(openWalletFile(`${path}.bak`, 'pw').secrets.next, { receive: 0, change: 0 });
    saveWalletFile(w2, { ...secrets, next: { receive: 6, change: 2 } });
    assert.equal(openWalletFile(path, 'pw').secrets.next.receive, 6);
    assert.deepEqual(readdirSync(join(path, '..')).sort(), ['wallet.json', 'wallet.json.bak']);
  });

  it('never saves over a file that was damaged or changed after it was opened', () => {
    const path = fresh();
    const w = createWalletFile(path, 'local', secrets, 'pw', FAST);
    writeFileSync(path, 'garbage');
    assert.throws(
      () => saveWalletFile(w, { ...secrets, next: { receive: 1, change: 0 } }),
      isWalletError('wallet-changed'),
    );
    assert.equal(readFileSync(path, 'utf8'), 'garbage');
    writeFileSync(path, w.bytes.subarray(0, 10));
    assert.throws(() => saveWalletFile(w, secrets), isWalletError('wallet-changed'));
    assert.deepEqual(readFileSync(path), w.bytes.subarray(0, 10));
  });

  it('uses scrypt N=2^17, r=8, p=1 by default', () => {
    const path = fresh();
    const prev = process.env.CAIRN_WALLET_TEST_SCRYPT_N;
    delete process.env.CAIRN_WALLET_TEST_SCRYPT_N;
    try {
      createWalletFile(path, 'main', secrets, 'pw');
    } finally {
      if (prev !== undefined) process.env.CAIRN_WALLET_TEST_SCRYPT_N = prev;
    }
    const kdf = JSON.parse(readFileSync(path, 'utf8')).kdf;
    assert.deepEqual([kdf.n, kdf.r, kdf.p], [131072, 8, 1]);
    assert.equal(openWalletFile(path, 'pw').secrets.mnemonic, secrets.mnemonic);
  });
});
