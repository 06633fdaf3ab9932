/**
 * Atomic swaps as partially signed transactions (docs/cli.md "Shares"). The maker builds the whole
 * transaction — its own inputs and the counterparty's (the node's listunspent of the address of
 * the counterparty's public key), every output — signs its own inputs and leaves the
 * counterparty's signatures zero. Each signature covers the unsigned encoding (inputs with their
 * public keys, outputs; not the signatures), so the maker's stay valid when the taker adds its
 * own, and the maker needs the counterparty's public key, not only its address. The offer is the
 * raw transaction as hex: there is nothing else to trust. The taker reads what it would give and
 * get from the transaction and the outputs it spends, and signs only after seeing it in words.
 */
import { encodeAddress, ownerOf } from '../../../shared/core/address.ts';
import { equalBytes, fromHex, hashFromHex, hashToHex, toHex } from '../../../shared/core/bytes.ts';
import { DecodeError } from '../../../shared/core/errors.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import { isCompressedPubkeyShape, isLowS, type SignatureVerifier } from '../../../shared/core/signature.ts';
import { decodeTx, encodeTx, encodeUnsignedTx, toDecodedTx } from '../../../shared/core/tx/codec.ts';
import { signatureHash, signatureHashOfUnsigned } from '../../../shared/core/tx/ids.ts';
import {
  type DecodedTx,
  NO_BITMARK,
  type TransferTx,
  TX_VERSION,
  type TxInput,
  type TxOutput,
} from '../../../shared/core/tx/types.ts';
import { signCompact } from '../../../shared/crypto/keys.ts';
import { CliUsageError, FundsError, SwapError } from '../errors.ts';
import type { RpcClient } from '../rpc-client.ts';
import { spendable, type Utxo } from './coin-select.ts';
import type { WalletKey } from './keychain.ts';
import { DUST, pickShares, type UnspentReply, type Wallet } from './wallet.ts';

/** One side of a swap: coins (base units), or a quantity of one kind of shares. */
export type Leg =
  | { readonly kind: 'coins'; readonly amount: number }
  | { readonly kind: 'shares'; readonly bitmark: string; readonly quantity: number };

const ZERO_SIG = new Uint8Array(64);

export interface Offer {
  /** The partially signed transaction (the counterparty's signatures are zero), hex. */
  readonly hex: string;
  /** (No txid: it covers the signatures, so it is known only once the taker has signed.) */
  readonly fee: number;
  readonly counterparty: string;
}

/** The counterparty's public key (66 hex digits) as given on the command line. */
export function counterpartyKey(hex: string): Uint8Array {
  const k = fromHex(hex);
  if (k === null || !isCompressedPubkeyShape(k))
    throw new CliUsageError(
      `counterparty ${hex}: expected a compressed public key, 66 hex digits (the other side prints it with cairn share key)`,
    );
  return k;
}

/** Builds and half-signs "`give` to the holder of `pubkey` for `want` from it"; the maker pays the fee. */
export async function makeOffer(
  w: Wallet,
  rpc: RpcClient,
  terms: { give: Leg; want: Leg; pubkey: Uint8Array },
): Promise<Offer> {
  const p = w.params;
  const them = ownerOf(terms.pubkey);
  const address = encodeAddress(p.addressPrefix, them);
  if ((await w.keyOf(address)) !== undefined)
    throw new CliUsageError(`${address} is an address of this wallet, not a counterparty`);
  const mine = await w.unspent();
  const theirs = (await rpc.call<UnspentReply[]>('listunspent', [address, 10_000])).map(
    (u): Utxo => ({ ...u, address }),
  );

  const makerIn =
    terms.give.kind === 'shares'
      ? pickShares(shareUtxos(mine, terms.give.bitmark), terms.give.quantity, terms.give.bitmark)
      : [];
  const takerIn =
    terms.want.kind === 'shares'
      ? pickShares(shareUtxos(theirs, terms.want.bitmark), terms.want.quantity, terms.want.bitmark)
      : pickCoins(theirs, terms.want.amount, p, `the counterparty ${address}`);

  const receive = w.newReceiveKey();
  const outputs: TxOutput[] = [];
  const shareLeg = (leg: Leg, to: Uint8Array, from: readonly Utxo[], changeTo: Uint8Array) => {
    if (leg.kind !== 'shares') return;
    const id = hashFromHex(leg.bitmark)!;
    outputs.push({ owner: to, amount: 0, bitmark: { type: 'shares', id, quantity: leg.quantity } });
    const change = from.reduce((s, u) => s + u.shares!.quantity, 0) - leg.quantity;
    if (change > 0)
      outputs.push({ owner: changeTo, amount: 0, bitmark: { type: 'shares', id, quantity: change } });
  };
  shareLeg(terms.give, them, makerIn, receive.owner);
  shareLeg(terms.want, receive.owner, takerIn, them);
  if (terms.give.kind === 'coins')
    outputs.push({ owner: them, amount: terms.give.amount, bitmark: NO_BITMARK });
  // the taker's coins: what it puts in, less what it gives, back to its address
  const takerBack = coinsOf(takerIn) - (terms.want.kind === 'coins' ? terms.want.amount : 0);
  if (takerBack > 0) outputs.push({ owner: them, amount: takerBack, bitmark: NO_BITMARK });

  // the maker's coins: what it puts in and gets, less what it gives and the fee, as one output
  const gets = terms.want.kind === 'coins' ? terms.want.amount : 0;
  const gives = terms.give.kind === 'coins' ? terms.give.amount : 0;
  const rate = await w.feeRate();
  const payers = mine.filter((u) => spendable(u, p.coinbaseMaturity)).sort((a, b) => b.amount - a.amount);
  const extra: Utxo[] = [];
  for (;;) {
    const inputs = [...makerIn, ...takerIn, ...extra];
    const net = coinsOf(makerIn) + coinsOf(extra) + gets - gives;
    const withBack = [...outputs, { owner: receive.owner, amount: p.maxMoney, bitmark: NO_BITMARK }];
    const fee = Math.ceil(rate * (encodeTx(await shape(inputs, withBack)).length + 2 * inputs.length));
    if (net - fee >= 0) {
      const back = net - fee;
      const final =
        back >= DUST ? [...outputs, { owner: receive.owner, amount: back, bitmark: NO_BITMARK }] : outputs;
      const d = await signOwn(await shape(inputs, final));
      return {
        hex: toHex(d.raw),
        fee: back >= DUST ? fee : net,
        counterparty: address,
      };
    }
    const next = payers.shift();
    if (next === undefined)
      throw new FundsError(
        'funds-insufficient',
        `not enough spendable coins to give ${gives} and pay a fee of ${fee}`,
      );
    extra.push(next);
  }

  /** The transaction with each input's public key and zero signatures. */
  async function shape(inputs: readonly Utxo[], outs: TxOutput[]): Promise<TransferTx> {
    const ins: TxInput[] = [];
    for (const u of inputs) {
      const pubkey = u.address === address ? terms.pubkey : (await ownKey(u)).pubkey;
      ins.push({ prevTxid: hashFromHex(u.txid)!, vout: u.vout, pubkey, signature: ZERO_SIG });
    }
    return { version: TX_VERSION, kind: 'transfer', inputs: ins, outputs: outs };
  }

  async function ownKey(u: Utxo): Promise<WalletKey> {
    const k = await w.keyOf(u.address);
    if (k === undefined)
      throw new FundsError('funds-not-owned', `${u.address} is not an address of this wallet`);
    return k;
  }

  /** Signs the inputs of this wallet; the counterparty's keep zero signatures. */
  async function signOwn(tx: TransferTx): Promise<DecodedTx> {
    const unsigned = encodeUnsignedTx(tx);
    const inputs: TxInput[] = [];
    for (let n = 0; n < tx.inputs.length; n++) {
      const i = tx.inputs[n]!;
      const k = equalBytes(i.pubkey, terms.pubkey) ? undefined : await w.keyOf(addressOfKey(i.pubkey));
      inputs.push(
        k === undefined
          ? i
          : {
              ...i,
              signature: signCompact(signatureHashOfUnsigned(p.genesisHash, unsigned, n), k.privateKey),
            },
      );
    }
    return toDecodedTx({ ...tx, inputs });
  }

  function addressOfKey(pubkey: Uint8Array): string {
    return encodeAddress(p.addressPrefix, ownerOf(pubkey));
  }
}

/** What one side gives and gets in a swap, per kind of value, from its own point of view. */
export interface SwapTerms {
  /** Base units; positive: this wallet gets them. */
  readonly coins: number;
  /** Per share kind (bitmark id): positive: this wallet gets them. */
  readonly shares: ReadonlyMap<string, number>;
  readonly bitmarksIn: readonly string[];
  readonly bitmarksOut: readonly string[];
  /** The whole transaction's fee. */
  readonly fee: number;
  /** Input indexes this wallet signs. */
  readonly toSign: readonly number[];
}

interface PrevOut {
  address: string;
  value: number;
  bitmark?: string;
  shares?: { bitmark: string; quantity: number };
}

/** Decodes an offer (hex) and reads what it means for `w`; refuses one with bad signatures of the other side. */
export async function readOffer(
  w: Wallet,
  rpc: RpcClient,
  hex: string,
  verifier: SignatureVerifier,
): Promise<{ tx: DecodedTx; terms: SwapTerms }> {
  const p = w.params;
  const raw = fromHex(hex.trim());
  if (raw === null) throw new SwapError('swap-bad-offer', 'the offer is not hex');
  let d: DecodedTx;
  try {
    d = decodeTx(raw);
  } catch (e) {
    if (e instanceof DecodeError)
      throw new SwapError('swap-bad-offer', `the offer is not a transaction: ${e.message}`);
    throw e;
  }
  const tx = d.tx;
  if (tx.kind !== 'transfer')
    throw new SwapError('swap-bad-offer', `the offer is a ${tx.kind}, not a transfer`);
  const prev = await rpc.batch(
    tx.inputs.map((i) => ({ method: 'getrawtransaction', params: [hashToHex(i.prevTxid), true] })),
  );
  let coinsIn = 0;
  let coinsOut = 0;
  let totalIn = 0;
  const shares = new Map<string, number>();
  const bitmarksIn: string[] = [];
  const bitmarksOut: string[] = [];
  const toSign: number[] = [];
  for (let n = 0; n < tx.inputs.length; n++) {
    const r = prev[n]!;
    const input = tx.inputs[n]!;
    if (!r.ok)
      throw new SwapError(
        'swap-bad-offer',
        `input ${n} spends ${hashToHex(input.prevTxid)}, unknown to the node`,
      );
    const o = (r.result as { vout: PrevOut[] }).vout[input.vout];
    if (o === undefined)
      throw new SwapError('swap-bad-offer', `input ${n} spends an output that does not exist`);
    totalIn += o.value;
    const own = (await w.keyOf(o.address)) !== undefined;
    if (!own) {
      const ok =
        isLowS(input.signature) &&
        verifier.verify(input.signature, signatureHash(p.genesisHash, d, n), input.pubkey);
      if (!ok)
        throw new SwapError('swap-bad-signature', `input ${n} (of ${o.address}) is not signed by its owner`);
      continue;
    }
    if (equalBytes(input.signature, ZERO_SIG)) toSign.push(n);
    coinsIn += o.value;
    if (o.bitmark !== undefined) bitmarksIn.push(o.bitmark);
    if (o.shares !== undefined)
      shares.set(o.shares.bitmark, (shares.get(o.shares.bitmark) ?? 0) - o.shares.quantity);
  }
  if (toSign.length === 0)
    throw new SwapError('swap-bad-offer', 'the offer has no unsigned input of this wallet');
  let totalOut = 0;
  for (const o of tx.outputs) {
    totalOut += o.amount;
    if ((await w.keyOf(encodeAddress(p.addressPrefix, o.owner))) === undefined) continue;
    coinsOut += o.amount;
    if (o.bitmark.type === 'carry') bitmarksOut.push(hashToHex(o.bitmark.id));
    if (o.bitmark.type === 'shares') {
      const k = hashToHex(o.bitmark.id);
      shares.set(k, (shares.get(k) ?? 0) + o.bitmark.quantity);
    }
  }
  for (const [k, v] of shares) if (v === 0) shares.delete(k);
  return {
    tx: d,
    terms: {
      coins: coinsOut - coinsIn,
      shares,
      bitmarksIn: bitmarksIn.filter((b) => !bitmarksOut.includes(b)),
      bitmarksOut: bitmarksOut.filter((b) => !bitmarksIn.includes(b)),
      fee: totalIn - totalOut,
      toSign,
    },
  };
}

/** Adds this wallet's signatures to the inputs `toSign` of the offer. */
export async function completeOffer(w: Wallet, d: DecodedTx, toSign: readonly number[]): Promise<DecodedTx> {
  const tx = d.tx as TransferTx;
  const inputs: TxInput[] = [];
  for (let n = 0; n < tx.inputs.length; n++) {
    const i = tx.inputs[n]!;
    if (!toSign.includes(n)) {
      inputs.push(i);
      continue;
    }
    const k = await w.keyOf(encodeAddress(w.params.addressPrefix, ownerOf(i.pubkey)));
    if (k === undefined || !equalBytes(k.pubkey, i.pubkey))
      throw new SwapError('swap-bad-offer', `input ${n} names a public key this wallet does not have`);
    inputs.push({ ...i, signature: signCompact(signatureHash(w.params.genesisHash, d, n), k.privateKey) });
  }
  return toDecodedTx({ ...tx, inputs });
}

function shareUtxos(utxos: readonly Utxo[], bitmark: string): Utxo[] {
  return utxos.filter((u) => u.shares?.bitmark === bitmark && u.confirmations >= 1);
}

function coinsOf(utxos: readonly Utxo[]): number {
  return utxos.reduce((s, u) => s + u.amount, 0);
}

/** Spendable coins, largest first, until they reach `amount`. */
function pickCoins(utxos: readonly Utxo[], amount: number, p: NetworkParams, whose: string): Utxo[] {
  const picked: Utxo[] = [];
  let sum = 0;
  for (const u of utxos.filter((x) => spendable(x, p.coinbaseMaturity)).sort((a, b) => b.amount - a.amount)) {
    if (sum >= amount) break;
    picked.push(u);
    sum += u.amount;
  }
  if (sum < amount)
    throw new FundsError('funds-insufficient', `${whose} has ${sum} spendable base units, ${amount} needed`);
  return picked;
}
