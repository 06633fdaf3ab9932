/**
 * BIP32 keys of a wallet. Derivation path (BIP44 layout):
 *
 *   m / 44' / coin' / 0' / chain / index
 *
 * chain 0 = receive addresses, chain 1 = change. `coin` is 2131 on `main` (not registered in
 * SLIP-44; Cairn's main RPC port, easy to remember) and 1 on `test` and `local` (SLIP-44's
 * "testnet, all coins"), so a main key is never a test key. Addresses are the project's bech32m
 * encoding of hash160(compressed public key) with the network's prefix.
 */
import { HDKey } from '@scure/bip32';
import { encodeAddress, ownerOf } from '../../../shared/core/address.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';

export const PURPOSE = 44;
export const RECEIVE = 0;
export const CHANGE = 1;
export type Chain = typeof RECEIVE | typeof CHANGE;

export function coinType(p: NetworkParams): number {
  return p.name === 'main' ? 2131 : 1;
}

export function accountPath(p: NetworkParams, account = 0): string {
  return `m/${PURPOSE}'/${coinType(p)}'/${account}'`;
}

export interface WalletKey {
  readonly chain: Chain;
  readonly index: number;
  readonly path: string;
  readonly privateKey: Uint8Array;
  readonly pubkey: Uint8Array;
  readonly owner: Uint8Array;
  readonly address: string;
}

/** The keys of one account, derived on demand and cached. */
export class Keychain {
  readonly #account: HDKey;
  readonly #chains: HDKey[];
  readonly #cache = new Map<string, WalletKey>();
  readonly #params: NetworkParams;
  readonly #path: string;

  constructor(seed: Uint8Array, params: NetworkParams, account = 0) {
    this.#params = params;
    this.#path = accountPath(params, account);
    this.#account = HDKey.fromMasterSeed(seed).derive(this.#path);
    this.#chains = [this.#account.deriveChild(RECEIVE), this.#account.deriveChild(CHANGE)];
  }

  /** The account's extended public key (xpub serialisation, BIP32 version bytes). */
  get xpub(): string {
    return this.#account.publicExtendedKey;
  }

  key(chain: Chain, index: number): WalletKey {
    const id = `${chain}/${index}`;
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached;
    const k = this.#chains[chain]!.deriveChild(index);
    const pubkey = k.publicKey!;
    const owner = ownerOf(pubkey);
    const key: WalletKey = {
      chain,
      index,
      path: `${this.#path}/${id}`,
      privateKey: k.privateKey!,
      pubkey,
      owner,
      address: encodeAddress(this.#params.addressPrefix, owner),
    };
    this.#cache.set(id, key);
    return key;
  }

  /** The key of `address` among the keys derived so far, if any. */
  byAddress(address: string): WalletKey | undefined {
    for (const k of this.#cache.values()) if (k.address === address) return k;
    return undefined;
  }
}
