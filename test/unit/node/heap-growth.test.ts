/** limitHeapGrowth sets V8's old-generation growth unless node's command line already does. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from '../../../services/node/memory/heap-growth.ts';

it("limits the heap's growth, and leaves an operator's --heap-growing-percent alone", () => {
  assert.equal(limitHeapGrowth(HEAP_GROWING_PERCENT, []), 20);
  assert.equal(limitHeapGrowth(35, ['--max-semi-space-size=2']), 35);
  assert.equal(limitHeapGrowth(20, ['--heap-growing-percent=50']), undefined);
  assert.equal(limitHeapGrowth(20, ['--heap_growing_percent=50']), undefined);
});
