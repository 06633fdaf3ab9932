/**
 * BIP39 mnemonics (English word list): generation from the OS CSPRNG, validation with the
 * checksum, and the seed (PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic" + optional passphrase).
 */
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { WalletError } from '../errors.ts';

/** 24 words (256 bits of entropy) by default; 12 words (128 bits) is the other common choice. */
export function newMnemonic(words: 12 | 24 = 24): string {
  return generateMnemonic(wordlist, words === 24 ? 256 : 128);
}

/** Lower-cases and collapses white space so a phrase typed or pasted by a person is accepted. */
export function normalizeMnemonic(phrase: string): string {
  return phrase.normalize('NFKD').trim().toLowerCase().split(/\s+/).join(' ');
}

/** Throws a WalletError naming the problem (word count, an unknown word, the checksum). */
export function checkMnemonic(phrase: string): string {
  const m = normalizeMnemonic(phrase);
  const words = m.split(' ');
  if (![12, 15, 18, 21, 24].includes(words.length))
    throw new WalletError('wallet-bad-mnemonic', `a mnemonic has 12 to 24 words, not ${words.length}`);
  const unknown = words.findIndex((w) => !wordlist.includes(w));
  if (unknown >= 0)
    throw new WalletError(
      'wallet-bad-mnemonic',
      `word ${unknown + 1} ('${words[unknown]}') is not in the BIP39 English word list`,
    );
  if (!validateMnemonic(m, wordlist))
    throw new WalletError('wallet-bad-mnemonic', 'the mnemonic checksum does not match (a word is wrong)');
  return m;
}

/** The 64-byte BIP39 seed of a valid mnemonic and its optional extra passphrase ("25th word"). */
export function seedOf(mnemonic: string, passphrase = ''): Uint8Array {
  return mnemonicToSeedSync(checkMnemonic(mnemonic), passphrase);
}
