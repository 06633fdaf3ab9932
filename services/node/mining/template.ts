/**
 * Block templates: the next block's header fields and transactions, paying subsidy + fees to one
 * or more payout owners. Transactions come from the reservoir in ancestor-fee-rate order; the
 * finished template is run through the consensus core's connectBlock against the tip, so a
 * template is valid by construction (if the pool ever disagrees with the chain, the template
 * falls back to the coinbase alone and says why).
 */
import { merkleRoot } from '../../../shared/core/block/merkle.ts';
import {
  BLOCK_VERSION,
  type BlockHeader,
  type DecodedBlock,
  HEADER_SIZE,
} from '../../../shared/core/block/types.ts';
import { UsageError, ValidationError } from '../../../shared/core/errors.ts';
import { MAX_COINBASE_DATA } from '../../../shared/core/limits.ts';
import { blockSubsidy } from '../../../shared/core/params/networks.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import { targetFromBits } from '../../../shared/core/pow/compact.ts';
import { toDecodedTx } from '../../../shared/core/tx/codec.ts';
import { type DecodedTx, NO_BITMARK, TX_VERSION, type TxOutput } from '../../../shared/core/tx/types.ts';
import { connectBlock } from '../../../shared/core/validation/connect.ts';
import { medianTimePast, requiredBits } from '../../../shared/core/validation/header-context.ts';
import type { LedgerView } from '../../../shared/core/validation/view.ts';

/** Where transactions come from (the reservoir). */
export interface TemplateSource {
  selectForBlock(maxBytes: number): DecodedTx[];
}

/** What the template needs to know of the chain tip. */
export interface TemplateChain {
  readonly params: NetworkParams;
  tipInfo(): { hash: Uint8Array; height: number; time: number; recentTimes: number[]; anchorTime: number };
  view(): LedgerView;
}

export interface Payout {
  readonly owner: Uint8Array;
  /** Relative share of the reward (default 1). */
  readonly weight?: number;
}

export interface TemplateRequest {
  readonly payouts: readonly Payout[];
  /** Free bytes in the coinbase (≤ 64), e.g. a recorder tag; also makes coinbases of two miners differ. */
  readonly coinbaseData?: Uint8Array;
  /** The node's clock, seconds. */
  readonly now: number;
}

export interface BlockTemplate {
  readonly height: number;
  /** Header with nonce 0; a miner varies the nonce (and may raise time up to the future limit). */
  readonly header: BlockHeader;
  readonly target: bigint;
  /** The earliest time a block here may carry (the parent's median time past + 1). */
  readonly minTime: number;
  /** Coinbase first. */
  readonly txs: readonly DecodedTx[];
  readonly fees: number;
  readonly reward: number;
  /** Set when the pool's transactions were dropped because they did not connect. */
  readonly fallbackReason?: string;
}

/** Room kept for the header, the tx count and the coinbase when selecting transactions. */
const COINBASE_RESERVE = 1000;
/** Payouts a coinbase may split the reward over (each output ≤ 30 bytes: fits the reserve). */
export const MAX_PAYOUTS = 24;

export function buildTemplate(
  req: TemplateRequest,
  modules: { chain: TemplateChain; source: TemplateSource },
): BlockTemplate {
  const { chain, source } = modules;
  const p = chain.params;
  if (req.payouts.length === 0 || req.payouts.length > MAX_PAYOUTS) {
    throw new UsageError(`a template pays 1 to ${MAX_PAYOUTS} owners, not ${req.payouts.length}`);
  }
  const data = req.coinbaseData ?? new Uint8Array();
  if (data.length > MAX_COINBASE_DATA)
    throw new UsageError(`coinbase data is limited to ${MAX_COINBASE_DATA} bytes`);
  const tip = chain.tipInfo();
  const height = tip.height + 1;
  const minTime = medianTimePast(tip.recentTimes) + 1;
  const time = Math.max(req.now, minTime);
  const bits = requiredBits(tip, p);
  const target = targetFromBits(bits, p.powLimit)!;

  const attempt = (txs: DecodedTx[]): BlockTemplate => {
    const fees = sumFees(txs, chain.view(), height, p);
    const reward = blockSubsidy(height, p) + fees;
    const coinbase = toDecodedTx({
      version: TX_VERSION,
      kind: 'coinbase',
      height,
      data,
      outputs: splitReward(reward, req.payouts),
    });
    const all = [coinbase, ...txs];
    const header: BlockHeader = {
      version: BLOCK_VERSION,
      prevHash: tip.hash,
      merkleRoot: merkleRoot(all.map((t) => t.txid)),
      time,
      bits,
      nonce: 0n,
    };
    return { height, header, target, minTime, txs: all, fees, reward };
  };

  const selected = source.selectForBlock(p.maxBlockSize - HEADER_SIZE - COINBASE_RESERVE);
  try {
    return attempt(selected);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    const t = attempt([]);
    return {
      ...t,
      fallbackReason: `pool transactions do not connect (${e.message}); template has the coinbase only`,
    };
  }
}

/**
 * Fees of `txs` as the next block, by the core's own rules: connectBlock over a coinbase that
 * claims nothing (so only the transactions can fail; throws ValidationError if they do not connect).
 */
function sumFees(txs: DecodedTx[], view: LedgerView, height: number, p: NetworkParams): number {
  if (txs.length === 0) return 0;
  const claimsNothing = toDecodedTx({
    version: TX_VERSION,
    kind: 'coinbase',
    height,
    data: new Uint8Array(),
    outputs: [],
  });
  const probe: DecodedBlock = {
    header: PROBE_HEADER,
    hash: new Uint8Array(32),
    raw: new Uint8Array(0),
    txs: [claimsNothing, ...txs],
  };
  return connectBlock(probe, height, view, p).fees;
}

/** connectBlock reads only a block's transactions; the probe's header is never looked at. */
const PROBE_HEADER: BlockHeader = Object.freeze({
  version: BLOCK_VERSION,
  prevHash: new Uint8Array(32),
  merkleRoot: new Uint8Array(32),
  time: 0,
  bits: 0,
  nonce: 0n,
});

/** Splits `reward` by weight; the rounding remainder goes to the first payout. */
export function splitReward(reward: number, payouts: readonly Payout[]): TxOutput[] {
  const weights = payouts.map((x) => x.weight ?? 1);
  if (weights.some((w) => !Number.isInteger(w) || w <= 0))
    throw new UsageError('payout weights are positive integers');
  const total = weights.reduce((a, b) => a + b, 0);
  const amounts = weights.map((w) => Math.floor((reward * w) / total));
  amounts[0]! += reward - amounts.reduce((a, b) => a + b, 0);
  return payouts.map((x, i) => ({ owner: x.owner, amount: amounts[i]!, bitmark: NO_BITMARK }));
}
