/**
 * Builds the protocol test vectors (test/vectors/core.json) from fixed keys and deterministic
 * (RFC 6979) signatures. `npm run vectors` rewrites the file; test/unit/core/vectors.test.ts
 * recomputes every value and checks that docs/protocol.md quotes them.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeAddress, ownerOf } from '../shared/core/address.ts';
import { decodeBlock } from '../shared/core/block/codec.ts';
import { merkleRoot } from '../shared/core/block/merkle.ts';
import { hashToHex, hexToBytes, toHex } from '../shared/core/bytes.ts';
import { Writer } from '../shared/core/encoding/writer.ts';
import { LOCAL, MAIN, NETWORKS, TEST } from '../shared/core/params/networks.ts';
import { decodeCompact } from '../shared/core/pow/compact.ts';
import { toDecodedTx } from '../shared/core/tx/codec.ts';
import { assetIdOf, bitmarkIdOf, signatureHash } from '../shared/core/tx/ids.ts';
import { MINT, NO_BITMARK } from '../shared/core/tx/types.ts';
import { requiredBits } from '../shared/core/validation/header-context.ts';
import { publicKeyOf } from '../shared/crypto/keys.ts';
import { signTx } from '../shared/crypto/sign-tx.ts';

/** Private keys 1, 2, 3 (as 32-byte big-endian scalars): public, reproducible anywhere. */
export function vectorKey(n: number) {
  const privateKey = new Uint8Array(32);
  privateKey[31] = n;
  const pubkey = publicKeyOf(privateKey);
  return { privateKey, pubkey, owner: ownerOf(pubkey) };
}

export function buildVectors() {
  const [k1, k2] = [vectorKey(1), vectorKey(2)];
  const g = LOCAL.genesisHash;
  const prev = hexToBytes('11'.repeat(32));

  const transfer = toDecodedTx(
    signTx(
      {
        version: 1,
        kind: 'transfer',
        inputs: [{ prevTxid: prev, vout: 0, pubkey: k1.pubkey, privateKey: k1.privateKey }],
        outputs: [
          { owner: k2.owner, amount: 100_000, bitmark: NO_BITMARK },
          { owner: k1.owner, amount: 50_000, bitmark: NO_BITMARK },
        ],
      },
      g,
    ),
  );
  const fingerprint = new TextEncoder().encode(
    'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  );
  const asset = toDecodedTx(
    signTx(
      {
        version: 1,
        kind: 'asset',
        asset: { name: 'Test asset', fingerprint, metadata: new TextEncoder().encode('{"creator":"key 1"}') },
        inputs: [{ prevTxid: transfer.txid, vout: 1, pubkey: k1.pubkey, privateKey: k1.privateKey }],
        outputs: [{ owner: k1.owner, amount: 49_000, bitmark: NO_BITMARK }],
      },
      g,
    ),
  );
  const assetId = assetIdOf(fingerprint);
  const issue = toDecodedTx(
    signTx(
      {
        version: 1,
        kind: 'issue',
        assetId,
        inputs: [{ prevTxid: asset.txid, vout: 0, pubkey: k1.pubkey, privateKey: k1.privateKey }],
        outputs: [
          { owner: k1.owner, amount: 0, bitmark: MINT },
          { owner: k1.owner, amount: 0, bitmark: MINT },
          { owner: k1.owner, amount: 48_000, bitmark: NO_BITMARK },
        ],
      },
      g,
    ),
  );
  const bitmark0 = bitmarkIdOf(issue.txid, 0);
  // key 1 splits bitmark0 into 1,000 shares: 600 stay, 400 go to key 2
  const split = toDecodedTx(
    signTx(
      {
        version: 1,
        kind: 'split',
        bitmarkId: bitmark0,
        total: 1000,
        inputs: [{ prevTxid: issue.txid, vout: 0, pubkey: k1.pubkey, privateKey: k1.privateKey }],
        outputs: [
          { owner: k1.owner, amount: 0, bitmark: { type: 'shares', id: bitmark0, quantity: 600 } },
          { owner: k2.owner, amount: 0, bitmark: { type: 'shares', id: bitmark0, quantity: 400 } },
        ],
      },
      g,
    ),
  );
  // one atomic swap: key 1's 600 shares -> 100 to key 2 (500 back), key 2's coin (a made-up output
  // of 10 coins, txid all 0x22) -> 5 coins to key 1, the rest back less a 1,000 fee; each signs its input
  const swap = toDecodedTx(
    signTx(
      {
        version: 1,
        kind: 'transfer',
        inputs: [
          { prevTxid: split.txid, vout: 0, pubkey: k1.pubkey, privateKey: k1.privateKey },
          { prevTxid: hexToBytes('22'.repeat(32)), vout: 0, pubkey: k2.pubkey, privateKey: k2.privateKey },
        ],
        outputs: [
          { owner: k2.owner, amount: 0, bitmark: { type: 'shares', id: bitmark0, quantity: 100 } },
          { owner: k1.owner, amount: 0, bitmark: { type: 'shares', id: bitmark0, quantity: 500 } },
          { owner: k1.owner, amount: 500_000_000, bitmark: NO_BITMARK },
          { owner: k2.owner, amount: 499_999_000, bitmark: NO_BITMARK },
        ],
      },
      g,
    ),
  );
  const coinbase = toDecodedTx({
    version: 1,
    kind: 'coinbase',
    height: 1,
    data: new TextEncoder().encode('vector'),
    outputs: [{ owner: k2.owner, amount: 2_500_000_000, bitmark: NO_BITMARK }],
  });

  const txVector = (d: typeof transfer) => ({
    hex: toHex(d.raw),
    txid: hashToHex(d.txid),
    unsignedLength: d.unsignedLength,
  });
  return {
    note: 'Hashes are shown byte-reversed (display order), as Bitcoin does; hex fields are raw bytes in wire order.',
    keys: [1, 2].map((n) => {
      const k = vectorKey(n);
      return {
        privateKey: toHex(k.privateKey),
        pubkey: toHex(k.pubkey),
        owner: toHex(k.owner),
        addresses: {
          main: encodeAddress(MAIN.addressPrefix, k.owner),
          test: encodeAddress(TEST.addressPrefix, k.owner),
          local: encodeAddress(LOCAL.addressPrefix, k.owner),
        },
      };
    }),
    varints: [0, 127, 128, 300, 16384, 2 ** 32, Number.MAX_SAFE_INTEGER].map((v) => ({
      value: v,
      hex: toHex(new Writer().varint(v).finish()),
    })),
    genesis: Object.values(NETWORKS).map((p) => ({
      network: p.name,
      hash: hashToHex(p.genesisHash),
      block: toHex(p.genesisBlock),
      coinbaseTxid: hashToHex(decodeBlock(p.genesisBlock).txs[0]!.txid),
      bits: `0x${p.powLimitBits.toString(16)}`,
    })),
    transactions: {
      coinbase: txVector(coinbase),
      transfer: { ...txVector(transfer), sighash0: toHex(signatureHash(g, transfer, 0)), network: 'local' },
      asset: { ...txVector(asset), assetId: hashToHex(assetId), network: 'local' },
      issue: {
        ...txVector(issue),
        bitmark0: hashToHex(bitmark0),
        bitmark1: hashToHex(bitmarkIdOf(issue.txid, 1)),
        network: 'local',
      },
      split: { ...txVector(split), network: 'local' },
    },
    shareSwap: { ...txVector(swap), sighash1: toHex(signatureHash(g, swap, 1)), network: 'local' },
    merkle: {
      leaves: [coinbase, transfer, asset].map((d) => hashToHex(d.txid)),
      root: hashToHex(merkleRoot([coinbase.txid, transfer.txid, asset.txid])),
    },
    compact: [0x1d00ffff, 0x1e00ffff, 0x207fffff, 0x05009234].map((bits) => ({
      bits: `0x${bits.toString(16).padStart(8, '0')}`,
      target: decodeCompact(bits).target.toString(16),
    })),
    // anchorTime: block 1's time; here the networks launch 30 days after their genesis
    asert: [
      { network: 'test', parentHeight: 1, ahead: 0 },
      { network: 'test', parentHeight: 100, ahead: 0 },
      { network: 'test', parentHeight: 100, ahead: TEST.asertHalfLife },
      { network: 'test', parentHeight: 100, ahead: 2 * TEST.asertHalfLife + 17 },
      { network: 'main', parentHeight: 5000, ahead: 3600 },
    ].map(({ network, parentHeight, ahead }) => {
      const p = NETWORKS[network as 'test' | 'main'];
      const anchorTime = p.genesisTime + 30 * 86_400;
      const parentTime = anchorTime + (parentHeight - 1) * p.targetSpacing - ahead;
      return {
        network,
        parentHeight,
        parentTime,
        anchorTime,
        bits: `0x${requiredBits({ height: parentHeight, time: parentTime, anchorTime }, p).toString(16)}`,
      };
    }),
  };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const file = fileURLToPath(new URL('../test/vectors/core.json', import.meta.url));
  writeFileSync(file, `${JSON.stringify(buildVectors(), null, 2)}\n`);
  console.log(`wrote ${file}`);
}
