/**
 * The block archive format: the documented vector (docs/protocol.md §15), a round trip, and every
 * kind of damage refused with its code and the byte offset where the damaged part starts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ArchiveError } from '../../../services/node/archive/errors.ts';
import {
  ARCHIVE_VERSION,
  END_SIZE,
  encodeArchive,
  encodeFileHeader,
  FILE_HEADER_SIZE,
  recordSize,
} from '../../../services/node/archive/format.ts';
import { ArchiveReader, scanArchive } from '../../../services/node/archive/reader.ts';
import { hashToHex, toHex } from '../../../shared/core/bytes.ts';
import { LOCAL, TEST } from '../../../shared/core/params/networks.ts';
import { makeChain } from '../../helpers/archive.ts';
import { tempDir } from '../../helpers/node.ts';

/** The local genesis block alone, from height 0 (docs/protocol.md §15.4). */
const VECTOR =
  '434149524e424c4b' +
  '01000000' +
  '64e9d7371fd7a2a6e1dd4bd3d437c1bf7476615f19a4c608607c916cae92461c' +
  '00000000' +
  'cc03346c' +
  '87000000' +
  toHex(LOCAL.genesisBlock) +
  '43bcb918' +
  '00000000' +
  '01000000' +
  '64e9d7371fd7a2a6e1dd4bd3d437c1bf7476615f19a4c608607c916cae92461c' +
  '13479160';

const dir = tempDir('cairn-archive-');
after(() => dir.remove());
let n = 0;
function file(bytes: Uint8Array): string {
  const p = join(dir.path, `a${n++}.cba`);
  writeFileSync(p, bytes);
  return p;
}

async function refused(bytes: Uint8Array, code: string, offset: number | undefined, params = LOCAL) {
  const err = await scanArchive(file(bytes), params).then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ArchiveError, String(err));
  assert.equal(err.code, code, err.message);
  assert.equal(err.offset, offset, err.message);
  if (offset !== undefined) assert.match(err.message, new RegExp(`byte ${offset}:`));
  return err;
}

const chain = makeChain(25);
const blocks = chain.blocks.map((b) => ({ raw: b.raw, hash: b.hash }));
const good = encodeArchive(LOCAL.genesisHash, 1, blocks);
/** Offset of the record of the block at height h (from 1). */
const recordAt = (h: number) =>
  FILE_HEADER_SIZE + blocks.slice(0, h - 1).reduce((s, b) => s + recordSize(b.raw.length), 0);

describe('block archive format', () => {
  it('encodes the documented vector', () => {
    const a = encodeArchive(LOCAL.genesisHash, 0, [{ raw: LOCAL.genesisBlock, hash: LOCAL.genesisHash }]);
    assert.equal(a.toString('hex'), VECTOR);
    assert.equal(a.length, 239);
  });

  it('docs/protocol.md §15.4 quotes the vector', () => {
    const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### 15.4 Vector'));
    const block = section.slice(
      section.indexOf('```') + 3,
      section.indexOf('```', section.indexOf('```') + 3),
    );
    const hex = block
      .split('\n')
      .map((l) => /^([0-9a-f]+)/.exec(l)?.[1] ?? '')
      .join('');
    assert.equal(hex, VECTOR);
  });

  it('reads back every block with its height, offset and hash', async () => {
    const r = await ArchiveReader.open(file(good), LOCAL);
    const seen: { height: number; offset: number; hash: string }[] = [];
    const it = r.records();
    let res = await it.next();
    while (!res.done) {
      seen.push({ height: res.value.height, offset: res.value.offset, hash: hashToHex(res.value.hash) });
      res = await it.next();
    }
    await r.close();
    assert.equal(seen.length, 25);
    assert.deepEqual(
      seen.map((s) => s.height),
      blocks.map((_, i) => i + 1),
    );
    assert.equal(seen[3]!.offset, recordAt(4));
    assert.equal(seen.at(-1)!.hash, hashToHex(blocks.at(-1)!.hash));
    assert.equal(res.value.count, 25);
    assert.equal(res.value.to, 25);
    assert.equal(res.value.size, good.length);
  });

  it('reads the vector', async () => {
    const s = await scanArchive(file(Buffer.from(VECTOR, 'hex')), LOCAL);
    assert.equal(s.count, 1);
    assert.equal(s.header.from, 0);
  });

  it('refuses an empty file, another format, and a file cut inside its header', async () => {
    await refused(new Uint8Array(0), 'archive-truncated', 0);
    await refused(Buffer.from('not an archive at all, just text'), 'archive-bad-magic', 0);
    await refused(good.subarray(0, 5), 'archive-truncated', 5);
    await refused(good.subarray(0, 30), 'archive-truncated', 30);
  });

  it('refuses another version, named at the version field', async () => {
    const v2 = Buffer.from(good);
    encodeFileHeader({ version: ARCHIVE_VERSION + 1, genesisHash: LOCAL.genesisHash, from: 1 }).copy(v2, 0);
    const e = await refused(v2, 'archive-bad-version', 8);
    assert.match(e.message, /version 2; this cairnd reads version 1/);
  });

  it('refuses an archive of another network', async () => {
    const e = await refused(good, 'archive-wrong-network', 12, TEST);
    assert.match(e.message, /network local; this node is on network test/);
  });

  it('refuses a flipped byte in the header', async () => {
    const bad = Buffer.from(good);
    bad[45]! ^= 0x40; // the first height
    await refused(bad, 'archive-bad-checksum', 0);
  });

  it('refuses a flipped byte in a block, naming the record it is in', async () => {
    for (const h of [1, 13, 25]) {
      const bad = Buffer.from(good);
      bad[recordAt(h) + 4 + 100]! ^= 0x01;
      const e = await refused(bad, 'archive-bad-checksum', recordAt(h));
      assert.match(e.message, new RegExp(`block at height ${h} `));
    }
  });

  it('refuses a damaged record length', async () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(10, recordAt(7));
    await refused(bad, 'archive-bad-length', recordAt(7));
    const longer = Buffer.from(good);
    longer.writeUInt32LE(blocks[6]!.raw.length + 1, recordAt(7));
    await refused(longer, 'archive-bad-checksum', recordAt(7));
  });

  it('refuses a file truncated anywhere: inside a record, at a record boundary, inside the end', async () => {
    await refused(good.subarray(0, recordAt(9) + 50), 'archive-truncated', recordAt(9));
    const e = await refused(good.subarray(0, recordAt(9)), 'archive-truncated', recordAt(9));
    assert.match(e.message, /without its end record, after 8 blocks \(height 8\)/);
    const end = good.length - END_SIZE;
    await refused(good.subarray(0, end), 'archive-truncated', end);
    await refused(good.subarray(0, good.length - 1), 'archive-truncated', end);
  });

  it('refuses the flip of any single byte of a small archive', async () => {
    const small = encodeArchive(LOCAL.genesisHash, 1, blocks.slice(0, 3));
    const codes = new Set<string>();
    for (let i = 0; i < small.length; i++) {
      const bad = Buffer.from(small);
      bad[i]! ^= 0x10;
      const e = await scanArchive(file(bad), LOCAL).then(
        () => assert.fail(`a flip at byte ${i} was accepted`),
        (x: unknown) => x,
      );
      assert.ok(e instanceof ArchiveError);
      codes.add(e.code);
    }
    assert.ok(codes.has('archive-bad-checksum'));
  });

  it('refuses a missing block, blocks out of order, a wrong end record and trailing bytes', async () => {
    const skip = encodeArchive(LOCAL.genesisHash, 1, [...blocks.slice(0, 5), ...blocks.slice(6)]);
    await refused(skip, 'archive-not-continuous', recordAt(6));
    const swapped = encodeArchive(LOCAL.genesisHash, 1, [blocks[1]!, blocks[0]!, ...blocks.slice(2)]);
    await refused(swapped, 'archive-not-continuous', recordAt(2));
    const short = Buffer.concat([
      encodeArchive(LOCAL.genesisHash, 1, blocks).subarray(0, good.length - END_SIZE),
      encodeArchive(LOCAL.genesisHash, 1, blocks.slice(0, 24)).subarray(-END_SIZE),
    ]);
    await refused(short, 'archive-bad-end', good.length - END_SIZE);
    await refused(Buffer.concat([good, Buffer.from([0])]), 'archive-trailing-bytes', good.length);
  });
});
