/**
 * The client-side wallet: keys from the mnemonic (keychain.ts), what the node knows about them
 * (a gap-limit scan over RPC), and the four transactions a user makes — coin transfer, asset
 * registration, bitmark issue, bitmark transfer — built, sized exactly, paid for (coin-select.ts)
 * and signed here; the node only ever sees signed bytes.
 */
import { decodeAddress } from '../../../shared/core/address.ts';
import { hashFromHex, hashToHex, toHex } from '../../../shared/core/bytes.ts';
import { DecodeError } from '../../../shared/core/errors.ts';
import { MAX_ASSET_METADATA, MAX_ASSET_NAME, MAX_SHARES } from '../../../shared/core/limits.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import { isValidAssetName } from '../../../shared/core/tx/check.ts';
import { encodeTx, toDecodedTx } from '../../../shared/core/tx/codec.ts';
import { assetIdOf, bitmarkIdOf } from '../../../shared/core/tx/ids.ts';
import {
  type DecodedTx,
  MINT,
  NO_BITMARK,
  type OutputBitmark,
  type SpendingTx,
  TX_VERSION,
  type TxOutput,
} from '../../../shared/core/tx/types.ts';
import { isValidShareQuantity } from '../../../shared/core/validation/share-tally.ts';
import { type InputToSign, signTx, type UnsignedSpendingTx } from '../../../shared/crypto/sign-tx.ts';
import { CliUsageError, FundsError, RpcClientError } from '../errors.ts';
import type { RpcClient } from '../rpc-client.ts';
import { selectCoins, spendable, type Utxo } from './coin-select.ts';
import { CHANGE, type Chain, type Keychain, RECEIVE, type WalletKey } from './keychain.ts';
import { MAX_PENDING, type PendingTx } from './wallet-file.ts';

/** Unused addresses in a row after which a scan stops (BIP44's gap limit). */
export const GAP_LIMIT = 20;
/** Most addresses a scan looks at per chain (a bound on the RPC calls one command makes). */
export const MAX_SCAN = 100_000;
/** Change smaller than this is left to the fee. */
export const DUST = 1000;
/** Base units per byte when neither --fee-rate nor the node's estimate gives one (the relay minimum). */
export const FALLBACK_FEE_RATE = 1;
/** Most bitmarks one issue mints. */
export const MAX_ISSUE = 1000;

export interface WalletOptions {
  readonly params: NetworkParams;
  /** Base units per byte; default: the node's estimatesmartfee(confTarget), else the fallback. */
  readonly feeRate?: number | undefined;
  readonly confTarget?: number;
  readonly gapLimit?: number;
}

export interface WalletModules {
  /** The node's RPC client, asked for only when a method needs the node. */
  readonly rpc: () => RpcClient;
  readonly keychain: Keychain;
}

export interface AddressInfo {
  readonly key: WalletKey;
  readonly balance: number;
  readonly txcount: number;
  readonly bitmarks: readonly string[];
}

export interface Built {
  readonly tx: DecodedTx;
  readonly txid: string;
  readonly fee: number;
  readonly feeRate: number;
  readonly size: number;
}

interface AddressInfoReply {
  balance: number;
  txcount: number;
  bitmarks: string[];
}

/** A `listunspent` row as the wallet reads it. */
export interface UnspentReply {
  txid: string;
  vout: number;
  amount: number;
  confirmations: number;
  coinbase: boolean;
  bitmark?: string;
  shares?: { bitmark: string; quantity: number };
}

const PLACEHOLDER_TXID = new Uint8Array(32);
const PLACEHOLDER_PUBKEY = new Uint8Array(33).fill(2);
const PLACEHOLDER_SIG = new Uint8Array(64);

export class Wallet {
  readonly #o: WalletOptions;
  readonly #rpc: () => RpcClient;
  readonly #keys: Keychain;
  /** Next unused index per chain (advanced by scans and by handing out addresses). */
  readonly next: { receive: number; change: number };
  #used: AddressInfo[] | undefined;
  #feeRate: number | undefined;

  /** Sent, not yet confirmed (see WalletSecrets.pending); updated by #build and #livePending. */
  pending: PendingTx[];

  constructor(
    opts: WalletOptions,
    modules: WalletModules,
    next: { receive: number; change: number },
    pending: readonly PendingTx[] = [],
  ) {
    this.#o = opts;
    this.#rpc = modules.rpc;
    this.#keys = modules.keychain;
    this.next = { ...next };
    this.pending = [...pending];
  }

  /**
   * Forgets pending transactions that are no longer in the mempool (confirmed, or dropped) and
   * returns the outputs the others spend.
   */
  async #livePending(): Promise<Set<string>> {
    if (this.pending.length === 0) return new Set();
    const replies = await this.#rpc().batch(
      this.pending.map((p) => ({ method: 'getmempoolentry', params: [p.txid] })),
    );
    // -5: not in the mempool (mined, or dropped); any other failure keeps the entry
    this.pending = this.pending.filter((_, i) => {
      const r = replies[i]!;
      return r.ok || r.error.rpcCode !== -5;
    });
    return new Set(this.pending.flatMap((p) => p.spends));
  }

  get params(): NetworkParams {
    return this.#o.params;
  }

  /** Refuses a node of another network (signatures commit to the genesis hash). */
  async checkNode(): Promise<void> {
    const g = await this.#rpc().call<string>('getblockhash', [0]);
    if (g !== hashToHex(this.#o.params.genesisHash))
      throw new RpcClientError(
        'rpc-protocol',
        `the node's genesis block ${g} is not ${this.#o.params.name}'s: wrong --network or --rpcport?`,
      );
  }

  /** A fresh receive address (the caller saves the advanced index). */
  newReceiveKey(): WalletKey {
    return this.#keys.key(RECEIVE, this.next.receive++);
  }

  #newChangeKey(): WalletKey {
    return this.#keys.key(CHANGE, this.next.change++);
  }

  /** A fresh change address (share swaps send change there; the caller saves the advanced index). */
  newChangeKey(): WalletKey {
    return this.#newChangeKey();
  }

  /** The wallet's key of `address`, if it is one of its addresses (scanned or handed out). */
  async keyOf(address: string): Promise<WalletKey | undefined> {
    await this.#usedAddresses();
    return this.#keys.byAddress(address);
  }

  /**
   * Every address of the wallet the node has seen in a transaction: each chain is scanned in
   * batches until `gapLimit` unused addresses follow the last used one (and at least up to the
   * indexes this wallet already handed out).
   */
  async scan(): Promise<AddressInfo[]> {
    const gap = this.#o.gapLimit ?? GAP_LIMIT;
    const used: AddressInfo[] = [];
    for (const chain of [RECEIVE, CHANGE] as Chain[]) {
      const handedOut = chain === RECEIVE ? this.next.receive : this.next.change;
      let lastUsed = -1;
      const end = () => Math.min(MAX_SCAN, Math.max(lastUsed + 1 + gap, handedOut));
      for (let start = 0; start < end(); start += gap) {
        const keys = Array.from({ length: gap }, (_, i) => this.#keys.key(chain, start + i));
        const replies = await this.#rpc().batch(
          keys.map((k) => ({ method: 'getaddressinfo', params: [k.address] })),
        );
        replies.forEach((r, i) => {
          if (!r.ok) throw r.error;
          const info = r.result as AddressInfoReply;
          if (info.txcount > 0) {
            lastUsed = start + i;
            used.push({
              key: keys[i]!,
              balance: info.balance,
              txcount: info.txcount,
              bitmarks: info.bitmarks,
            });
          }
        });
      }
      if (chain === RECEIVE) this.next.receive = Math.max(this.next.receive, lastUsed + 1);
      else this.next.change = Math.max(this.next.change, lastUsed + 1);
    }
    this.#used = used;
    return used;
  }

  async #usedAddresses(): Promise<AddressInfo[]> {
    return this.#used ?? (await this.scan());
  }

  /** The confirmed unspent outputs of every used address. */
  async unspent(): Promise<Utxo[]> {
    const used = await this.#usedAddresses();
    const replies = await this.#rpc().batch(
      used.map((u) => ({ method: 'listunspent', params: [u.key.address, 10_000] })),
    );
    const out: Utxo[] = [];
    replies.forEach((r, i) => {
      if (!r.ok) throw r.error;
      for (const u of r.result as UnspentReply[])
        out.push({
          txid: u.txid,
          vout: u.vout,
          amount: u.amount,
          confirmations: u.confirmations,
          coinbase: u.coinbase,
          address: used[i]!.key.address,
          ...(u.bitmark === undefined ? {} : { bitmark: u.bitmark }),
          ...(u.shares === undefined ? {} : { shares: u.shares }),
        });
    });
    return out;
  }

  /** Spendable, immature (coinbase) and total confirmed coins; bitmarks held. */
  async balance(): Promise<{
    spendable: number;
    immature: number;
    total: number;
    bitmarks: { id: string; address: string }[];
    addresses: number;
  }> {
    const utxos = await this.unspent();
    const m = this.#o.params.coinbaseMaturity;
    const coins = utxos.filter((u) => u.bitmark === undefined && u.shares === undefined);
    const sp = coins.filter((u) => spendable(u, m)).reduce((s, u) => s + u.amount, 0);
    const total = utxos.reduce((s, u) => s + u.amount, 0);
    return {
      spendable: sp,
      immature: coins.filter((u) => u.coinbase && !spendable(u, m)).reduce((s, u) => s + u.amount, 0),
      total,
      bitmarks: utxos
        .filter((u) => u.bitmark !== undefined)
        .map((u) => ({ id: u.bitmark!, address: u.address })),
      addresses: (await this.#usedAddresses()).length,
    };
  }

  async feeRate(): Promise<number> {
    if (this.#feeRate !== undefined) return this.#feeRate;
    let rate = this.#o.feeRate;
    if (rate === undefined) {
      const e = await this.#rpc().call<{ feerate?: number }>('estimatesmartfee', [this.#o.confTarget ?? 6]);
      rate = typeof e.feerate === 'number' && e.feerate > 0 ? e.feerate : FALLBACK_FEE_RATE;
    }
    this.#feeRate = Math.max(rate, FALLBACK_FEE_RATE);
    return this.#feeRate;
  }

  ownerOfAddress(address: string, what = 'address'): Uint8Array {
    try {
      return decodeAddress(this.#o.params.addressPrefix, address);
    } catch (e) {
      if (e instanceof DecodeError) throw new CliUsageError(`${what} ${address}: ${e.message}`);
      throw e;
    }
  }

  #keyOf(address: string): WalletKey {
    const k = this.#keys.byAddress(address);
    if (k === undefined)
      throw new FundsError('funds-not-owned', `${address} is not an address of this wallet`);
    return k;
  }

  /**
   * Picks coins, builds and signs. `shape(inputs, changeOwner, change)` returns the unsigned
   * transaction; its size (signatures are fixed-size) sets the fee at the wallet's fee rate.
   */
  async #build(args: {
    target: number;
    required?: Utxo[];
    changeTo: () => WalletKey;
    shape: (inputs: InputToSign[], outputs: TxOutput[]) => UnsignedSpendingTx;
    outputs: TxOutput[];
  }): Promise<Built> {
    const rate = await this.feeRate();
    const changeKey = args.changeTo();
    const sizeOf = (n: number, withChange: boolean) => {
      const inputs = Array.from({ length: n }, () => ({
        prevTxid: PLACEHOLDER_TXID,
        vout: 0,
        pubkey: PLACEHOLDER_PUBKEY,
        signature: PLACEHOLDER_SIG,
      }));
      const outputs = withChange
        ? [...args.outputs, { owner: changeKey.owner, amount: this.#o.params.maxMoney, bitmark: NO_BITMARK }]
        : args.outputs;
      // + 2 bytes per input: a vout varint may be longer than the placeholder's
      return encodeTx({ ...args.shape([], outputs), inputs } as SpendingTx).length + 2 * n;
    };
    const inFlight = await this.#livePending();
    const taken = (u: Utxo) => inFlight.has(`${u.txid}:${u.vout}`);
    const busy = (args.required ?? []).find(taken);
    if (busy !== undefined)
      throw new FundsError(
        'funds-insufficient',
        `output ${busy.txid}:${busy.vout} is already spent by a transaction of this wallet waiting in the mempool`,
      );
    const sel = selectCoins({
      target: args.target,
      ...(args.required === undefined ? {} : { required: args.required }),
      candidates: (await this.unspent()).filter((u) => !taken(u)),
      feeFor: (n, withChange) => Math.ceil(rate * sizeOf(n, withChange)),
      coinbaseMaturity: this.#o.params.coinbaseMaturity,
      dust: DUST,
    });
    const inputs: InputToSign[] = sel.inputs.map((u) => {
      const k = this.#keyOf(u.address);
      return { prevTxid: hashFromHex(u.txid)!, vout: u.vout, pubkey: k.pubkey, privateKey: k.privateKey };
    });
    const outputs =
      sel.change > 0
        ? [...args.outputs, { owner: changeKey.owner, amount: sel.change, bitmark: NO_BITMARK }]
        : args.outputs;
    const tx = toDecodedTx(signTx(args.shape(inputs, outputs), this.#o.params.genesisHash));
    this.pending = [
      ...this.pending,
      { txid: hashToHex(tx.txid), spends: sel.inputs.map((u) => `${u.txid}:${u.vout}`) },
    ].slice(-MAX_PENDING);
    return { tx, txid: hashToHex(tx.txid), fee: sel.fee, feeRate: rate, size: tx.raw.length };
  }

  /** Sends `amount` base units to `to`; change to a new change address. */
  send(to: string, amount: number): Promise<Built> {
    if (!Number.isSafeInteger(amount) || amount <= 0)
      throw new CliUsageError(`amount ${amount}: expected a positive whole number of base units`);
    const owner = this.ownerOfAddress(to, 'destination');
    return this.#build({
      target: amount,
      changeTo: () => this.#newChangeKey(),
      outputs: [{ owner, amount, bitmark: NO_BITMARK }],
      shape: (inputs, outputs) => ({ version: TX_VERSION, kind: 'transfer', inputs, outputs }),
    });
  }

  /**
   * Registers an asset. The owner of input 0 becomes the registrant (the only key that may issue),
   * so the change goes back to that same address: it then holds a coin to issue with.
   */
  async registerAsset(
    name: string,
    fingerprint: Uint8Array,
    metadata: Uint8Array,
  ): Promise<Built & { assetId: string; registrant: string }> {
    if (!isValidAssetName(name))
      throw new CliUsageError(
        `asset name '${name}': 1 to ${MAX_ASSET_NAME} bytes of printable UTF-8 without surrounding spaces`,
      );
    if (metadata.length > MAX_ASSET_METADATA)
      throw new CliUsageError(`asset metadata: at most ${MAX_ASSET_METADATA} bytes`);
    const utxos = (await this.unspent()).filter((u) => spendable(u, this.#o.params.coinbaseMaturity));
    if (utxos.length === 0)
      throw new FundsError('funds-insufficient', 'no spendable coins to pay the registration');
    // the registrant: the address of the largest spendable coin
    const first = utxos.reduce((a, b) => (b.amount > a.amount ? b : a));
    const registrant = this.#keyOf(first.address);
    const built = await this.#build({
      target: 0,
      required: [first],
      changeTo: () => registrant,
      outputs: [],
      shape: (inputs, outputs) => ({
        version: TX_VERSION,
        kind: 'asset',
        asset: { name, fingerprint, metadata },
        inputs,
        outputs,
      }),
    });
    return { ...built, assetId: hashToHex(assetIdOf(fingerprint)), registrant: registrant.address };
  }

  /** Mints `count` bitmarks of `assetId` to `to` (default: a new receive address). */
  async issue(
    assetIdHex: string,
    count: number,
    to?: string,
  ): Promise<Built & { bitmarks: string[]; to: string }> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_ISSUE)
      throw new CliUsageError(`count ${count}: expected 1 to ${MAX_ISSUE}`);
    const assetId = hashFromHex(assetIdHex);
    if (assetId === null) throw new CliUsageError(`asset id ${assetIdHex}: expected 64 hex digits`);
    const asset = await this.#rpc().call<{ registrant: string }>('getasset', [assetIdHex]);
    await this.#usedAddresses();
    const registrant = this.#keys.byAddress(asset.registrant);
    if (registrant === undefined)
      throw new FundsError(
        'funds-not-registrant',
        `asset ${assetIdHex} was registered by ${asset.registrant}, which is not an address of this wallet`,
      );
    const own = (await this.unspent()).filter(
      (u) => u.address === registrant.address && spendable(u, this.#o.params.coinbaseMaturity),
    );
    if (own.length === 0)
      throw new FundsError(
        'funds-insufficient',
        `the registrant address ${registrant.address} holds no confirmed spendable coin (input 0 of an issue must be its): send it some coins`,
      );
    const first = own.reduce((a, b) => (b.amount > a.amount ? b : a));
    const dest = to ?? this.newReceiveKey().address;
    const owner = this.ownerOfAddress(dest, 'destination');
    const mints: TxOutput[] = Array.from({ length: count }, () => ({ owner, amount: 0, bitmark: MINT }));
    const built = await this.#build({
      target: 0,
      required: [first],
      changeTo: () => registrant,
      outputs: mints,
      shape: (inputs, outputs) => ({ version: TX_VERSION, kind: 'issue', assetId, inputs, outputs }),
    });
    const bitmarks = mints.map((_, vout) => hashToHex(bitmarkIdOf(built.tx.txid, vout)));
    return { ...built, bitmarks, to: dest };
  }

  /** Moves bitmark `id` (held by this wallet) to `to`; the fee is paid from other coins. */
  async transferBitmark(idHex: string, to: string): Promise<Built & { from: string }> {
    if (hashFromHex(idHex) === null) throw new CliUsageError(`bitmark id ${idHex}: expected 64 hex digits`);
    const owner = this.ownerOfAddress(to, 'destination');
    const loc = await this.#rpc().call<{ txid: string; vout: number; owner?: string }>('getbitmark', [idHex]);
    await this.#usedAddresses();
    if (loc.owner === undefined || this.#keys.byAddress(loc.owner) === undefined)
      throw new FundsError(
        'funds-not-owned',
        `bitmark ${idHex} is held by ${loc.owner ?? 'an unconfirmed output'}, not by this wallet`,
      );
    const held = (await this.unspent()).find((u) => u.txid === loc.txid && u.vout === loc.vout);
    if (held === undefined)
      throw new FundsError(
        'funds-not-owned',
        `bitmark ${idHex}: its output ${loc.txid}:${loc.vout} is not confirmed yet`,
      );
    const carry: OutputBitmark = { type: 'carry', id: hashFromHex(idHex)! };
    const built = await this.#build({
      target: held.amount,
      required: [held],
      changeTo: () => this.#newChangeKey(),
      outputs: [{ owner, amount: held.amount, bitmark: carry }],
      shape: (inputs, outputs) => ({ version: TX_VERSION, kind: 'transfer', inputs, outputs }),
    });
    return { ...built, from: loc.owner };
  }

  /** The wallet's confirmed outputs holding shares of `idHex`. */
  async #shareUtxos(idHex: string): Promise<Utxo[]> {
    return (await this.unspent()).filter((u) => u.shares?.bitmark === idHex && u.confirmations >= 1);
  }

  /**
   * Converts bitmark `idHex` (held by this wallet) into `total` shares, all to a new receive
   * address of this wallet; the fee is paid from other coins.
   */
  async splitBitmark(idHex: string, total: number): Promise<Built & { to: string; from: string }> {
    const id = hashFromHex(idHex);
    if (id === null) throw new CliUsageError(`bitmark id ${idHex}: expected 64 hex digits`);
    if (!isValidShareQuantity(total))
      throw new CliUsageError(`total ${total}: expected a whole number of shares from 1 to ${MAX_SHARES}`);
    const loc = await this.#rpc().call<{ txid: string; vout: number; owner?: string; split?: unknown }>(
      'getbitmark',
      [idHex],
    );
    if (loc.split !== undefined) throw new CliUsageError(`bitmark ${idHex} is already split into shares`);
    await this.#usedAddresses();
    const held = (await this.unspent()).find((u) => u.txid === loc.txid && u.vout === loc.vout);
    if (loc.owner === undefined || held === undefined)
      throw new FundsError(
        'funds-not-owned',
        `bitmark ${idHex} is held by ${loc.owner ?? 'an unconfirmed output'}, not by a confirmed output of this wallet`,
      );
    const to = this.newReceiveKey();
    const shares: OutputBitmark = { type: 'shares', id, quantity: total };
    const built = await this.#build({
      target: held.amount,
      required: [held],
      changeTo: () => this.#newChangeKey(),
      outputs: [{ owner: to.owner, amount: held.amount, bitmark: shares }],
      shape: (inputs, outputs) => ({
        version: TX_VERSION,
        kind: 'split',
        bitmarkId: id,
        total,
        inputs,
        outputs,
      }),
    });
    return { ...built, to: to.address, from: loc.owner };
  }

  /** Sends `quantity` shares of `idHex` to `to`; the rest of the spent share outputs comes back as change. */
  async grantShares(idHex: string, quantity: number, to: string): Promise<Built & { change: number }> {
    const id = hashFromHex(idHex);
    if (id === null) throw new CliUsageError(`bitmark id ${idHex}: expected 64 hex digits`);
    if (!isValidShareQuantity(quantity))
      throw new CliUsageError(
        `quantity ${quantity}: expected a whole number of shares from 1 to ${MAX_SHARES}`,
      );
    const owner = this.ownerOfAddress(to, 'destination');
    const picked = pickShares(await this.#shareUtxos(idHex), quantity, idHex);
    const change = picked.reduce((s, u) => s + u.shares!.quantity, 0) - quantity;
    const outputs: TxOutput[] = [{ owner, amount: 0, bitmark: { type: 'shares', id, quantity } }];
    if (change > 0)
      outputs.push({
        owner: this.#newChangeKey().owner,
        amount: 0,
        bitmark: { type: 'shares', id, quantity: change },
      });
    // the coins the share outputs hold (usually 0) come back as coin change
    const built = await this.#build({
      target: 0,
      required: picked,
      changeTo: () => this.#newChangeKey(),
      outputs,
      shape: (inputs, outs) => ({ version: TX_VERSION, kind: 'transfer', inputs, outputs: outs }),
    });
    return { ...built, change };
  }

  async broadcast(b: Built): Promise<string> {
    return this.#rpc().call<string>('sendrawtransaction', [toHex(b.tx.raw)]);
  }
}

/** Share outputs of one kind, largest first, until they hold `quantity`; FundsError if they cannot. */
export function pickShares(utxos: readonly Utxo[], quantity: number, idHex: string): Utxo[] {
  const picked: Utxo[] = [];
  let sum = 0;
  for (const u of [...utxos].sort((a, b) => b.shares!.quantity - a.shares!.quantity)) {
    if (sum >= quantity) break;
    picked.push(u);
    sum += u.shares!.quantity;
  }
  if (sum < quantity)
    throw new FundsError(
      'funds-insufficient',
      `only ${sum} confirmed shares of ${idHex} here, ${quantity} needed`,
    );
  return picked;
}
