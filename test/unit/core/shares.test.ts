/**
 * Shares of a bitmark (docs/protocol.md §7.9): the split, grants and atomic swaps through real
 * blocks, one failing case per share rule, and a property test that every kind of shares is
 * conserved under random transactions. The last hook checks each share reject code was produced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../../shared/core/bytes.ts';
import { ValidationError } from '../../../shared/core/errors.ts';
import { MAX_SHARES } from '../../../shared/core/limits.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { REJECT_CODES, type RejectCode } from '../../../shared/core/reject-codes.ts';
import { checkTransaction } from '../../../shared/core/tx/check.ts';
import { decodeTx, encodeTx } from '../../../shared/core/tx/codec.ts';
import { assetIdOf, bitmarkIdOf } from '../../../shared/core/tx/ids.ts';
import { type DecodedTx, MINT, type OutputBitmark, type TxOutput } from '../../../shared/core/tx/types.ts';
import { checkTxInputs } from '../../../shared/core/validation/tx-inputs.ts';
import type { Coin, LedgerView } from '../../../shared/core/validation/view.ts';
import { loadVerifier } from '../../../shared/crypto/load.ts';
import type { InputToSign } from '../../../shared/crypto/sign-tx.ts';
import { MemoryLedger, makeKey, out, signed, spend, type TestKey } from '../../helpers/chain.ts';

const { verifier } = loadVerifier('auto');
const p = LOCAL;
const covered = new Set<RejectCode>();
const SHARE_CODES = Object.keys(REJECT_CODES).filter((c) => /^bad-(split|txns-share)-/.test(c));

function rejects(code: RejectCode, fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
  covered.add(code);
}

const shares = (id: Uint8Array, quantity: number): OutputBitmark => ({ type: 'shares', id, quantity });
const carry = (id: Uint8Array): OutputBitmark => ({ type: 'carry', id });

const alice = makeKey();
const bob = makeKey();
let ledger: MemoryLedger;
let funds: DecodedTx[];
/** Two bitmarks alice issued (outputs 0 and 1 of `issue`), and her change (output 2). */
let issue: DecodedTx;
let bmX: Uint8Array;
let bmY: Uint8Array;

function check(d: DecodedTx): void {
  checkTransaction(d, p, verifier);
}

/** Stateless and contextual checks, then the tx in a block of its own. */
function confirm(d: DecodedTx, fees = 0): void {
  check(d);
  ledger.apply(ledger.nextBlock([d], alice.owner, fees));
}

function split(inputs: InputToSign[], bitmarkId: Uint8Array, total: number, outputs: TxOutput[]): DecodedTx {
  return signed({ version: 1, kind: 'split', bitmarkId, total, inputs, outputs });
}

function transfer(inputs: InputToSign[], outputs: TxOutput[]): DecodedTx {
  return signed({ version: 1, kind: 'transfer', inputs, outputs });
}

before(() => {
  ledger = new MemoryLedger();
  funds = ledger.mine(20, alice.owner);
  const fingerprint = new TextEncoder().encode('sha256:shares');
  const reg = signed({
    version: 1,
    kind: 'asset',
    asset: { name: 'Shared painting', fingerprint, metadata: new Uint8Array() },
    inputs: [spend(alice, funds[0]!.txid, 0)],
    outputs: [out(alice.owner, 25 * p.coin)],
  });
  confirm(reg);
  issue = signed({
    version: 1,
    kind: 'issue',
    assetId: assetIdOf(fingerprint),
    inputs: [spend(alice, reg.txid, 0)],
    outputs: [out(alice.owner, 0, MINT), out(alice.owner, 0, MINT), out(alice.owner, 25 * p.coin)],
  });
  confirm(issue);
  bmX = bitmarkIdOf(issue.txid, 0);
  bmY = bitmarkIdOf(issue.txid, 1);
});

describe('share encoding', () => {
  it('a split and a share output round-trip through the codec', () => {
    const d = split([spend(alice, issue.txid, 0)], bmX, 1000, [
      out(alice.owner, 0, shares(bmX, 600)),
      out(bob.owner, 7, shares(bmX, 400)),
    ]);
    const back = decodeTx(d.raw);
    assert.deepEqual(encodeTx(back.tx), d.raw);
    assert.equal(back.tx.kind, 'split');
    const b = back.tx.outputs[1]!.bitmark;
    assert.ok(b.type === 'shares');
    assert.deepEqual([toHex(b.id), b.quantity], [toHex(bmX), 400]);
  });
});

describe('stateless share rules', () => {
  const x = () => [spend(alice, issue.txid, 0)];

  it('bad-txns-share-quantity: 0 shares, or more than 10^15', () => {
    rejects('bad-txns-share-quantity', () => check(transfer(x(), [out(bob.owner, 0, shares(bmX, 0))])));
    rejects('bad-txns-share-quantity', () =>
      check(transfer(x(), [out(bob.owner, 0, shares(bmX, MAX_SHARES + 1))])),
    );
    check(transfer(x(), [out(bob.owner, 0, shares(bmX, MAX_SHARES))]));
  });

  it('bad-txns-share-total-toolarge: one kind over 10^15 across outputs (other kinds count apart)', () => {
    const big = MAX_SHARES / 2 + 1;
    rejects('bad-txns-share-total-toolarge', () =>
      check(transfer(x(), [out(bob.owner, 0, shares(bmX, big)), out(bob.owner, 0, shares(bmX, big))])),
    );
    check(transfer(x(), [out(bob.owner, 0, shares(bmX, big)), out(bob.owner, 0, shares(bmY, big))]));
  });

  it('bad-cb-bitmark: a coinbase output holds shares', () => {
    const cb = ledger.nextBlock([], alice.owner).txs[0]!;
    const tx = { ...cb.tx, outputs: [out(alice.owner, 1, shares(bmX, 1))] } as typeof cb.tx;
    assert.throws(
      () => check({ ...cb, tx }),
      (e: unknown) => e instanceof ValidationError && e.code === 'bad-cb-bitmark',
    );
  });

  it('bad-split-total: 0 or more than 10^15', () => {
    rejects('bad-split-total', () => check(split(x(), bmX, 0, [out(alice.owner, 0)])));
    rejects('bad-split-total', () =>
      check(split(x(), bmX, MAX_SHARES + 1, [out(alice.owner, 0, shares(bmX, MAX_SHARES))])),
    );
  });

  it('bad-split-carry: the split bitmark also carried', () => {
    rejects('bad-split-carry', () =>
      check(split(x(), bmX, 10, [out(alice.owner, 0, shares(bmX, 10)), out(alice.owner, 0, carry(bmX))])),
    );
  });

  it('bad-split-unbalanced: share outputs of the split kind differ from the total', () => {
    rejects('bad-split-unbalanced', () => check(split(x(), bmX, 10, [out(alice.owner, 0, shares(bmX, 9))])));
    rejects('bad-split-unbalanced', () =>
      check(split(x(), bmX, 10, [out(alice.owner, 0, shares(bmX, 10)), out(bob.owner, 0, shares(bmX, 1))])),
    );
    // shares of another kind do not count toward the total
    rejects('bad-split-unbalanced', () => check(split(x(), bmX, 10, [out(alice.owner, 0, shares(bmY, 10))])));
    check(split(x(), bmX, 10, [out(alice.owner, 0, shares(bmX, 4)), out(bob.owner, 0, shares(bmX, 6))]));
  });
});

describe('split, grant and swap through blocks', () => {
  const at = () => ledger.height + 1;
  const inputs = (d: DecodedTx) => checkTxInputs(d, ledger, at(), p);
  let splitX: DecodedTx;

  it('bad-split-not-held: the split bitmark is not among the inputs', () => {
    rejects('bad-split-not-held', () =>
      inputs(split([spend(alice, issue.txid, 2)], bmX, 10, [out(alice.owner, 0, shares(bmX, 10))])),
    );
    // holding another bitmark is not enough
    rejects('bad-split-not-held', () =>
      inputs(
        split([spend(alice, issue.txid, 1)], bmX, 10, [
          out(alice.owner, 0, shares(bmX, 10)),
          out(alice.owner, 0, carry(bmY)),
        ]),
      ),
    );
  });

  it("only the bitmark's owner can split it (bob signing alice's output)", () => {
    assert.throws(
      () => inputs(split([spend(bob, issue.txid, 0)], bmX, 10, [out(bob.owner, 0, shares(bmX, 10))])),
      (e: unknown) => e instanceof ValidationError && e.code === 'bad-txns-wrong-owner',
    );
  });

  it('alice splits bitmark X into 1000 shares: the bitmark is gone, 1000 shares exist', () => {
    splitX = split([spend(alice, issue.txid, 0)], bmX, 1000, [out(alice.owner, 0, shares(bmX, 1000))]);
    confirm(splitX);
    const coin = ledger.getCoin(splitX.txid, 0)!;
    assert.equal(coin.bitmark, null);
    assert.deepEqual([toHex(coin.shares!.id), coin.shares!.quantity], [toHex(bmX), 1000]);
    assert.equal(ledger.getCoin(issue.txid, 0), undefined);
  });

  it('no second split, no resurrection of the bitmark, no minting after the split', () => {
    rejects('bad-split-not-held', () =>
      inputs(split([spend(alice, splitX.txid, 0)], bmX, 1000, [out(alice.owner, 0, shares(bmX, 2000))])),
    );
    assert.throws(
      () =>
        inputs(
          transfer(
            [spend(alice, splitX.txid, 0)],
            [out(alice.owner, 0, shares(bmX, 1000)), out(alice.owner, 0, carry(bmX))],
          ),
        ),
      (e: unknown) => e instanceof ValidationError && e.code === 'bad-txns-bitmark-created',
    );
    rejects('bad-txns-share-created', () =>
      inputs(transfer([spend(alice, splitX.txid, 0)], [out(alice.owner, 0, shares(bmX, 1001))])),
    );
    // shares of a bitmark that was never split cannot appear either
    rejects('bad-txns-share-created', () =>
      inputs(
        transfer(
          [spend(alice, splitX.txid, 0)],
          [out(alice.owner, 0, shares(bmX, 1000)), out(alice.owner, 0, shares(bmY, 1))],
        ),
      ),
    );
  });

  it('bad-txns-share-destroyed: no burning, not even of one share', () => {
    rejects('bad-txns-share-destroyed', () =>
      inputs(transfer([spend(alice, splitX.txid, 0)], [out(alice.owner, 0, shares(bmX, 999))])),
    );
    rejects('bad-txns-share-destroyed', () =>
      inputs(transfer([spend(alice, splitX.txid, 0)], [out(alice.owner, 0)])),
    );
  });

  it('grant, then one atomic swap: 100 shares of X from alice for 5 coins from bob, each signing his own input', () => {
    const grant = transfer(
      [spend(alice, splitX.txid, 0), spend(alice, issue.txid, 2)],
      [
        out(bob.owner, 0, shares(bmX, 50)),
        out(alice.owner, 0, shares(bmX, 950)),
        out(bob.owner, 10 * p.coin),
        out(alice.owner, 14 * p.coin),
      ],
    );
    confirm(grant, p.coin);
    const swap = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(alice, grant.txid, 1), spend(bob, grant.txid, 2)],
      outputs: [
        out(bob.owner, 0, shares(bmX, 100)),
        out(alice.owner, 0, shares(bmX, 850)),
        out(alice.owner, 5 * p.coin),
        out(bob.owner, 5 * p.coin - 1000),
      ],
    });
    confirm(swap, 1000);
    const held = (owner: Uint8Array) =>
      [...ledger.coins.values()]
        .filter((c) => toHex(c.owner) === toHex(owner) && c.shares !== undefined)
        .reduce((s, c) => s + c.shares!.quantity, 0);
    assert.equal(held(bob.owner), 150);
    assert.equal(held(alice.owner), 850);
  });

  it('several kinds in one transaction: each kind balances on its own', () => {
    const splitY = split([spend(alice, issue.txid, 1)], bmY, 10, [out(alice.owner, 0, shares(bmY, 10))]);
    confirm(splitY);
    const mine = [...ledger.coins.entries()].find(
      ([, c]) => c.shares && toHex(c.shares.id) === toHex(bmX) && toHex(c.owner) === toHex(alice.owner),
    );
    assert.ok(mine);
    const xCoin = mine[1];
    const xOut = findOutpoint(xCoin);
    const both = [spend(alice, xOut.txid, xOut.vout), spend(alice, splitY.txid, 0)];
    // moving a Y share into an extra X share breaks both kinds: the surplus kind is named first
    rejects('bad-txns-share-created', () =>
      inputs(
        transfer(both, [
          out(bob.owner, 0, shares(bmX, xCoin.shares!.quantity + 1)),
          out(bob.owner, 0, shares(bmY, 9)),
        ]),
      ),
    );
    confirm(
      transfer(both, [
        out(bob.owner, 0, shares(bmX, xCoin.shares!.quantity)),
        out(bob.owner, 0, shares(bmY, 10)),
      ]),
    );
  });

  it('one transaction, two owners: a bitmark and coins for shares of two kinds, each input signed by its owner', () => {
    const fingerprint = new TextEncoder().encode('sha256:third');
    const reg2 = signed({
      version: 1,
      kind: 'asset',
      asset: { name: 'Third', fingerprint, metadata: new Uint8Array() },
      inputs: [spend(alice, funds[7]!.txid, 0)],
      outputs: [out(alice.owner, 25 * p.coin)],
    });
    const issue2 = signed({
      version: 1,
      kind: 'issue',
      assetId: assetIdOf(fingerprint),
      inputs: [spend(alice, reg2.txid, 0)],
      outputs: [out(alice.owner, 0, MINT), out(alice.owner, 25 * p.coin)],
    });
    confirm(reg2);
    confirm(issue2);
    const z = bitmarkIdOf(issue2.txid, 0);
    // bob's shares of X and Y (he got them above), alice's bitmark Z and a coin of hers
    const bobs = [...ledger.coins.values()].filter((c) => c.shares && toHex(c.owner) === toHex(bob.owner));
    const kinds = new Set(bobs.map((c) => toHex(c.shares!.id)));
    assert.ok(kinds.has(toHex(bmX)) && kinds.has(toHex(bmY)), 'bob holds both kinds');
    const ins = [
      spend(alice, issue2.txid, 0),
      spend(alice, issue2.txid, 1),
      ...bobs.map((c) => {
        const o = findOutpoint(c);
        return spend(bob, o.txid, o.vout);
      }),
    ];
    const toAlice = bobs.map((c) => out(alice.owner, 0, shares(c.shares!.id, c.shares!.quantity)));
    const d = transfer(ins, [
      out(bob.owner, 0, carry(z)),
      out(bob.owner, 5 * p.coin),
      ...toAlice,
      out(alice.owner, 20 * p.coin - 1000),
    ]);
    // bob's signature is needed: alice alone cannot take his shares
    const aliceOnly = signed({
      version: 1,
      kind: 'transfer',
      inputs: ins.map((i) => ({ ...i, pubkey: alice.pubkey, privateKey: alice.privateKey })),
      outputs: d.tx.outputs,
    });
    assert.throws(
      () => inputs(aliceOnly),
      (e: unknown) => e instanceof ValidationError && e.code === 'bad-txns-wrong-owner',
    );
    confirm(d, 1000);
    assert.equal(toHex(ledger.getCoin(d.txid, 0)!.bitmark!), toHex(z));
    assert.ok(![...ledger.coins.values()].some((c) => c.shares && toHex(c.owner) === toHex(bob.owner)));
  });

  it('bad-txns-share-inputs-outofrange: inputs over 10^15 of one kind (an impossible ledger, checked anyway)', () => {
    const huge: Coin = {
      owner: alice.owner,
      amount: 0,
      bitmark: null,
      shares: { id: bmX, quantity: MAX_SHARES },
      height: 1,
      coinbase: false,
    };
    const view: LedgerView = { getCoin: () => huge, getAsset: () => undefined };
    const d = transfer(
      [spend(alice, funds[5]!.txid, 0), spend(alice, funds[6]!.txid, 0)],
      [out(bob.owner, 0, shares(bmX, MAX_SHARES))],
    );
    rejects('bad-txns-share-inputs-outofrange', () => checkTxInputs(d, view, 100, p));
  });

  it('bad-txns-share-total-toolarge, contextually (a caller that skipped the stateless rules)', () => {
    const d = transfer(
      [spend(alice, funds[5]!.txid, 0)],
      [out(bob.owner, 0, shares(bmX, MAX_SHARES)), out(bob.owner, 0, shares(bmX, 1))],
    );
    rejects('bad-txns-share-total-toolarge', () => inputs(d));
  });
});

/** Where a coin of the ledger is (the memory ledger keys coins by outpoint). */
function findOutpoint(coin: Coin): { txid: Uint8Array; vout: number } {
  for (const b of ledger.blocks) {
    for (const d of b.txs) {
      for (let vout = 0; vout < d.tx.outputs.length; vout++) {
        if (ledger.getCoin(d.txid, vout) === coin) return { txid: d.txid, vout };
      }
    }
  }
  throw new Error('coin not in the ledger');
}

describe('conservation under random transactions (property)', () => {
  interface Held {
    txid: Uint8Array;
    vout: number;
    key: TestKey;
    kind: 0 | 1;
    quantity: number;
  }
  const keys = [makeKey(), makeKey(), makeKey()];
  const TOTALS = [1_000_000, 7] as const;

  /** A fresh ledger where keys[0] split two bitmarks (kinds 0 and 1) into TOTALS. */
  function start(): { l: MemoryLedger; held: Held[]; ids: Uint8Array[] } {
    const l = new MemoryLedger();
    const [cb] = l.mine(1 + p.coinbaseMaturity, keys[0]!.owner);
    const fingerprint = new TextEncoder().encode('prop');
    const reg = signed({
      version: 1,
      kind: 'asset',
      asset: { name: 'prop', fingerprint, metadata: new Uint8Array() },
      inputs: [spend(keys[0]!, cb!.txid, 0)],
      outputs: [out(keys[0]!.owner, 0)],
    });
    const iss = signed({
      version: 1,
      kind: 'issue',
      assetId: assetIdOf(fingerprint),
      inputs: [spend(keys[0]!, reg.txid, 0)],
      outputs: [out(keys[0]!.owner, 0, MINT), out(keys[0]!.owner, 0, MINT)],
    });
    const ids = [bitmarkIdOf(iss.txid, 0), bitmarkIdOf(iss.txid, 1)];
    const splits = ids.map((id, k) =>
      split([spend(keys[0]!, iss.txid, k)], id, TOTALS[k]!, [out(keys[0]!.owner, 0, shares(id, TOTALS[k]!))]),
    );
    l.apply(l.nextBlock([reg, iss, ...splits], keys[0]!.owner));
    const held = splits.map(
      (s, k): Held => ({ txid: s.txid, vout: 0, key: keys[0]!, kind: k as 0 | 1, quantity: TOTALS[k]! }),
    );
    return { l, held, ids };
  }

  /** One step: spend some holdings, re-partition each kind among random owners, maybe off by `delta`. */
  const arbStep = fc.record({
    pick: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
    owners: fc.array(fc.nat(2), { minLength: 4, maxLength: 4 }),
    delta: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -3, max: 3 })),
  });

  it('a transaction is accepted exactly when each kind balances, and the totals never change', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { minLength: 1, maxLength: 6 }), (steps) => {
        const { l, held, ids } = start();
        for (const s of steps) {
          const chosen = [...new Set(s.pick.map((n) => n % held.length))].map((n) => held[n]!);
          const outputs: TxOutput[] = [];
          for (const kind of [0, 1] as const) {
            const sum = chosen.filter((h) => h.kind === kind).reduce((a, h) => a + h.quantity, 0);
            if (sum === 0) continue;
            const cutAt = [...new Set(s.cuts.map((c) => Math.floor(c * sum)))]
              .filter((c) => c > 0 && c < sum)
              .sort((a, b) => a - b);
            const parts = [...cutAt, sum].map((c, n) => c - (n === 0 ? 0 : cutAt[n - 1]!));
            parts.forEach((q, n) => {
              outputs.push(out(keys[s.owners[n]!]!.owner, 0, shares(ids[kind]!, q)));
            });
          }
          if (s.delta !== 0) {
            const o = outputs[0]!;
            const b = o.bitmark as { id: Uint8Array; quantity: number };
            // a share less where there is only one would be 0 (another rule): take a share more then
            const q = b.quantity + s.delta >= 1 ? b.quantity + s.delta : b.quantity - s.delta;
            outputs[0] = out(o.owner, 0, shares(b.id, q));
          }
          const d = transfer(
            chosen.map((h) => spend(h.key, h.txid, h.vout)),
            outputs,
          );
          let accepted = true;
          try {
            check(d);
            l.apply(l.nextBlock([d], keys[0]!.owner));
          } catch (e) {
            if (!(e instanceof ValidationError)) throw e;
            accepted = false;
          }
          assert.equal(accepted, s.delta === 0, `delta ${s.delta}`);
          if (accepted) {
            for (const h of chosen) held.splice(held.indexOf(h), 1);
            outputs.forEach((o, vout) => {
              const b = o.bitmark as { id: Uint8Array; quantity: number };
              held.push({
                txid: d.txid,
                vout,
                key: keys.find((k) => toHex(k.owner) === toHex(o.owner))!,
                kind: toHex(b.id) === toHex(ids[0]!) ? 0 : 1,
                quantity: b.quantity,
              });
            });
          }
          // the ledger's own UTXO set holds each kind's total, whatever was tried
          for (const kind of [0, 1] as const) {
            const inLedger = [...l.coins.values()]
              .filter((c) => c.shares !== undefined && toHex(c.shares.id) === toHex(ids[kind]!))
              .reduce((a, c) => a + c.shares!.quantity, 0);
            assert.equal(inLedger, TOTALS[kind]);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

after(() => {
  const missing = SHARE_CODES.filter((c) => !covered.has(c as RejectCode));
  assert.deepEqual(missing, [], `share reject codes without a failing case: ${missing.join(', ')}`);
});
