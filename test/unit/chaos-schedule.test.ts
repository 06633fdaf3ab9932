/**
 * The chaos soak's schedule (test/helpers/chaos.ts): the same seed gives the same faults, there is
 * exactly one disk fill and only on the tmpfs node, no more than the allowed nodes are planned busy
 * at once, durations stay in their ranges; and the helpers it reports with.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chaosSeed, fillDisk, median, planFaults, prng, within } from '../helpers/chaos.ts';
import { mountTmpfs, unmount, whyNoTmpfs } from '../helpers/tmpfs.ts';

const options = { nodes: 5, diskNode: 4, soakMs: 180_000, maxConcurrent: 2, recoverMs: 8000, diskMs: 45_000 };

describe('chaos schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    assert.deepEqual(planFaults(prng(42), options), planFaults(prng(42), options));
    assert.notDeepEqual(planFaults(prng(42), options), planFaults(prng(43), options));
    const a = prng(7);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.05);
  });

  it('keeps its rules for many seeds', () => {
    for (let seed = 0; seed < 300; seed++) {
      const f = planFaults(prng(seed), options);
      const disks = f.filter((x) => x.kind === 'disk');
      assert.equal(disks.length, 1, `seed ${seed}`);
      assert.equal(disks[0]!.node, 4);
      assert.ok(disks[0]!.at >= 0.15 * options.soakMs && disks[0]!.at <= 0.4 * options.soakMs);
      assert.ok(f.length >= 10, `seed ${seed}: only ${f.length} faults in 180 s`);
      const windows = f.map((x) => ({
        ...x,
        to: x.at + (x.kind === 'disk' ? options.diskMs : x.ms + options.recoverMs),
      }));
      for (const x of windows) {
        assert.ok(x.at < options.soakMs - 10_000 || x.kind === 'disk');
        if (x.kind === 'kill') assert.ok(x.ms >= 1000 && x.ms <= 5000);
        if (x.kind === 'stop') assert.ok(x.ms >= 2000 && x.ms <= 8000);
        const overlapping = windows.filter((y) => y !== x && y.at <= x.at && x.at < y.to);
        assert.ok(overlapping.length < options.maxConcurrent, `seed ${seed}: too many busy at ${x.at}`);
        assert.ok(!overlapping.some((y) => y.node === x.node), `seed ${seed}: node ${x.node} faulted twice`);
      }
      assert.deepEqual(
        f.map((x) => x.at),
        [...f.map((x) => x.at)].sort((p, q) => p - q),
      );
    }
  });

  it('takes the seed from CHAOS_SEED, refusing what is not a u32', () => {
    assert.equal(chaosSeed({ CHAOS_SEED: '1403709573' }), 1403709573);
    assert.throws(() => chaosSeed({ CHAOS_SEED: 'x' }), /CHAOS_SEED must be a u32/);
    assert.throws(() => chaosSeed({ CHAOS_SEED: '-1' }), /CHAOS_SEED/);
    const s = chaosSeed({});
    assert.ok(Number.isInteger(s) && s >= 0 && s <= 0xffffffff);
  });

  it('median and within', async () => {
    assert.equal(median([2.6, 0.4, 8.7]), 2.6);
    assert.equal(median([1, 2, 3, 4]), 2.5);
    assert.ok(Number.isNaN(median([])));
    assert.equal(await within(new Promise(() => undefined), 10, 'late'), 'late');
    assert.equal(await within(Promise.resolve(3), 10_000, 'late'), 3);
  });

  it('fills a file system to its last byte', { skip: whyNoTmpfs() }, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-chaos-unit-'));
    mountTmpfs(dir, '256k');
    t.after(() => {
      unmount(dir);
      rmSync(dir, { recursive: true, force: true });
    });
    const bytes = fillDisk(join(dir, 'filler'));
    assert.ok(bytes > 200_000 && bytes <= 256 * 1024, `${bytes} bytes`);
    assert.throws(() => writeFileSync(join(dir, 'one-more'), 'x'), /ENOSPC/);
  });
});
