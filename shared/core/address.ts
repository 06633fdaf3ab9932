/**
 * Addresses: bech32m (BIP-350) of a version byte (0) and the 20-byte owner hash, with the
 * network's prefix (`cairn`, `tcairn`, `lcairn`), so an address of one network is refused by another.
 */
import { bech32m } from '@scure/base';
import { DecodeError, UsageError } from './errors.ts';
import { hash160 } from './hash.ts';
import { OWNER_SIZE } from './limits.ts';

export const ADDRESS_VERSION = 0;

export function ownerOf(pubkey33: Uint8Array): Uint8Array {
  return hash160(pubkey33);
}

export function encodeAddress(prefix: string, owner: Uint8Array): string {
  if (owner.length !== OWNER_SIZE)
    throw new UsageError(`an owner hash has ${OWNER_SIZE} bytes, not ${owner.length}`);
  return bech32m.encode(prefix, [ADDRESS_VERSION, ...bech32m.toWords(owner)]);
}

/** Returns the owner hash; throws DecodeError naming what is wrong (checksum, prefix, version, length). */
export function decodeAddress(prefix: string, address: string): Uint8Array {
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32m.decode(address as `${string}1${string}`, 90);
  } catch (e) {
    throw new DecodeError(
      'decode-bad-value',
      'address',
      `not a valid bech32m string (${(e as Error).message})`,
    );
  }
  if (decoded.prefix !== prefix) {
    throw new DecodeError(
      'decode-bad-value',
      'address',
      `prefix '${decoded.prefix}' is not this network's '${prefix}'`,
    );
  }
  const [version, ...rest] = decoded.words;
  if (version !== ADDRESS_VERSION) {
    throw new DecodeError('decode-bad-value', 'address', `unknown version ${version}`);
  }
  let owner: Uint8Array;
  try {
    owner = bech32m.fromWords(rest);
  } catch (e) {
    throw new DecodeError('decode-bad-value', 'address', `bad padding (${(e as Error).message})`);
  }
  if (owner.length !== OWNER_SIZE) {
    throw new DecodeError(
      'decode-bad-value',
      'address',
      `payload is ${owner.length} bytes, expected ${OWNER_SIZE}`,
    );
  }
  return owner;
}
