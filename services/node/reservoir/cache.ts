/**
 * The reservoir cache file: the pool saved at shutdown and re-validated at start.
 *
 * Format (integers little-endian):
 *   magic 'CAIRNRES' (8 bytes) | version u32 | genesis hash of the network (32 bytes)
 *   entries, parents before children: length u32 | raw tx | time added u64 (seconds)
 *   SHA-256 of every byte before it (32 bytes)
 *
 * Saving writes a temporary file in the same directory, fsyncs it, renames it over the old file and
 * fsyncs the directory, so a crash leaves the old file or the new one, never a mix. Loading never
 * throws: a missing file is an empty pool; a damaged, foreign or unknown-version file is reported
 * as a CacheError (for the caller to log) and skipped; entries that fail re-validation are counted.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { equalBytes, hashToHex } from '../../../shared/core/bytes.ts';
import { CairnError } from '../../../shared/core/errors.ts';
import { MAX_TX_SIZE, MIN_TX_SIZE } from '../../../shared/core/limits.ts';
import { decodeTx } from '../../../shared/core/tx/codec.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import type { Logger } from '../../../shared/log.ts';
import { CacheError } from './errors.ts';
import type { Reservoir } from './reservoir.ts';
import { topological } from './select.ts';

export const CACHE_MAGIC = 'CAIRNRES';
export const CACHE_VERSION = 1;
const MAGIC = Buffer.from(CACHE_MAGIC, 'latin1');
export const CACHE_HEADER_SIZE = MAGIC.length + 4 + 32;
const CHECKSUM_SIZE = 32;
/** length u32 + time u64 around each raw transaction. */
const ENTRY_FRAMING = 12;
/** Larger files are refused unread (a pool is capped far below this). */
export const MAX_CACHE_FILE_SIZE = 2 ** 31 - 1;
const WRITE_CHUNK = 1 << 20;

export interface CacheRecord {
  readonly tx: DecodedTx;
  /** Seconds; when the transaction entered the pool. */
  readonly time: number;
}

export function cacheHeader(genesisHash: Uint8Array, version = CACHE_VERSION): Buffer {
  const h = Buffer.alloc(CACHE_HEADER_SIZE);
  MAGIC.copy(h, 0);
  h.writeUInt32LE(version, MAGIC.length);
  h.set(genesisHash, MAGIC.length + 4);
  return h;
}

function frame(raw: Uint8Array, time: number): Buffer {
  const b = Buffer.allocUnsafe(ENTRY_FRAMING + raw.length);
  b.writeUInt32LE(raw.length, 0);
  b.set(raw, 4);
  b.writeBigUInt64LE(BigInt(Math.max(0, Math.floor(time))), 4 + raw.length);
  return b;
}

/** Whole file image of `records` (tests and small pools; saving streams the same bytes). */
export function encodeReservoirCache(
  records: Iterable<{ readonly raw: Uint8Array; readonly time: number }>,
  genesisHash: Uint8Array,
  version = CACHE_VERSION,
): Buffer {
  const parts: Buffer[] = [cacheHeader(genesisHash, version)];
  for (const r of records) {
    parts.push(frame(r.raw, r.time));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/**
 * Checks and decodes a cache file image. Throws CacheError; the number of entries read is bounded by
 * the file size (each takes at least 12 + 4 bytes and the loop always advances).
 */
export function decodeReservoirCache(file: Uint8Array, genesisHash: Uint8Array): CacheRecord[] {
  const b = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (b.length < CACHE_HEADER_SIZE + CHECKSUM_SIZE) {
    throw new CacheError('truncated', `${b.length} bytes is shorter than a header and checksum`);
  }
  if (!b.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CacheError('bad-magic', 'not a reservoir cache file');
  }
  const version = b.readUInt32LE(MAGIC.length);
  if (version !== CACHE_VERSION) {
    throw new CacheError('bad-version', `version ${version}, this node reads ${CACHE_VERSION}`);
  }
  const network = b.subarray(MAGIC.length + 4, CACHE_HEADER_SIZE);
  if (!equalBytes(network, genesisHash)) {
    throw new CacheError(
      'wrong-network',
      `written for genesis ${hashToHex(network)}, this node is on ${hashToHex(genesisHash)}`,
    );
  }
  const end = b.length - CHECKSUM_SIZE;
  const sum = createHash('sha256').update(b.subarray(0, end)).digest();
  if (!sum.equals(b.subarray(end))) {
    throw new CacheError('bad-checksum', 'checksum mismatch (truncated or damaged)');
  }
  const out: CacheRecord[] = [];
  let pos = CACHE_HEADER_SIZE;
  while (pos < end) {
    if (end - pos < ENTRY_FRAMING + MIN_TX_SIZE) {
      throw new CacheError('truncated', `entry ${out.length} at byte ${pos}: ${end - pos} bytes left`);
    }
    const len = b.readUInt32LE(pos);
    if (len > MAX_TX_SIZE || len > end - pos - ENTRY_FRAMING) {
      throw new CacheError('bad-entry', `entry ${out.length} at byte ${pos}: length ${len} out of bounds`);
    }
    // A copy: pool entries must not keep the whole file in memory.
    const raw = new Uint8Array(b.subarray(pos + 4, pos + 4 + len));
    const time = Number(b.readBigUInt64LE(pos + 4 + len));
    let tx: DecodedTx;
    try {
      tx = decodeTx(raw);
    } catch (err) {
      throw new CacheError('bad-entry', `entry ${out.length} at byte ${pos}: ${String(err)}`);
    }
    out.push({ tx, time });
    pos += ENTRY_FRAMING + len;
  }
  return out;
}

/** Saves the pool, parents before children, atomically. Returns what was written. */
export async function saveReservoirCache(
  path: string,
  reservoir: Reservoir,
): Promise<{ count: number; bytes: number }> {
  const entries = [...reservoir.entries()].sort(topological);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const hash = createHash('sha256');
  let bytes = 0;
  const fh = await open(tmp, 'w', 0o600);
  try {
    const write = async (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      await fh.write(chunk);
    };
    await write(cacheHeader(reservoir.params.genesisHash));
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const e of entries) {
      const f = frame(e.tx.raw, e.time);
      batch.push(f);
      batchBytes += f.length;
      if (batchBytes >= WRITE_CHUNK) {
        await write(Buffer.concat(batch));
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) {
      await write(Buffer.concat(batch));
    }
    const digest = hash.digest();
    await fh.write(digest);
    bytes += digest.length;
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  await syncDirectory(dirname(path));
  return { count: entries.length, bytes };
}

async function syncDirectory(dir: string): Promise<void> {
  let dh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    dh = await open(dir, 'r');
    await dh.sync();
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await dh?.close();
  }
}

export type CacheLoadResult =
  | { readonly status: 'missing' }
  | {
      readonly status: 'loaded';
      /** Entries in the file. */
      readonly entries: number;
      readonly accepted: number;
      /** Entries that failed re-validation (now invalid, confirmed, conflicting...). */
      readonly rejected: number;
      /** Entries older than the pool's expiry, not re-validated. */
      readonly expired: number;
    }
  | { readonly status: 'skipped'; readonly error: CacheError };

/**
 * Loads the cache at `path` into `reservoir` through `accept`, in file order. Never throws: a
 * missing file gives status 'missing'; a file that cannot be used gives status 'skipped' with the
 * CacheError for the caller to log.
 */
export async function loadReservoirCache(
  path: string,
  reservoir: Reservoir,
  opts: { readonly now: number; readonly logger: Logger },
): Promise<CacheLoadResult> {
  let records: CacheRecord[];
  try {
    const st = await stat(path);
    if (st.size > MAX_CACHE_FILE_SIZE) {
      throw new CacheError('too-large', `${st.size} bytes > ${MAX_CACHE_FILE_SIZE}`);
    }
    records = decodeReservoirCache(await readFile(path), reservoir.params.genesisHash);
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ENOENT') {
      return { status: 'missing' };
    }
    return {
      status: 'skipped',
      error: err instanceof CacheError ? err : new CacheError('io', String(err)),
    };
  }
  const { now, logger } = opts;
  const expiry = reservoir.options.expirySeconds;
  let accepted = 0;
  let rejected = 0;
  let expired = 0;
  const reasons = new Map<string, number>();
  for (const r of records) {
    if (now - r.time > expiry) {
      expired++;
      continue;
    }
    try {
      // restore, not accept: no descendant limit (a reorg may have returned more than it allows)
      reservoir.restore(r.tx, Math.min(r.time, now));
      accepted++;
      continue;
    } catch (err) {
      const code = err instanceof CairnError ? err.code : 'error';
      reasons.set(code, (reasons.get(code) ?? 0) + 1);
      logger.debug({ txid: hashToHex(r.tx.txid), err: String(err) }, 'cached transaction rejected');
    }
    rejected++;
  }
  logger.info(
    { entries: records.length, accepted, rejected, expired, reasons: Object.fromEntries(reasons) },
    'reservoir cache loaded',
  );
  return { status: 'loaded', entries: records.length, accepted, rejected, expired };
}
