/** Raw blocks and header records on LMDB (`blocks`, `headers`): what the header tree is loaded from. */
import { Buffer } from 'node:buffer';
import type { BlockHeader } from '../../../shared/core/block/types.ts';
import type { BinaryDb, ChainDb } from '../db/chain-db.ts';
import {
  type BlockStatusValue,
  decodeHeaderRecord,
  encodeHeaderRecord,
  type HeaderRecord,
} from '../db/records.ts';

export class BlockStore {
  readonly #blocks: BinaryDb;
  readonly #headers: BinaryDb;

  constructor(db: ChainDb) {
    this.#blocks = db.db('blocks');
    this.#headers = db.db('headers');
  }

  putBlock(hash: Uint8Array, raw: Uint8Array): void {
    this.#blocks.putSync(Buffer.from(hash), Buffer.from(raw.buffer, raw.byteOffset, raw.length));
  }

  getBlock(hash: Uint8Array): Uint8Array | undefined {
    return this.#blocks.get(Buffer.from(hash));
  }

  hasBlock(hash: Uint8Array): boolean {
    return this.#blocks.doesExist(Buffer.from(hash));
  }

  putHeader(
    hash: Uint8Array,
    header: BlockHeader,
    height: number,
    work: bigint,
    status: BlockStatusValue,
  ): void {
    this.#headers.putSync(
      Buffer.from(hash),
      Buffer.from(encodeHeaderRecord({ header, height, work, status })),
    );
  }

  /** Every stored header record, parents before children (by height). */
  allHeaders(): { hash: Uint8Array; record: HeaderRecord }[] {
    const out: { hash: Uint8Array; record: HeaderRecord }[] = [];
    for (const { key, value } of this.#headers.getRange({}))
      out.push({ hash: key, record: decodeHeaderRecord(value) });
    return out.sort((a, b) => a.record.height - b.record.height);
  }
}
