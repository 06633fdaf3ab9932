/**
 * Reads a block archive (format.ts) as a stream of checked block records: header, then each
 * record's length, checksum and link to the block before it, then the end record, and nothing
 * after it. A record is only yielded once all of its bytes are checked, so a consumer never sees
 * a damaged block; every problem is an ArchiveError naming the byte where the bad part starts.
 */
import { Buffer } from 'node:buffer';
import { type FileHandle, open } from 'node:fs/promises';
import { HEADER_SIZE } from '../../../shared/core/block/types.ts';
import { equalBytes, hashToHex } from '../../../shared/core/bytes.ts';
import { sha256d } from '../../../shared/core/hash.ts';
import { NETWORKS } from '../../../shared/core/params/networks.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import { ArchiveError } from './errors.ts';
import {
  ARCHIVE_MAGIC,
  ARCHIVE_VERSION,
  type ArchiveHeader,
  CHECK_SIZE,
  check,
  END_SIZE,
  FILE_HEADER_SIZE,
  HEADER_OFFSETS,
  isMagicPrefix,
  MAX_RECORD_BLOCK,
  MIN_RECORD_BLOCK,
  recordSize,
} from './format.ts';

/** Larger than the largest record, so one read always holds a whole record. */
const CHUNK = 16 * 1024 * 1024;

export interface ArchiveRecord {
  readonly height: number;
  /** Byte offset of the record (its length field) in the file. */
  readonly offset: number;
  /** The raw block: a copy, or with `copy: false` a view valid until the next record. */
  readonly raw: Uint8Array;
  readonly hash: Uint8Array;
  /** Bytes the record takes in the file. */
  readonly size: number;
}

export interface ArchiveSummary {
  readonly header: ArchiveHeader;
  readonly count: number;
  /** Height of the last block (from − 1 when there is none). */
  readonly to: number;
  readonly lastHash: Uint8Array;
  /** File size in bytes. */
  readonly size: number;
}

function networkOf(genesis: Uint8Array): string {
  const n = Object.values(NETWORKS).find((p) => equalBytes(p.genesisHash, genesis));
  return n === undefined ? `genesis ${hashToHex(genesis)}` : `network ${n.name}`;
}

export class ArchiveReader {
  readonly file: string;
  readonly header: ArchiveHeader;
  readonly size: number;
  readonly #fh: FileHandle;
  #buf = Buffer.allocUnsafe(0);
  /** File offset of #buf[0], valid bytes in #buf, read position in #buf. */
  #base = 0;
  #len = 0;
  #pos = 0;

  private constructor(file: string, fh: FileHandle, size: number, header: ArchiveHeader) {
    this.file = file;
    this.#fh = fh;
    this.size = size;
    this.header = header;
  }

  /** Opens `file` and checks its header against the node's network. */
  static async open(file: string, params: NetworkParams): Promise<ArchiveReader> {
    let fh: FileHandle;
    let size: number;
    try {
      fh = await open(file, 'r');
      size = (await fh.stat()).size;
    } catch (e) {
      throw new ArchiveError('archive-unreadable', file, undefined, (e as Error).message, { cause: e });
    }
    try {
      const h = Buffer.alloc(FILE_HEADER_SIZE);
      const { bytesRead } = await fh.read(h, 0, FILE_HEADER_SIZE, 0);
      const fail = (code: ConstructorParameters<typeof ArchiveError>[0], at: number, detail: string) =>
        new ArchiveError(code, file, at, detail);
      if (bytesRead === 0) throw fail('archive-truncated', 0, 'the file is empty');
      // a file cut inside the magic is a truncated archive, anything else there is not one
      if (!isMagicPrefix(h.subarray(0, Math.min(bytesRead, ARCHIVE_MAGIC.length))))
        throw fail('archive-bad-magic', 0, `not a Cairn block archive (no '${ARCHIVE_MAGIC}' at the start)`);
      if (bytesRead < FILE_HEADER_SIZE)
        throw fail(
          'archive-truncated',
          bytesRead,
          `the file ends inside its ${FILE_HEADER_SIZE}-byte header (${size} bytes)`,
        );
      const version = h.readUInt32LE(HEADER_OFFSETS.version);
      if (version !== ARCHIVE_VERSION)
        throw fail(
          'archive-bad-version',
          HEADER_OFFSETS.version,
          `archive version ${version}; this cairnd reads version ${ARCHIVE_VERSION}`,
        );
      if (!check(h.subarray(0, HEADER_OFFSETS.check)).equals(h.subarray(HEADER_OFFSETS.check)))
        throw fail(
          'archive-bad-checksum',
          0,
          `the header (bytes 0..${FILE_HEADER_SIZE - 1}) does not match its checksum: the file is damaged`,
        );
      const genesisHash = new Uint8Array(h.subarray(HEADER_OFFSETS.genesis, HEADER_OFFSETS.from));
      if (!equalBytes(genesisHash, params.genesisHash))
        throw fail(
          'archive-wrong-network',
          HEADER_OFFSETS.genesis,
          `written by a node of ${networkOf(genesisHash)}; this node is on network ${params.name}`,
        );
      const from = h.readUInt32LE(HEADER_OFFSETS.from);
      const reader = new ArchiveReader(file, fh, size, { version, genesisHash, from });
      reader.#base = FILE_HEADER_SIZE;
      return reader;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Ensures `n` bytes from the read position are in the buffer; false at the end of the file. */
  async #ensure(n: number): Promise<boolean> {
    if (this.#len - this.#pos >= n) return true;
    if (this.#buf.length < Math.max(CHUNK, n)) {
      const next = Buffer.allocUnsafe(Math.max(CHUNK, n));
      this.#buf.copy(next, 0, this.#pos, this.#len);
      this.#buf = next;
    } else {
      this.#buf.copy(this.#buf, 0, this.#pos, this.#len);
    }
    this.#base += this.#pos;
    this.#len -= this.#pos;
    this.#pos = 0;
    while (this.#len < n) {
      const { bytesRead } = await this.#read();
      if (bytesRead === 0) return false;
      this.#len += bytesRead;
    }
    return true;
  }

  async #read(): Promise<{ bytesRead: number }> {
    try {
      return await this.#fh.read(this.#buf, this.#len, this.#buf.length - this.#len, this.#base + this.#len);
    } catch (e) {
      throw new ArchiveError('archive-unreadable', this.file, this.#base + this.#len, (e as Error).message, {
        cause: e,
      });
    }
  }

  /**
   * The block records in file order, each checked; throws an ArchiveError at the first problem.
   * Ends after a matching end record that is the last thing in the file.
   */
  async *records(opts: { copy?: boolean } = {}): AsyncGenerator<ArchiveRecord, ArchiveSummary> {
    const copy = opts.copy ?? true;
    const from = this.header.from;
    let last: Uint8Array = new Uint8Array(32);
    for (let i = 0; ; i++) {
      const at = this.#base + this.#pos;
      const height = from + i;
      const fail = (code: ConstructorParameters<typeof ArchiveError>[0], detail: string) =>
        new ArchiveError(code, this.file, at, detail);
      if (!(await this.#ensure(4)))
        throw fail(
          'archive-truncated',
          `the file ends (${this.size} bytes) without its end record, after ${i} blocks (height ${height - 1}): an export that did not finish, or a truncated copy`,
        );
      const len = this.#buf.readUInt32LE(this.#pos);
      if (len === 0) return await this.#end(at, i, last);
      if (len < MIN_RECORD_BLOCK || len > MAX_RECORD_BLOCK)
        throw fail(
          'archive-bad-length',
          `the record of the block at height ${height} declares ${len} bytes (a block takes ${MIN_RECORD_BLOCK} to ${MAX_RECORD_BLOCK}): the file is damaged`,
        );
      const size = recordSize(len);
      if (!(await this.#ensure(size)))
        throw fail(
          'archive-truncated',
          `the record of the block at height ${height} needs ${size} bytes but the file ends at byte ${this.size}: a truncated copy, or a damaged length`,
        );
      const p = this.#pos;
      const body = this.#buf.subarray(p, p + 4 + len);
      if (!check(body).equals(this.#buf.subarray(p + 4 + len, p + size)))
        throw fail(
          'archive-bad-checksum',
          `the record of the block at height ${height} (bytes ${at}..${at + size - 1}) does not match its checksum: the file is damaged`,
        );
      const view = this.#buf.subarray(p + 4, p + 4 + len);
      const hash = sha256d(view.subarray(0, HEADER_SIZE));
      if (i > 0 && !equalBytes(view.subarray(4, 36), last))
        throw fail(
          'archive-not-continuous',
          `the block at height ${height} (${hashToHex(hash)}) does not build on the block before it in the file`,
        );
      last = hash;
      this.#pos += size;
      yield { height, offset: at, raw: copy ? new Uint8Array(view) : view, hash, size };
    }
  }

  async #end(at: number, count: number, last: Uint8Array): Promise<ArchiveSummary> {
    const fail = (code: ConstructorParameters<typeof ArchiveError>[0], detail: string) =>
      new ArchiveError(code, this.file, at, detail);
    if (!(await this.#ensure(END_SIZE)))
      throw fail('archive-truncated', `the file ends (${this.size} bytes) inside its end record`);
    const e = this.#buf.subarray(this.#pos, this.#pos + END_SIZE);
    if (!check(e.subarray(0, END_SIZE - CHECK_SIZE)).equals(e.subarray(END_SIZE - CHECK_SIZE)))
      throw fail('archive-bad-checksum', 'the end record does not match its checksum: the file is damaged');
    const declared = e.readUInt32LE(4);
    const lastHash = new Uint8Array(e.subarray(8, 40));
    if (declared !== count || (count > 0 && !equalBytes(lastHash, last)))
      throw fail(
        'archive-bad-end',
        `the end record says ${declared} blocks ending at ${hashToHex(lastHash)}; the file holds ${count}`,
      );
    if (at + END_SIZE !== this.size)
      throw new ArchiveError(
        'archive-trailing-bytes',
        this.file,
        at + END_SIZE,
        `${this.size - at - END_SIZE} bytes after the end record`,
      );
    return { header: this.header, count, to: this.header.from + count - 1, lastHash, size: this.size };
  }

  async close(): Promise<void> {
    await this.#fh.close();
  }
}

/** Reads and checks the whole file without keeping anything (import's first pass). */
export async function scanArchive(file: string, params: NetworkParams): Promise<ArchiveSummary> {
  const reader = await ArchiveReader.open(file, params);
  try {
    const it = reader.records({ copy: false });
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
    }
  } finally {
    await reader.close();
  }
}
