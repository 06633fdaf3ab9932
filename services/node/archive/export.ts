/**
 * `cairnd export-blocks`: writes blocks of the active chain to an archive (format.ts). The file
 * is written under a temporary name, fsynced and renamed, so FILE is either absent or complete;
 * an interrupted export leaves no FILE (its temporary file is removed).
 */
import { Buffer } from 'node:buffer';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Chain } from '../chain/chain.ts';
import { ArchiveError, ArchiveUsageError } from './errors.ts';
import { ARCHIVE_VERSION, encodeEnd, encodeFileHeader, recordSize, writeRecord } from './format.ts';

/** Records are gathered into writes of about this size. */
const WRITE_CHUNK = 16 * 1024 * 1024;

export interface ExportOptions {
  /** First height (default 1: every node has genesis). */
  readonly from?: number;
  /** Last height (default: the tip). */
  readonly to?: number;
  /** Replace an existing FILE. */
  readonly force?: boolean;
  /** Stops the export between blocks; FILE is then not written. */
  readonly signal?: AbortSignal;
  /** Called after each block written, with its height. */
  readonly onBlock?: (height: number) => void;
}

export interface ExportResult {
  readonly file: string;
  readonly from: number;
  readonly to: number;
  readonly count: number;
  readonly bytes: number;
  readonly interrupted: boolean;
}

/** The heights an export covers, checked against the active chain. */
export function exportRange(
  chain: Chain,
  file: string,
  from?: number,
  to?: number,
): { from: number; to: number } {
  const tip = chain.tipHeight();
  const f = from ?? 1;
  const t = to ?? tip;
  const bad = (detail: string) => new ArchiveUsageError('archive-bad-range', file, undefined, detail);
  if (!Number.isInteger(f) || !Number.isInteger(t) || f < 0 || t < 0)
    throw bad(`--from and --to are heights (whole numbers ≥ 0), not ${from} and ${to}`);
  if (t > tip) throw bad(`--to ${t} is above the tip of this node's chain (height ${tip})`);
  if (f > t)
    throw bad(
      tip === 0 && from === undefined
        ? 'nothing to export: the chain holds only its genesis block'
        : `--from ${f} is above --to ${t}`,
    );
  // genesis is never pruned; blocks 1 to the prune height may be
  if (chain.pruneHeight > 0 && Math.max(f, 1) <= Math.min(t, chain.pruneHeight))
    throw bad(
      `block pruned: this node pruned the blocks up to height ${chain.pruneHeight} (Block not available (pruned data)); export from --from ${chain.pruneHeight + 1}, or from a node that keeps every block`,
    );
  return { from: f, to: t };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export async function exportBlocks(
  chain: Chain,
  file: string,
  opts: ExportOptions = {},
): Promise<ExportResult> {
  const { from, to } = exportRange(chain, file, opts.from, opts.to);
  if (!opts.force && (await exists(file)))
    throw new ArchiveUsageError(
      'archive-exists',
      file,
      undefined,
      'the file exists; use --force to replace it',
    );
  // the hashes first: what is exported is the active chain as it was when the export started
  const hashes: Uint8Array[] = [];
  for (let h = from; h <= to; h++) hashes.push(chain.entryAt(h)!.hash);

  const temp = `${file}.${process.pid}.tmp`;
  const unwritable = (e: unknown) =>
    e instanceof ArchiveError
      ? e
      : new ArchiveError('archive-unwritable', file, undefined, (e as Error).message, { cause: e });
  let fh: FileHandle;
  try {
    fh = await open(temp, 'wx', 0o644);
  } catch (e) {
    throw unwritable(e);
  }
  let bytes = 0;
  let done = false;
  try {
    const buf = Buffer.allocUnsafe(WRITE_CHUNK);
    let n = 0;
    const flush = async () => {
      await fh.write(buf, 0, n);
      bytes += n;
      n = 0;
    };
    const header = encodeFileHeader({
      version: ARCHIVE_VERSION,
      genesisHash: chain.params.genesisHash,
      from,
    });
    n += header.copy(buf, 0);
    for (let i = 0; i < hashes.length; i++) {
      if (opts.signal?.aborted) return { file, from, to, count: i, bytes, interrupted: true };
      const raw = chain.getRawBlock(hashes[i]!);
      if (raw === undefined)
        throw new ArchiveError(
          'archive-bad-range',
          file,
          undefined,
          `the block at height ${from + i} has no data in this node's database`,
        );
      if (n + recordSize(raw.length) > buf.length) await flush();
      n = writeRecord(buf, n, raw);
      opts.onBlock?.(from + i);
    }
    const end = encodeEnd(hashes.length, hashes.at(-1)!);
    if (n + end.length > buf.length) await flush();
    n += end.copy(buf, n);
    await flush();
    await fh.sync();
    await fh.close();
    await rename(temp, file);
    await syncDir(dirname(file));
    done = true;
    return { file, from, to, count: hashes.length, bytes, interrupted: false };
  } catch (e) {
    throw unwritable(e);
  } finally {
    if (!done) {
      await fh.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    }
  }
}
