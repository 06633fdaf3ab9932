/**
 * Bitcoin's compact target encoding ("nBits"), proof-of-work checks and chain work.
 *
 * nBits is a base-256 float: the top byte is the size in bytes (exponent), the low 23 bits the
 * mantissa and bit 0x00800000 a sign bit. Decoding and encoding follow Bitcoin Core's
 * arith_uint256::SetCompact / GetCompact bit for bit, including the 256-bit truncation of
 * overflowing values and the negative / overflow flags.
 */
import { UsageError } from '../errors.ts';

const MAX_U256 = (1n << 256n) - 1n;
const TWO_256 = 1n << 256n;

export interface DecodedCompact {
  /** The magnitude, truncated to 256 bits as arith_uint256 does (meaningless when `overflow`). */
  target: bigint;
  /** The sign bit was set on a non-zero mantissa. */
  negative: boolean;
  /** The value does not fit in 256 bits. */
  overflow: boolean;
}

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) {
    throw new UsageError(`compact bits must be a uint32, got ${bits}`);
  }
}

function checkU256(v: bigint, what: string): void {
  if (v < 0n || v > MAX_U256) {
    throw new UsageError(`${what} must be a 256-bit unsigned integer`);
  }
}

/** Bitcoin Core's arith_uint256::SetCompact. */
export function decodeCompact(bits: number): DecodedCompact {
  checkBits(bits);
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    // arith_uint256's <<= drops whatever leaves the 256 bits.
    target = (BigInt(word) << BigInt(8 * (size - 3))) & MAX_U256;
  }
  const negative = word !== 0 && (bits & 0x00800000) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

/** Number of significant bits of a non-negative bigint (0 for 0). */
function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** Bitcoin Core's arith_uint256::GetCompact(false): the canonical nBits of a 256-bit target. */
export function encodeCompact(target: bigint): number {
  checkU256(target, 'target');
  let size = Math.floor((bitLength(target) + 7) / 8);
  let compact: number;
  if (size <= 3) {
    compact = Number(target) * 2 ** (8 * (3 - size));
  } else {
    compact = Number((target >> BigInt(8 * (size - 3))) & 0xffffffffn);
  }
  // 0x00800000 is the sign bit: if the mantissa would set it, move one byte into the exponent.
  if (compact & 0x00800000) {
    compact >>>= 8;
    size++;
  }
  return ((size << 24) | compact) >>> 0;
}

/**
 * The target nBits commits to, or null when the encoding is not acceptable for a block header:
 * negative, zero, overflowing or easier than `powLimit` (Bitcoin's CheckProofOfWork rules).
 */
export function targetFromBits(bits: number, powLimit: bigint): bigint | null {
  const { target, negative, overflow } = decodeCompact(bits);
  if (negative || overflow || target === 0n || target > powLimit) {
    return null;
  }
  return target;
}

/**
 * Expected number of hashes to find a block at `target`: 2^256 / (target + 1)
 * (Bitcoin's GetBlockProof). Chain work is the sum of this over the chain.
 */
export function workFromTarget(target: bigint): bigint {
  checkU256(target, 'target');
  if (target === 0n) {
    throw new UsageError('target must be positive');
  }
  return TWO_256 / (target + 1n);
}

/** A 256-bit target as 32 little-endian bytes, the layout hashes have (see hashMeetsTargetBytes). */
export function targetToLeBytes(target: bigint): Uint8Array {
  checkU256(target, 'target');
  const hex = target.toString(16).padStart(64, '0');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    // Byte i (little-endian) is hex digits [62 - 2i, 64 - 2i).
    out[i] = Number.parseInt(hex.slice(62 - 2 * i, 64 - 2 * i), 16);
  }
  return out;
}

/**
 * Whether a 32-byte hash, read as a little-endian 256-bit integer, is <= the target given as
 * 32 little-endian bytes (targetToLeBytes). Compares from the most significant byte down, with
 * no allocation: the per-header proof-of-work check.
 */
export function hashMeetsTargetBytes(hash32: Uint8Array, targetLe: Uint8Array): boolean {
  if (hash32.length !== 32 || targetLe.length !== 32) {
    throw new UsageError('hash and target must be 32 bytes');
  }
  for (let i = 31; i >= 0; i--) {
    const h = hash32[i]!;
    const t = targetLe[i]!;
    if (h !== t) {
      return h < t;
    }
  }
  return true; // equal: hash == target passes
}

/**
 * Whether a 32-byte little-endian hash is <= target. Converts the target on every call; when
 * checking many headers against one target, convert once with targetToLeBytes and use
 * hashMeetsTargetBytes.
 */
export function hashMeetsTarget(hash32: Uint8Array, target: bigint): boolean {
  return hashMeetsTargetBytes(hash32, targetToLeBytes(target));
}
