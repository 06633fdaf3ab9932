/**
 * Protocol test vectors: test/vectors/core.json must be exactly what the code computes, every
 * signature in it must verify on every backend, and docs/protocol.md must quote the key values.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildVectors } from '../../../scripts/gen-vectors.ts';
import { decodeBlock } from '../../../shared/core/block/codec.ts';
import { hashFromHex, hashToHex, hexToBytes } from '../../../shared/core/bytes.ts';
import { sha256d } from '../../../shared/core/hash.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { checkTransaction } from '../../../shared/core/tx/check.ts';
import { decodeTx } from '../../../shared/core/tx/codec.ts';
import { checkHeader } from '../../../shared/core/validation/block-check.ts';
import { DEFAULT_LOADERS } from '../../../shared/crypto/load.ts';

const file = (rel: string) => readFileSync(new URL(`../../../${rel}`, import.meta.url), 'utf8');
const stored = JSON.parse(file('test/vectors/core.json'));
const doc = file('docs/protocol.md');

describe('protocol test vectors', () => {
  it('the checked-in vectors are what the code computes (regenerate with npm run vectors)', () => {
    assert.deepEqual(buildVectors(), stored);
  });

  it('each tx vector decodes, hashes to its txid and passes the stateless rules on every backend', () => {
    for (const [kind, v] of Object.entries(stored.transactions) as [
      string,
      { hex: string; txid: string },
    ][]) {
      const d = decodeTx(hexToBytes(v.hex));
      assert.equal(d.tx.kind, kind);
      assert.equal(hashToHex(sha256d(d.raw)), v.txid);
      for (const load of Object.values(DEFAULT_LOADERS)) checkTransaction(d, LOCAL, load());
    }
  });

  it('the share swap vector (two owners, coins for shares) decodes and passes the stateless rules', () => {
    const v = stored.shareSwap;
    const d = decodeTx(hexToBytes(v.hex));
    assert.equal(d.tx.kind, 'transfer');
    assert.equal(hashToHex(d.txid), v.txid);
    for (const load of Object.values(DEFAULT_LOADERS)) checkTransaction(d, LOCAL, load());
  });

  it('genesis vectors hash and meet their own proof of work', () => {
    for (const g of stored.genesis) {
      const b = decodeBlock(hexToBytes(g.block));
      assert.equal(hashToHex(b.hash), g.hash);
      assert.deepEqual(hashFromHex(g.hash), Uint8Array.from(b.hash));
    }
    const local = decodeBlock(LOCAL.genesisBlock);
    checkHeader(local.header, local.hash, LOCAL);
  });

  it('docs/protocol.md quotes the vectors', () => {
    const quoted = [
      ...stored.keys.flatMap((k: { pubkey: string; owner: string; addresses: Record<string, string> }) => [
        k.pubkey,
        k.owner,
        ...Object.values(k.addresses),
      ]),
      ...stored.varints.map((v: { hex: string }) => v.hex),
      ...stored.genesis.map((g: { hash: string }) => g.hash),
      stored.genesis.find((g: { network: string }) => g.network === 'local').block,
      ...Object.values(stored.transactions).map((t) => (t as { hex: string }).hex),
      ...Object.values(stored.transactions).map((t) => (t as { txid: string }).txid),
      stored.transactions.transfer.sighash0,
      stored.transactions.asset.assetId,
      stored.transactions.issue.bitmark0,
      stored.shareSwap.hex,
      stored.shareSwap.txid,
      stored.shareSwap.sighash1,
      stored.merkle.root,
      ...stored.asert.map((a: { bits: string }) => a.bits),
    ];
    const flat = doc.replace(/\s+/g, '');
    const missing = quoted.filter((q) => !flat.includes(q));
    assert.deepEqual(missing, [], 'values missing from docs/protocol.md');
  });
});
