/**
 * A block prepared on a verify worker (issue 12): prepareBlock runs every stateless rule with the
 * signatures and hands over the txids and input owner hashes, and decodePreparedBlock decodes the
 * same bytes with them into the same block the ordinary decoder gives.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownerOf } from '../../../shared/core/address.ts';
import { decodeBlock, decodePreparedBlock } from '../../../shared/core/block/codec.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { toHex } from '../../../shared/core/bytes.ts';
import { ValidationError } from '../../../shared/core/errors.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { PreparedHashes } from '../../../shared/core/tx/prepared.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { prepareBlock } from '../../../shared/core/validation/block-prepare.ts';
import { checkTxInputs } from '../../../shared/core/validation/tx-inputs.ts';
import { loadVerifier } from '../../../shared/crypto/load.ts';
import { buildSpendingChain, MemoryLedger } from '../../helpers/chain.ts';

const { verifier } = loadVerifier('auto');
const chain = buildSpendingChain(16);
const RULES = { coinbaseMaturity: LOCAL.coinbaseMaturity, maxMoney: LOCAL.maxMoney };

describe('prepared blocks', () => {
  it('decode to the same block as the ordinary decoder, owners included', () => {
    let inputs = 0;
    for (const b of chain) {
      const pack = prepareBlock(b.raw, LOCAL, verifier);
      const plain = decodeBlock(b.raw);
      const prepared: DecodedBlock | undefined = decodePreparedBlock(b.raw, pack);
      if (prepared === undefined) assert.fail('a pack made for the block decodes');
      assert.equal(toHex(prepared.hash), toHex(plain.hash));
      assert.equal(prepared.txs.length, plain.txs.length);
      for (let i = 0; i < plain.txs.length; i++) {
        const p: DecodedTx = prepared.txs[i]!;
        const d = plain.txs[i]!;
        assert.equal(toHex(p.txid), toHex(d.txid));
        assert.deepEqual(p.tx, d.tx);
        assert.equal(p.unsignedLength, d.unsignedLength);
        assert.equal(d.inputOwners, undefined);
        if (d.tx.kind === 'coinbase') continue;
        const owners = d.tx.inputs.map((x) => toHex(ownerOf(x.pubkey))).join('');
        assert.equal(toHex(p.inputOwners!), owners);
        inputs += d.tx.inputs.length;
      }
    }
    assert.ok(inputs >= 28, `the chain spends: ${inputs} inputs`);
  });

  it('are refused with the rule broken: a bad signature, a merkle root that does not match', () => {
    const bad = buildSpendingChain(16, 14);
    assert.throws(
      () => prepareBlock(bad[13]!.raw, LOCAL, verifier),
      (e: unknown) => e instanceof ValidationError && e.code === 'bad-txns-sig',
    );
    const mutated = Uint8Array.from(chain[14]!.raw);
    mutated[40]! ^= 1; // inside the header's merkle root
    assert.throws(
      () => prepareBlock(mutated, LOCAL, verifier),
      (e: unknown) => e instanceof ValidationError && ['bad-txnmrklroot', 'high-hash'].includes(e.code),
    );
  });

  it('a pack not made for the block is not used (decoded the ordinary way instead)', () => {
    const a = chain[13]!;
    const pack = prepareBlock(a.raw, LOCAL, verifier);
    assert.equal(decodePreparedBlock(a.raw, pack.subarray(0, pack.length - 20)), undefined, 'too short');
    const longer = new Uint8Array(pack.length + 20);
    longer.set(pack);
    assert.equal(decodePreparedBlock(a.raw, longer), undefined, 'too long');
    assert.equal(decodePreparedBlock(chain[12]!.raw, pack), undefined, 'another block');
    const n = a.txs.length;
    let inputs = 0;
    for (const d of a.txs) if (d.tx.kind !== 'coinbase') inputs += d.tx.inputs.length;
    assert.equal(pack.length, PreparedHashes.size(n, inputs));
  });

  it('the owner hashes handed over are the ones validation compares with the coin', () => {
    // replay the chain to the block before the last, then check the last's spends
    const ledger = new MemoryLedger();
    for (const b of chain.slice(0, -1)) ledger.apply(b);
    const last = chain[chain.length - 1]!;
    const prepared = decodePreparedBlock(last.raw, prepareBlock(last.raw, LOCAL, verifier))!;
    const spender = prepared.txs.find((d) => d.tx.kind !== 'coinbase' && d.tx.inputs.length === 8)!;
    assert.ok(spender !== undefined);
    checkTxInputs(spender, ledger, ledger.height + 1, RULES);
    // the same transaction with another owner hash handed over for its first input: refused
    const wrong = Uint8Array.from(spender.inputOwners!);
    wrong[0]! ^= 0xff;
    assert.throws(
      () => checkTxInputs({ ...spender, inputOwners: wrong }, ledger, ledger.height + 1, RULES),
      (e: unknown) => e instanceof ValidationError && e.code === 'bad-txns-wrong-owner',
    );
  });
});
