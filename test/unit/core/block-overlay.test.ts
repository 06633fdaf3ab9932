/**
 * connectBlock finds the outpoints a block spends by number (a txid's first four bytes, mixed
 * with the output index) and checks each against the full outpoint: outpoints whose numbers
 * collide must still be told apart, as a spend of one must not hide or stand for the other.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { outpointKey } from '../../../shared/core/outpoint.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { connectBlock } from '../../../shared/core/validation/connect.ts';
import type { Coin, LedgerView } from '../../../shared/core/validation/view.ts';
import { assembleBlock, coinbase, MemoryLedger, makeKey, out, signed, spend } from '../../helpers/chain.ts';

const p = LOCAL;
const alice = makeKey();
const bob = makeKey();
let ledger: MemoryLedger;

/** The ledger's coins plus `extra` (outpoints a real chain could not make: their txids are chosen). */
function viewWith(extra: readonly (readonly [Uint8Array, number])[]): LedgerView {
  const coins = new Map<string, Coin>();
  const coin: Coin = { owner: alice.owner, amount: 10 * p.coin, bitmark: null, height: 1, coinbase: false };
  for (const [txid, vout] of extra) coins.set(outpointKey(txid, vout), coin);
  return {
    getCoin: (txid, vout) => coins.get(outpointKey(txid, vout)) ?? ledger.getCoin(txid, vout),
    getAsset: (id) => ledger.getAsset(id),
  };
}

/** A 32-byte txid starting with `head` (four bytes), then `tail` at the last byte. */
function txidOf(head: number, tail: number): Uint8Array {
  const t = new Uint8Array(32);
  new DataView(t.buffer).setUint32(0, head >>> 0);
  t[31] = tail;
  return t;
}

function spending(txid: Uint8Array, vout: number, to = bob.owner): DecodedTx {
  return signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(alice, txid, vout)],
    outputs: [out(to, p.coin)],
  });
}

function connect(txs: DecodedTx[], view: LedgerView) {
  const h = ledger.height + 1;
  const block = assembleBlock(ledger.tip, [coinbase(h, [out(alice.owner, 1)]), ...txs], p);
  return connectBlock(block, h, view, p);
}

const keysOf = (xs: readonly { txid: Uint8Array; vout: number }[]) =>
  xs.map((x) => outpointKey(x.txid, x.vout)).sort();

before(() => {
  ledger = new MemoryLedger();
  ledger.mine(12, alice.owner);
});

/**
 * Outpoints `a` and `b` (coins from before the block) spent in one block are both in its undo
 * data, and a third tx spending `b` again is a double spend, whichever came first.
 */
function toldApart(a: readonly [Uint8Array, number], b: readonly [Uint8Array, number]): void {
  const view = viewWith([a, b]);
  const fx = connect([spending(...a), spending(...b)], view);
  assert.deepEqual(keysOf(fx.spent), keysOf([a, b].map(([txid, vout]) => ({ txid, vout }))));
  for (const order of [
    [a, b],
    [b, a],
  ])
    assert.throws(
      () => connect([...order.map((o) => spending(...o)), spending(b[0], b[1], alice.owner)], view),
      (e: Error & { code?: string }) => e.code === 'bad-txns-inputs-missingorspent',
    );
}

describe('connectBlock tells colliding outpoints apart', () => {
  it('two txids with the same first four bytes: each spent once, and a second spend of one refused', () => {
    toldApart([txidOf(0x01020304, 1), 0], [txidOf(0x01020304, 2), 0]);
  });

  it('outpoints of different txids whose index hashes collide', () => {
    // x3:1 mixes to the same number as x1:0 (the mixing is head ^ imul(vout + 1, 0x9e3779b1))
    const x3 = txidOf(0x0a0b0c0d ^ Math.imul(1, 0x9e3779b1) ^ Math.imul(2, 0x9e3779b1), 3);
    toldApart([txidOf(0x0a0b0c0d, 1), 0], [x3, 1]);
  });

  it("a coin from before the block whose txid starts as a block tx's does not stand for its outputs", () => {
    const funding = ledger.blocks[1]!.txs[0]!;
    const a = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(alice, funding.txid, 0)],
      outputs: [out(alice.owner, p.coin), out(bob.owner, p.coin)],
    });
    const twin = new Uint8Array(a.txid);
    twin[31]! ^= 1;
    const view = viewWith([[twin, 0]]);
    // spends the twin (from before the block) and a's second output (made in it)
    const b = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(alice, twin, 0), spend(bob, a.txid, 1)],
      outputs: [out(bob.owner, p.coin)],
    });
    const fx = connect([a, b], view);
    assert.deepEqual(
      keysOf(fx.spent),
      keysOf([
        { txid: funding.txid, vout: 0 },
        { txid: twin, vout: 0 },
      ]),
    );
    // a's first output stays, its second was spent in the block; b's output and the coinbase's are new
    assert.deepEqual(
      keysOf(fx.created),
      keysOf([
        { txid: fx.created[0]!.txid, vout: 0 },
        { txid: a.txid, vout: 0 },
        { txid: b.txid, vout: 0 },
      ]),
    );
    assert.ok(!keysOf(fx.created).includes(outpointKey(a.txid, 1)));
  });
});
