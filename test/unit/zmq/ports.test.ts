/**
 * freePorts never hands out a port twice in one process: a port checked free is free again the
 * moment its check closes, and two nodes made before either started once got the same one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePorts } from './ports.ts';

describe('freePorts', () => {
  it('3,200 ports in 80 calls: no port twice (a quarter of its range: random picks would repeat)', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 80; i++)
      for (const p of await freePorts(40)) {
        assert.ok(!seen.has(p), `port ${p} handed out twice`);
        seen.add(p);
      }
    assert.equal(seen.size, 3_200);
  });
});
