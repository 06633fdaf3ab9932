/**
 * The wallet's key material against the official vectors: BIP39 (Trezor's vectors.json,
 * passphrase "TREZOR"), BIP32 test vector 1, and a BIP44 address of the "abandon … about" seed;
 * then the keychain's path and addresses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { base58check } from '@scure/base';
import { HDKey } from '@scure/bip32';
import { entropyToMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { WalletError } from '../../../services/cli/errors.ts';
import { accountPath, CHANGE, coinType, Keychain, RECEIVE } from '../../../services/cli/wallet/keychain.ts';
import {
  checkMnemonic,
  newMnemonic,
  normalizeMnemonic,
  seedOf,
} from '../../../services/cli/wallet/mnemonic.ts';
import { decodeAddress, ownerOf } from '../../../shared/core/address.ts';
import { fromHex, toHex } from '../../../shared/core/bytes.ts';
import { LOCAL, MAIN, TEST } from '../../../shared/core/params/networks.ts';

const BIP39 = [
  [
    '00000000000000000000000000000000',
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
    'c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04',
  ],
  [
    '7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f',
    'legal winner thank year wave sausage worth useful legal winner thank yellow',
    '2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607',
  ],
  [
    '80808080808080808080808080808080',
    'letter advice cage absurd amount doctor acoustic avoid letter advice cage above',
    'd71de856f81a8acc65e6fc851a38d4d7ec216fd0796d0a6827a3ad6ed5511a30fa280f12eb2e47ed2ac03b5c462a0358d18d69fe4f985ec81778c1b370b652a8',
  ],
  [
    'ffffffffffffffffffffffffffffffff',
    'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong',
    'ac27495480225222079d7be181583751e86f571027b0497b5b5d11218e0a8a13332572917f0f8e5a589620c6f15b11c61dee327651a14c34e18231052e48c069',
  ],
  [
    '0000000000000000000000000000000000000000000000000000000000000000',
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art',
    'bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8',
  ],
] as const;

describe('wallet: BIP39 mnemonics', () => {
  it('matches the official vectors (entropy → words → seed with passphrase TREZOR)', () => {
    for (const [entropy, words, seed] of BIP39) {
      assert.equal(entropyToMnemonic(fromHex(entropy)!, wordlist), words);
      assert.equal(checkMnemonic(words), words);
      assert.equal(toHex(seedOf(words, 'TREZOR')), seed);
    }
  });

  it('generates valid 24- and 12-word phrases, each different', () => {
    const a = newMnemonic();
    const b = newMnemonic(12);
    assert.equal(a.split(' ').length, 24);
    assert.equal(b.split(' ').length, 12);
    assert.equal(checkMnemonic(a), a);
    assert.notEqual(a, newMnemonic());
  });

  it('accepts a phrase typed with capitals and extra spaces', () => {
    const typed = '  Legal  winner thank year wave sausage worth useful legal winner thank YELLOW\n';
    assert.equal(normalizeMnemonic(typed), BIP39[1][1]);
    assert.equal(checkMnemonic(typed), BIP39[1][1]);
  });

  it('refuses a wrong word count, an unknown word and a bad checksum, saying which', () => {
    const bad = (m: string, re: RegExp) =>
      assert.throws(
        () => checkMnemonic(m),
        (e: unknown) => e instanceof WalletError && e.code === 'wallet-bad-mnemonic' && re.test(e.message),
      );
    bad('abandon abandon abandon', /12 to 24 words, not 3/);
    bad(BIP39[0][1].replace('about', 'aboot'), /word 12 \('aboot'\)/);
    bad(BIP39[0][1].replace('about', 'abandon'), /checksum/);
  });
});

describe('wallet: BIP32 derivation', () => {
  it('matches BIP32 test vector 1', () => {
    const m = HDKey.fromMasterSeed(fromHex('000102030405060708090a0b0c0d0e0f')!);
    assert.equal(
      m.privateExtendedKey,
      'xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi',
    );
    assert.equal(
      m.derive("m/0'").publicExtendedKey,
      'xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw',
    );
    assert.equal(
      m.derive("m/0'/1/2'/2/1000000000").privateExtendedKey,
      'xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQjgPie1rFSruoUihUZREPSL39UNdE3BBDu76',
    );
  });

  it("BIP44 m/44'/0'/0'/0/0 of \"abandon … about\" is Bitcoin address 1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA", () => {
    const k = HDKey.fromMasterSeed(seedOf(BIP39[0][1])).derive("m/44'/0'/0'/0/0");
    const address = base58check(sha256).encode(Uint8Array.from([0, ...ownerOf(k.publicKey!)]));
    assert.equal(address, '1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA');
  });
});

describe('wallet: keychain', () => {
  const seed = seedOf(BIP39[0][1]);

  it("derives m/44'/coin'/0'/chain/i with coin 2131 on main and 1 elsewhere", () => {
    assert.equal(coinType(MAIN), 2131);
    assert.equal(coinType(TEST), 1);
    assert.equal(accountPath(LOCAL), "m/44'/1'/0'");
    const kc = new Keychain(seed, LOCAL);
    for (const [chain, i] of [
      [RECEIVE, 0],
      [RECEIVE, 7],
      [CHANGE, 3],
    ] as const) {
      const k = kc.key(chain, i);
      const ref = HDKey.fromMasterSeed(seed).derive(`m/44'/1'/0'/${chain}/${i}`);
      assert.equal(k.path, `m/44'/1'/0'/${chain}/${i}`);
      assert.equal(toHex(k.privateKey), toHex(ref.privateKey!));
      assert.equal(toHex(k.pubkey), toHex(ref.publicKey!));
      assert.equal(toHex(decodeAddress(LOCAL.addressPrefix, k.address)), toHex(ownerOf(ref.publicKey!)));
      assert.ok(k.address.startsWith('lcairn1'));
    }
    assert.equal(kc.byAddress(kc.key(RECEIVE, 7).address)?.index, 7);
    assert.equal(kc.byAddress(new Keychain(seed, TEST).key(RECEIVE, 0).address), undefined);
  });

  it('gives main and test different keys for the same seed', () => {
    const main = new Keychain(seed, MAIN).key(RECEIVE, 0);
    const test = new Keychain(seed, TEST).key(RECEIVE, 0);
    assert.notDeepEqual(main.pubkey, test.pubkey);
    assert.ok(main.address.startsWith('cairn1'));
    assert.ok(test.address.startsWith('tcairn1'));
  });
});
