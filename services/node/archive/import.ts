/**
 * `cairnd import-blocks`: connects the blocks of an archive exactly as sync connects a peer's
 * (services/node/p2p/sync.ts): each batch is prepared on the verify workers (Chain.prepare:
 * decoded, checked, signatures verified) while the batch before it is connected by
 * Chain.processBlocks, one storage commit per batch. Every rule a peer's block meets applies.
 *
 * Two passes: the whole file is read and checked first (framing, checksums, links, end record),
 * so a damaged file is refused before anything is applied; then the blocks are applied. The
 * blocks already in the active chain at the start of the file are skipped (checked by hash), so
 * an interrupted import resumes where it stopped. A block that breaks a rule stops the import at
 * its offset; the blocks before it stay (each was validated and committed).
 */
import { blockTxCount } from '../../../shared/core/block/codec.ts';
import { equalBytes, hashToHex } from '../../../shared/core/bytes.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Chain } from '../chain/chain.ts';
import { ArchiveError } from './errors.ts';
import { ArchiveReader, type ArchiveRecord, type ArchiveSummary, scanArchive } from './reader.ts';

export interface ImportOptions {
  readonly logger: Logger;
  /** Stops the import after the batches already read are committed. */
  readonly signal?: AbortSignal;
  /** Called after each committed batch (progress). */
  readonly onBatch?: (tipHeight: number, summary: ArchiveSummary) => void;
  /** Called once the file is checked, before anything is applied. */
  readonly onChecked?: (summary: ArchiveSummary, tipHeight: number) => void;
  /** Blocks per storage commit (default 64). */
  readonly batchBlocks?: number;
  /** Raw bytes per storage commit (default 4 MB). */
  readonly batchBytes?: number;
}

export interface ImportResult {
  readonly file: string;
  /** Heights of the file's first and last blocks. */
  readonly from: number;
  readonly to: number;
  readonly blocks: number;
  /** Blocks already in the active chain (a resumed import, or blocks the node had). */
  readonly skipped: number;
  /** Blocks processed: connected (or stored on a side branch, or known). */
  readonly processed: number;
  readonly txs: number;
  readonly tipHeight: number;
  readonly interrupted: boolean;
  readonly checkSeconds: number;
  readonly applySeconds: number;
}

interface Staged {
  readonly records: ArchiveRecord[];
  readonly items: Uint8Array[];
  readonly ready: Promise<void> | undefined;
}

export async function importBlocks(chain: Chain, file: string, opts: ImportOptions): Promise<ImportResult> {
  const log = opts.logger;
  const maxBlocks = opts.batchBlocks ?? 64;
  const maxBytes = opts.batchBytes ?? 4_000_000;
  const t0 = performance.now();
  const summary = await scanArchive(file, chain.params);
  const checkSeconds = (performance.now() - t0) / 1000;
  opts.onChecked?.(summary, chain.tipHeight());

  const t1 = performance.now();
  const reader = await ArchiveReader.open(file, chain.params);
  let skipped = 0;
  let processed = 0;
  let txs = 0;
  let skipping = true;
  let interrupted = false;
  const queue: Staged[] = [];

  // prepare the blocks on the verify workers now; connected later, in file order
  const stage = (records: ArchiveRecord[]): Staged => {
    const items = records.map((r) => r.raw);
    const ready = chain.prepare(items);
    ready?.catch(() => undefined); // awaited in apply; marked handled until then
    return { records, items, ready };
  };

  const apply = async (s: Staged): Promise<void> => {
    if (s.ready !== undefined) await s.ready;
    const results = chain.processBlocks(s.items);
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      const rec = s.records[i]!;
      if (r.status === 'invalid')
        throw new ArchiveError(
          'archive-invalid-block',
          file,
          rec.offset,
          `the block at height ${rec.height} (${hashToHex(rec.hash)}) is invalid: ${r.error?.message ?? 'rejected'}; the blocks before it were imported and stay (the chain is at height ${chain.tipHeight()})`,
          { cause: r.error },
        );
      if (r.status === 'orphan') throw noParent(rec);
      processed++;
      txs += blockTxCount(s.items[i]!); // it was connected: its bytes decode
    }
    opts.onBatch?.(chain.tipHeight(), summary);
  };

  const noParent = (rec: ArchiveRecord) =>
    new ArchiveError(
      'archive-no-parent',
      file,
      rec.offset,
      `the block at height ${rec.height} builds on a block this node does not have (its chain ends at height ${chain.tipHeight()}): import the blocks before it first`,
    );

  try {
    let batch: ArchiveRecord[] = [];
    let bytes = 0;
    for await (const rec of reader.records()) {
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      if (skipping) {
        const known = chain.entryAt(rec.height);
        if (known !== undefined && equalBytes(known.hash, rec.hash)) {
          skipped++;
          continue;
        }
        skipping = false;
        if (skipped > 0)
          log.info(
            { skipped, height: rec.height - 1 },
            `resuming: the blocks up to height ${rec.height - 1} are already in the chain`,
          );
        if (chain.entry(rec.raw.subarray(4, 36)) === undefined) throw noParent(rec);
      }
      batch.push(rec);
      bytes += rec.raw.length;
      if (batch.length >= maxBlocks || bytes >= maxBytes) {
        queue.push(stage(batch));
        batch = [];
        bytes = 0;
        // one batch on the workers while the one before is connected on this thread
        if (queue.length >= 2) await apply(queue.shift()!);
      }
    }
    if (!interrupted && batch.length > 0) queue.push(stage(batch));
    while (queue.length > 0) await apply(queue.shift()!);
  } finally {
    await reader.close();
  }
  return {
    file,
    from: summary.header.from,
    to: summary.to,
    blocks: summary.count,
    skipped,
    processed,
    txs,
    tipHeight: chain.tipHeight(),
    interrupted,
    checkSeconds,
    applySeconds: (performance.now() - t1) / 1000,
  };
}
