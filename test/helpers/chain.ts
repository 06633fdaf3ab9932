/**
 * Test helpers: keys, signed transactions and a small in-memory ledger that mines valid blocks on
 * network `local`. It drives the real core functions (checkBlock, connectBlock) so what it builds
 * is valid by construction, and tests can then break one rule at a time.
 */
import { ownerOf } from '../../shared/core/address.ts';
import { decodeBlock, encodeBlock } from '../../shared/core/block/codec.ts';
import { encodeHeader } from '../../shared/core/block/header.ts';
import { merkleRoot } from '../../shared/core/block/merkle.ts';
import {
  BLOCK_VERSION,
  type BlockHeader,
  type DecodedBlock,
  NONCE_OFFSET,
} from '../../shared/core/block/types.ts';
import { toHex } from '../../shared/core/bytes.ts';
import { sha256d } from '../../shared/core/hash.ts';
import { blockSubsidy, LOCAL } from '../../shared/core/params/networks.ts';
import type { NetworkParams } from '../../shared/core/params/types.ts';
import { hashMeetsTargetBytes, targetFromBits, targetToLeBytes } from '../../shared/core/pow/compact.ts';
import { toDecodedTx } from '../../shared/core/tx/codec.ts';
import { type DecodedTx, NO_BITMARK, TX_VERSION, type TxOutput } from '../../shared/core/tx/types.ts';
import { type BlockEffects, connectBlock } from '../../shared/core/validation/connect.ts';
import { requiredBits } from '../../shared/core/validation/header-context.ts';
import {
  type AssetRecord,
  type Coin,
  type LedgerView,
  outpointKey,
} from '../../shared/core/validation/view.ts';
import { generatePrivateKey, publicKeyOf } from '../../shared/crypto/keys.ts';
import { type InputToSign, signTx, type UnsignedSpendingTx } from '../../shared/crypto/sign-tx.ts';

export interface TestKey {
  readonly privateKey: Uint8Array;
  readonly pubkey: Uint8Array;
  readonly owner: Uint8Array;
}

export function makeKey(): TestKey {
  const privateKey = generatePrivateKey();
  const pubkey = publicKeyOf(privateKey);
  return { privateKey, pubkey, owner: ownerOf(pubkey) };
}

export function out(owner: Uint8Array, amount: number, bitmark: TxOutput['bitmark'] = NO_BITMARK): TxOutput {
  return { owner, amount, bitmark };
}

export function spend(key: TestKey, prevTxid: Uint8Array, vout: number): InputToSign {
  return { prevTxid, vout, pubkey: key.pubkey, privateKey: key.privateKey };
}

export function signed(tx: UnsignedSpendingTx, p: NetworkParams = LOCAL): DecodedTx {
  return toDecodedTx(signTx(tx, p.genesisHash));
}

export function coinbase(height: number, outputs: TxOutput[], tag = ''): DecodedTx {
  return toDecodedTx({
    version: TX_VERSION,
    kind: 'coinbase',
    height,
    data: new TextEncoder().encode(tag),
    outputs,
  });
}

/** Finds a nonce meeting the header's target (instant on `local`). */
export function mineHeader(h: BlockHeader, p: NetworkParams = LOCAL): BlockHeader {
  const target = targetFromBits(h.bits, p.powLimit);
  if (target === null) {
    throw new Error('bad bits');
  }
  const le = targetToLeBytes(target);
  const buf = encodeHeader(h);
  const view = new DataView(buf.buffer, buf.byteOffset);
  for (let n = 0; ; n++) {
    view.setUint32(NONCE_OFFSET, n, true);
    if (hashMeetsTargetBytes(sha256d(buf), le)) {
      return { ...h, nonce: BigInt(n) };
    }
  }
}

/** What a block needs of its parent: hash, height, time and the difficulty anchor (block 1's time). */
export interface ParentFacts {
  readonly hash: Uint8Array;
  readonly height: number;
  readonly time: number;
  readonly anchorTime: number;
}

export function assembleBlock(
  prev: ParentFacts,
  txs: DecodedTx[],
  p: NetworkParams = LOCAL,
  time = prev.time + p.targetSpacing,
): DecodedBlock {
  const header = mineHeader(
    {
      version: BLOCK_VERSION,
      prevHash: prev.hash,
      merkleRoot: merkleRoot(txs.map((t) => t.txid)),
      time,
      bits: requiredBits(prev, p),
      nonce: 0n,
    },
    p,
  );
  return decodeBlock(encodeBlock(header, txs));
}

/** A chain kept in maps: the ledger view plus tip facts, advanced by connectBlock's effects. */
export class MemoryLedger implements LedgerView {
  readonly coins = new Map<string, Coin>();
  readonly assetsById = new Map<string, AssetRecord>();
  readonly blocks: DecodedBlock[] = [];
  readonly p: NetworkParams;

  constructor(p: NetworkParams = LOCAL) {
    this.p = p;
    this.blocks.push(decodeBlock(p.genesisBlock));
  }

  getCoin(txid: Uint8Array, vout: number): Coin | undefined {
    return this.coins.get(outpointKey(txid, vout));
  }

  getAsset(id: Uint8Array): AssetRecord | undefined {
    return this.assetsById.get(toHex(id));
  }

  get height(): number {
    return this.blocks.length - 1;
  }

  get tip(): ParentFacts {
    const b = this.blocks[this.blocks.length - 1]!;
    const anchor = this.blocks[Math.min(1, this.height)]!;
    return { hash: b.hash, height: this.height, time: b.header.time, anchorTime: anchor.header.time };
  }

  /** Builds (but does not connect) the next block: coinbase paying `payTo` subsidy + `fees`. */
  nextBlock(txs: DecodedTx[], payTo: Uint8Array, fees = 0): DecodedBlock {
    const h = this.height + 1;
    const cb = coinbase(h, [out(payTo, blockSubsidy(h, this.p) + fees)]);
    return assembleBlock(this.tip, [cb, ...txs], this.p);
  }

  apply(block: DecodedBlock): BlockEffects {
    const fx = connectBlock(block, this.height + 1, this, this.p);
    for (const s of fx.spent) {
      this.coins.delete(outpointKey(s.txid, s.vout));
    }
    for (const c of fx.created) {
      this.coins.set(outpointKey(c.txid, c.vout), c.coin);
    }
    for (const a of fx.assets) {
      this.assetsById.set(toHex(a.id), a);
    }
    this.blocks.push(block);
    return fx;
  }

  /** Mines `n` blocks paying `payTo`; returns their coinbases. */
  mine(n: number, payTo: Uint8Array): DecodedTx[] {
    const cbs: DecodedTx[] = [];
    for (let i = 0; i < n; i++) {
      const b = this.nextBlock([], payTo);
      this.apply(b);
      cbs.push(b.txs[0]!);
    }
    return cbs;
  }
}

/**
 * A chain of `height` blocks on `local`: 12 blocks of coinbases, then blocks each splitting a
 * mature coinbase among 30 outputs and spending 8 of the last split's; block `badAt` gets a
 * corrupted signature (valid otherwise, so only the signature check refuses it).
 */
export function buildSpendingChain(height: number, badAt?: number): DecodedBlock[] {
  return buildSplitChain(height, { width: 30, spends: 8, inputsPerSpend: 8, badAt });
}

/**
 * A chain of `height` blocks on `local` whose blocks after the first 12 carry `width` + 1
 * signatures each (from 64 on, the batch verifier posts a block's signatures to its workers):
 * each splits a mature coinbase into `width` outputs and spends every output of the split before
 * it, one transfer each.
 */
export function buildWideChain(height: number, width: number): DecodedBlock[] {
  return buildSplitChain(height, { width, spends: width, inputsPerSpend: 1 });
}

/**
 * 12 blocks of coinbases, then blocks each splitting a mature coinbase into `width` outputs and
 * spending the first `spends` outputs of the split before it, `inputsPerSpend` to a transfer.
 */
function buildSplitChain(
  height: number,
  o: { width: number; spends: number; inputsPerSpend: number; badAt?: number },
): DecodedBlock[] {
  const miner = makeKey();
  const payee = makeKey().owner;
  const ledger = new MemoryLedger();
  const cbs = ledger.mine(12, miner.owner);
  let last: { tx: DecodedTx; each: number } | undefined;
  while (ledger.height < height) {
    const h = ledger.height + 1;
    const cb = cbs.shift() ?? ledger.blocks[h - 11]!.txs[0]!;
    const amount = cb.tx.outputs[0]!.amount;
    const each = Math.floor((amount - 1000) / o.width);
    const split = signTx(
      {
        version: 1,
        kind: 'transfer',
        inputs: [spend(miner, cb.txid, 0)],
        outputs: Array.from({ length: o.width }, () => out(miner.owner, each)),
      },
      LOCAL.genesisHash,
    );
    if (h === o.badAt) (split.inputs[0]!.signature as Uint8Array)[5]! ^= 0x01;
    const splitTx = toDecodedTx(split);
    const txs: DecodedTx[] = [splitTx];
    let fees = amount - each * o.width;
    for (let k = 0; last !== undefined && k < o.spends; k += o.inputsPerSpend) {
      const n = Math.min(o.inputsPerSpend, o.spends - k);
      const from = last.tx.txid;
      const spends = signTx(
        {
          version: 1,
          kind: 'transfer',
          inputs: Array.from({ length: n }, (_, i) => spend(miner, from, k + i)),
          outputs: [out(payee, last.each * n - 1000)],
        },
        LOCAL.genesisHash,
      );
      txs.push(toDecodedTx(spends));
      fees += 1000;
    }
    last = { tx: splitTx, each };
    const b = ledger.nextBlock(txs, miner.owner, fees);
    ledger.apply(b);
  }
  return ledger.blocks.slice(1);
}
