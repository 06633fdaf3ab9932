import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../../shared/core/errors.ts';
import { type AsertParams, calculateAsert, nextBitsAsert } from '../../../shared/core/pow/asert.ts';
import { decodeCompact, encodeCompact } from '../../../shared/core/pow/compact.ts';

const SPACING = 600;
const HALF_LIFE = 2 * 24 * 3600;
const POW_LIMIT = decodeCompact(0x1d00ffff).target; // BCH mainnet powLimit, as in the vectors

interface Row {
  run: number;
  line: string;
  anchorBits: number;
  heightDiff: number;
  timeDiff: number;
  anchorParentTime: number;
  parentTime: number;
  expected: number;
}

/** Parses the run files (header lines `##   key: value`, rows `iteration height time nBits`). */
function loadVectors(): Row[] {
  const text = readFileSync(new URL('./vectors/asert_runs.txt', import.meta.url), 'utf8');
  const rows: Row[] = [];
  let run = 0;
  let anchorHeight = 0n;
  let anchorParentTime = 0;
  let anchorBits = 0;
  for (const line of text.split('\n')) {
    let m = /^## description: run(\d+)/.exec(line);
    if (m) {
      run = Number(m[1]);
      continue;
    }
    m = /^##\s+anchor height: (\d+)$/.exec(line);
    if (m) {
      // Run 10 crosses 2^63: keep the heights exact and pass only the difference on.
      anchorHeight = BigInt(m[1]!);
      continue;
    }
    m = /^##\s+anchor parent time: (-?\d+)$/.exec(line);
    if (m) {
      anchorParentTime = Number(m[1]);
      continue;
    }
    m = /^##\s+anchor nBits: (0x[0-9a-f]{8})$/.exec(line);
    if (m) {
      anchorBits = Number(m[1]);
      continue;
    }
    m = /^\d+ (\d+) (-?\d+) (0x[0-9a-f]{8})$/.exec(line);
    if (m) {
      const parentTime = Number(m[2]);
      rows.push({
        run,
        line,
        anchorBits,
        heightDiff: Number(BigInt(m[1]!) - anchorHeight),
        timeDiff: parentTime - anchorParentTime,
        anchorParentTime,
        parentTime,
        expected: Number(m[3]),
      });
    }
  }
  return rows;
}

/** Parameters for the block after `parent`, anchored at a genesis block as Cairn does. */
function genesisAnchored(anchorTarget: bigint, parentHeight: number, parentTime: number): AsertParams {
  const genesisTime = 1_700_000_000;
  return {
    anchorTarget,
    anchorParentTime: genesisTime - SPACING,
    anchorHeight: 0,
    parentTime: genesisTime + parentTime,
    parentHeight,
    targetSpacing: SPACING,
    halfLife: HALF_LIFE,
    powLimit: POW_LIMIT,
  };
}

describe('ASERT reference vectors (BCHN aserti3-2d runs 1-12)', () => {
  const rows = loadVectors();

  it('loads the vector file', () => {
    assert.ok(rows.length > 400, `only ${rows.length} rows`);
    assert.deepEqual([...new Set(rows.map((r) => r.run))], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('matches every row', () => {
    for (const r of rows) {
      const p: AsertParams = {
        anchorTarget: decodeCompact(r.anchorBits).target,
        anchorParentTime: r.anchorParentTime,
        anchorHeight: 0,
        parentTime: r.parentTime,
        parentHeight: r.heightDiff,
        targetSpacing: SPACING,
        halfLife: HALF_LIFE,
        powLimit: POW_LIMIT,
      };
      assert.equal(nextBitsAsert(p), r.expected, `run ${r.run}: ${r.line}`);
      // The anchor height only matters through the difference.
      assert.equal(
        nextBitsAsert({ ...p, anchorHeight: 1000, parentHeight: r.heightDiff + 1000 }),
        r.expected,
      );
    }
  });
});

describe('ASERT behaviour', () => {
  const anchor = decodeCompact(0x1802aee8).target;

  it('keeps the anchor target while on schedule', () => {
    for (const h of [0, 1, 2, 100, 123_456]) {
      assert.equal(calculateAsert(genesisAnchored(anchor, h, h * SPACING)), anchor);
    }
    // The first block after genesis has the genesis target when genesis is on time.
    assert.equal(nextBitsAsert(genesisAnchored(anchor, 0, 0)), 0x1802aee8);
  });

  it('truncates the exponent toward zero (less than 1/65536 of a half-life off schedule changes nothing)', () => {
    // 2 seconds off is 2 * 65536 / 172800 = 0.76 in 16.16 fixed point: 0 after truncation either way.
    assert.equal(calculateAsert(genesisAnchored(anchor, 10, 10 * SPACING - 2)), anchor);
    assert.equal(calculateAsert(genesisAnchored(anchor, 10, 10 * SPACING + 2)), anchor);
    // 3 seconds is 1.14: one step either way, and the cubic maps +-1/65536 to a factor change.
    assert.ok(calculateAsert(genesisAnchored(anchor, 10, 10 * SPACING - 3)) < anchor);
    assert.ok(calculateAsert(genesisAnchored(anchor, 10, 10 * SPACING + 3)) > anchor);
  });

  it('halves the target for each half-life ahead of schedule and doubles it for each behind', () => {
    for (let k = 1; k <= 20; k++) {
      assert.equal(
        calculateAsert(genesisAnchored(anchor, 500, 500 * SPACING - k * HALF_LIFE)),
        anchor >> BigInt(k),
      );
    }
    for (let k = 1; k <= 40; k++) {
      const expected = anchor << BigInt(k);
      const got = calculateAsert(genesisAnchored(anchor, 500, 500 * SPACING + k * HALF_LIFE));
      assert.equal(got, expected > POW_LIMIT ? POW_LIMIT : expected);
    }
  });

  it('clamps to 1 and to powLimit', () => {
    assert.equal(calculateAsert(genesisAnchored(anchor, 0, -300 * HALF_LIFE)), 1n);
    assert.equal(calculateAsert(genesisAnchored(1n, 1_000_000, 0)), 1n);
    assert.equal(calculateAsert(genesisAnchored(anchor, 0, 300 * HALF_LIFE)), POW_LIMIT);
    assert.equal(calculateAsert(genesisAnchored(POW_LIMIT, 0, 1)), POW_LIMIT);
    // Far enough behind schedule that the 256-bit shift itself would overflow.
    assert.equal(calculateAsert(genesisAnchored(1n, 0, 400 * HALF_LIFE)), POW_LIMIT);
    assert.equal(calculateAsert(genesisAnchored(1n, 0, 1e12)), POW_LIMIT);
  });

  it('approximates 2^x within 0.013%', () => {
    const big = 1n << 200n; // large enough that integer rounding is negligible
    fc.assert(
      fc.property(fc.integer({ min: -5 * HALF_LIFE, max: 5 * HALF_LIFE }), (offset) => {
        const got = calculateAsert({
          ...genesisAnchored(big, 1000, 1000 * SPACING + offset),
          powLimit: 1n << 223n,
        });
        const exponent = Math.trunc((offset * 65536) / HALF_LIFE) / 65536;
        const ratio = Number(got) / Number(big) / 2 ** exponent;
        assert.ok(Math.abs(ratio - 1) < 1.3e-4, `offset ${offset}: ratio ${ratio}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('is monotonic: later parents never get harder targets, higher ones never easier', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: -50 * HALF_LIFE, max: 50 * HALF_LIFE }),
        fc.integer({ min: 0, max: 10 * HALF_LIFE }),
        fc.integer({ min: 0, max: 1000 }),
        (h, t, dt, dh) => {
          const base = calculateAsert(genesisAnchored(anchor, h, t));
          assert.ok(calculateAsert(genesisAnchored(anchor, h, t + dt)) >= base);
          assert.ok(calculateAsert(genesisAnchored(anchor, h + dh, t)) <= base);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('nextBitsAsert is encodeCompact of calculateAsert', () => {
    const p = genesisAnchored(anchor, 77, 77 * SPACING + 12_345);
    assert.equal(nextBitsAsert(p), encodeCompact(calculateAsert(p)));
  });

  it('rejects inputs CalculateASERT asserts against', () => {
    const ok = genesisAnchored(anchor, 10, 6000);
    assert.throws(() => calculateAsert({ ...ok, anchorTarget: 0n }), UsageError);
    assert.throws(() => calculateAsert({ ...ok, anchorTarget: POW_LIMIT + 1n }), UsageError);
    assert.throws(() => calculateAsert({ ...ok, powLimit: 1n << 256n, anchorTarget: 1n }), UsageError);
    assert.throws(() => calculateAsert({ ...ok, anchorHeight: 11 }), UsageError);
    assert.throws(() => calculateAsert({ ...ok, halfLife: 0 }), UsageError);
    assert.throws(() => calculateAsert({ ...ok, targetSpacing: 0 }), UsageError);
    assert.throws(() => calculateAsert({ ...ok, parentTime: 1.5 }), UsageError);
    // |timeDiff - spacing * heightDiff| must stay below 2^47 (ok has heightDiff 10).
    const edge = ok.anchorParentTime + 10 * SPACING + 2 ** 47;
    assert.doesNotThrow(() => calculateAsert({ ...ok, parentTime: edge - 1 }));
    assert.throws(() => calculateAsert({ ...ok, parentTime: edge }), UsageError);
    assert.throws(() => calculateAsert({ ...ok, parentTime: edge - 2 * 2 ** 47 }), UsageError);
  });
});
