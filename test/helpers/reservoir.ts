/**
 * Test helpers for the reservoir: a MemoryLedger with mature coins, the reservoir over it, signed
 * transactions with chosen fees, and blocks connected and disconnected in the order the chain
 * manager uses (storage first, then the reservoir).
 */

import type { ReservoirChain } from '../../services/node/reservoir/chain-view.ts';
import {
  type RemovalReason,
  Reservoir,
  type ReservoirEntry,
  type ReservoirOptions,
} from '../../services/node/reservoir/reservoir.ts';
import type { DecodedBlock } from '../../shared/core/block/types.ts';
import { toHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import type { DecodedTx, TxOutput } from '../../shared/core/tx/types.ts';
import type { BlockEffects } from '../../shared/core/validation/connect.ts';
import { outpointKey } from '../../shared/core/validation/view.ts';
import { loadVerifier } from '../../shared/crypto/load.ts';
import { silentLogger } from '../../shared/log.ts';
import { MemoryLedger, makeKey, out, signed, spend, type TestKey } from './chain.ts';

export const { verifier } = loadVerifier('auto');
export const COIN = 100_000_000;
/** Coinbase amount of the funding blocks. */
export const SUBSIDY = 25 * COIN;
export const NOW = LOCAL.genesisTime + 1_000_000;

export function chainOf(ledger: MemoryLedger): ReservoirChain {
  return { params: ledger.p, tipHeight: () => ledger.height, view: () => ledger };
}

/** An output reference: a tx and one of its output indexes. */
export type Prev = readonly [DecodedTx, number];

/** A transfer signed by `key` spending `prevs` (all owned by `key`) to `outputs`. */
export function transfer(key: TestKey, prevs: readonly Prev[], outputs: TxOutput[]): DecodedTx {
  return signed({
    version: 1,
    kind: 'transfer',
    inputs: prevs.map(([d, v]) => spend(key, d.txid, v)),
    outputs,
  });
}

/** Spends `prev` (worth `amount`, owned by `key`) paying `fee`, splitting the rest to `to` in `parts` outputs. */
export function payFee(
  key: TestKey,
  prev: Prev,
  amount: number,
  fee: number,
  to = key,
  parts = 2,
): DecodedTx {
  const each = Math.floor((amount - fee) / parts);
  const outputs: TxOutput[] = [];
  for (let i = 0; i < parts; i++) {
    outputs.push(out(to.owner, i === 0 ? amount - fee - each * (parts - 1) : each));
  }
  return transfer(key, [prev], outputs);
}

export interface Env {
  ledger: MemoryLedger;
  reservoir: Reservoir;
  alice: TestKey;
  bob: TestKey;
  /** Mature coinbases paying alice SUBSIDY each (spendable now). */
  funds: DecodedTx[];
  events: Array<{ type: 'added' | 'removed'; txid: string; reason?: RemovalReason }>;
  /** Undo data of each block connected through `mine`, by height. */
  effects: Map<number, BlockEffects>;
}

export function makeEnv(opts: ReservoirOptions = {}, matureCount = 20): Env {
  const ledger = new MemoryLedger();
  const alice = makeKey();
  const bob = makeKey();
  const effects = new Map<number, BlockEffects>();
  const funds: DecodedTx[] = [];
  for (let i = 0; i < matureCount + ledger.p.coinbaseMaturity; i++) {
    const b = ledger.nextBlock([], i < matureCount ? alice.owner : bob.owner);
    effects.set(ledger.height + 1, ledger.apply(b));
    if (i < matureCount) {
      funds.push(b.txs[0]!);
    }
  }
  const reservoir = new Reservoir(opts, { chain: chainOf(ledger), verifier, logger: silentLogger() });
  const events: Env['events'] = [];
  reservoir.on('tx:added', (e) => events.push({ type: 'added', txid: toHex(e.txid) }));
  reservoir.on('tx:removed', (e, reason) => events.push({ type: 'removed', txid: toHex(e.txid), reason }));
  return { ledger, reservoir, alice, bob, funds, events, effects };
}

export function hex(x: DecodedTx | ReservoirEntry): string {
  return toHex(x.txid);
}

/** Connects a block of `txs` to the ledger, then tells the reservoir (the chain manager's order). */
export function mine(env: Env, txs: DecodedTx[]): DecodedBlock {
  const b = env.ledger.nextBlock(txs, env.bob.owner);
  env.effects.set(env.ledger.height + 1, env.ledger.apply(b));
  env.reservoir.blockConnected(b.txs);
  return b;
}

/** Undoes the tip block in the ledger (restores spent coins, drops created ones and its assets). */
export function undoTip(env: Env): DecodedBlock {
  const { ledger } = env;
  const fx = env.effects.get(ledger.height);
  if (fx === undefined) {
    throw new Error(`no undo data for height ${ledger.height}`);
  }
  for (const c of fx.created) {
    ledger.coins.delete(outpointKey(c.txid, c.vout));
  }
  for (const s of fx.spent) {
    ledger.coins.set(outpointKey(s.txid, s.vout), s.coin);
  }
  for (const a of fx.assets) {
    ledger.assetsById.delete(toHex(a.id));
  }
  env.effects.delete(ledger.height);
  return ledger.blocks.pop()!;
}

/** Disconnects the tip: storage first, then the reservoir (the order blockDisconnected requires). */
export function disconnect(env: Env, now = NOW): DecodedBlock {
  const b = undoTip(env);
  env.reservoir.blockDisconnected(b.txs, now);
  return b;
}
