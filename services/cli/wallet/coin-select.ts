/**
 * Coin selection: which of the wallet's coins pay for a transaction, and the change.
 *
 * Outputs holding a bitmark or shares are never picked to pay (spending one would have to carry
 * the bitmark or shares along), nor are coinbase outputs that have not matured. Inputs the transaction must have
 * (the bitmark being moved, the registrant's coin of an issue) come first. Then: the smallest
 * single coin that covers everything, else the largest coins first until they do. Change below
 * `dust` is left to the fee rather than creating an output worth less than spending it costs.
 */
import { FundsError } from '../errors.ts';

export interface Utxo {
  readonly txid: string;
  readonly vout: number;
  readonly amount: number;
  readonly address: string;
  readonly confirmations: number;
  readonly coinbase: boolean;
  readonly bitmark?: string;
  /** Shares this output holds: the kind (split bitmark id) and quantity. */
  readonly shares?: { readonly bitmark: string; readonly quantity: number };
}

export interface SelectRequest {
  /** Coins the outputs other than change need. */
  readonly target: number;
  /** Inputs that must be in the transaction, in this order (input 0 first). */
  readonly required?: readonly Utxo[];
  readonly candidates: readonly Utxo[];
  /** Fee of the transaction with `inputs` inputs, with or without a change output. */
  readonly feeFor: (inputs: number, withChange: boolean) => number;
  readonly coinbaseMaturity: number;
  /** Change below this goes to the fee. */
  readonly dust: number;
}

export interface Selection {
  readonly inputs: readonly Utxo[];
  readonly fee: number;
  /** 0 when there is no change output. */
  readonly change: number;
}

export function spendable(u: Utxo, coinbaseMaturity: number): boolean {
  // a coin of height h is spendable in the block at h + maturity: confirmations = tip - h + 1
  return (
    u.bitmark === undefined &&
    u.shares === undefined &&
    u.confirmations >= 1 &&
    (!u.coinbase || u.confirmations >= coinbaseMaturity)
  );
}

function settle(req: SelectRequest, inputs: readonly Utxo[]): Selection | undefined {
  const total = inputs.reduce((s, u) => s + u.amount, 0);
  const withChange = total - req.target - req.feeFor(inputs.length, true);
  if (withChange >= req.dust) return { inputs, fee: req.feeFor(inputs.length, true), change: withChange };
  const noChange = total - req.target - req.feeFor(inputs.length, false);
  if (noChange >= 0) return { inputs, fee: noChange + req.feeFor(inputs.length, false), change: 0 };
  return undefined;
}

export function selectCoins(req: SelectRequest): Selection {
  const required = req.required ?? [];
  const taken = new Set(required.map((u) => `${u.txid}:${u.vout}`));
  const pool = req.candidates.filter(
    (u) => spendable(u, req.coinbaseMaturity) && !taken.has(`${u.txid}:${u.vout}`),
  );
  if (required.length > 0) {
    const only = settle(req, required);
    if (only !== undefined) return only;
  }
  // the smallest single coin that covers it all
  const ascending = [...pool].sort((a, b) => a.amount - b.amount);
  for (const u of ascending) {
    const s = settle(req, [...required, u]);
    if (s !== undefined) return s;
  }
  // largest first
  const chosen = [...required];
  for (const u of ascending.reverse()) {
    chosen.push(u);
    const s = settle(req, chosen);
    if (s !== undefined) return s;
  }
  const available = [...required, ...pool].reduce((s, u) => s + u.amount, 0);
  const immature = req.candidates
    .filter(
      (u) =>
        u.bitmark === undefined &&
        u.shares === undefined &&
        u.coinbase &&
        u.confirmations < req.coinbaseMaturity,
    )
    .reduce((s, u) => s + u.amount, 0);
  throw new FundsError(
    'funds-insufficient',
    `insufficient funds: need ${req.target} plus a fee of at least ${req.feeFor(chosen.length || 1, false)}, ` +
      `spendable ${available}${immature > 0 ? ` (${immature} more in coinbase outputs not yet mature)` : ''}`,
  );
}
