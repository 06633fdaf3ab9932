/** fast-check generators of every encodable value of the core. */
import fc from 'fast-check';
import type { BlockHeader } from '../../shared/core/block/types.ts';
import {
  MINT,
  NO_BITMARK,
  type OutputBitmark,
  type Transaction,
  type TxInput,
  type TxOutput,
} from '../../shared/core/tx/types.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const amount = fc.oneof(fc.nat(1000), fc.maxSafeNat());

export const arbBitmark: fc.Arbitrary<OutputBitmark> = fc.oneof(
  fc.constant(NO_BITMARK),
  fc.constant(MINT),
  bytes(32).map((id): OutputBitmark => ({ type: 'carry', id })),
  fc.record({ id: bytes(32), quantity: amount }).map((s): OutputBitmark => ({ type: 'shares', ...s })),
);

export const arbOutput: fc.Arbitrary<TxOutput> = fc.record({ owner: bytes(20), amount, bitmark: arbBitmark });

export const arbInput: fc.Arbitrary<TxInput> = fc.record({
  prevTxid: bytes(32),
  vout: fc.nat(0xffffffff),
  pubkey: bytes(33),
  signature: bytes(64),
});

const inputs = fc.array(arbInput, { maxLength: 4 });
const outputs = fc.array(arbOutput, { maxLength: 4 });
const version = fc.oneof(fc.constant(1), fc.nat(1_000_000));

export const arbTx: fc.Arbitrary<Transaction> = fc.oneof(
  fc.record({
    version,
    kind: fc.constant('coinbase' as const),
    height: fc.maxSafeNat(),
    data: fc.uint8Array({ maxLength: 64 }),
    outputs,
  }),
  fc.record({ version, kind: fc.constant('transfer' as const), inputs, outputs }),
  fc.record({
    version,
    kind: fc.constant('asset' as const),
    asset: fc.record({
      name: fc
        .string({ maxLength: 16, unit: 'grapheme' })
        .filter((s) => new TextEncoder().encode(s).length <= 64),
      fingerprint: fc.uint8Array({ maxLength: 100 }),
      metadata: fc.uint8Array({ maxLength: 100 }),
    }),
    inputs,
    outputs,
  }),
  fc.record({ version, kind: fc.constant('issue' as const), assetId: bytes(32), inputs, outputs }),
  fc.record({
    version,
    kind: fc.constant('split' as const),
    bitmarkId: bytes(32),
    total: amount,
    inputs,
    outputs,
  }),
);

export const arbHeader: fc.Arbitrary<BlockHeader> = fc.record({
  version: fc.nat(0xffffffff),
  prevHash: bytes(32),
  merkleRoot: bytes(32),
  time: fc.maxSafeNat(),
  bits: fc.nat(0xffffffff),
  nonce: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
});

/** Compares decoded values structurally (Uint8Array views vs copies compare by content). */
export function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) {
    return Buffer.from(v).toString('hex');
  }
  if (Array.isArray(v)) {
    return v.map(normalize);
  }
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}
