/**
 * bin/cairnd starts node with the V8 flags a syncing node needs (docs/performance.md): a small young
 * generation unless the operator's NODE_OPTIONS sets one, and no allocation-site pretenuring. Read
 * from inside the started process (a preload writes its execArgv), so a flag node refused would
 * show as a failed start.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CAIRND_NODE_FLAGS } from '../../../bench/sync-profile.ts';
import { tempDir } from '../../helpers/node.ts';

const CAIRND = new URL('../../../bin/cairnd', import.meta.url).pathname;

/** Runs `bin/cairnd version` with `nodeOptions` in NODE_OPTIONS; the node flags of each process it started. */
function launch(nodeOptions: string): string[][] {
  const dir = tempDir('cairn-launcher-');
  const out = join(dir.path, 'argv.jsonl');
  const preload = join(dir.path, 'argv.cjs');
  writeFileSync(
    preload,
    `require('node:fs').appendFileSync(${JSON.stringify(out)}, JSON.stringify(process.execArgv) + '\\n');\n`,
  );
  try {
    const r = spawnSync(CAIRND, ['version'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `${nodeOptions} --require ${preload}`.trim() },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^cairnd /);
    return readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
  } finally {
    dir.remove();
  }
}

describe('bin/cairnd', () => {
  it('runs node without allocation-site pretenuring and with 2 MB semi-spaces', () => {
    const runs = launch('');
    // the process that runs cairnd (without dist/, tsx starts it as a child of its own)
    assert.ok(
      runs.some(
        (a) => a.includes('--no-allocation-site-pretenuring') && a.includes('--max-semi-space-size=2'),
      ),
      JSON.stringify(runs),
    );
    // the benches start the syncing node with the same flags (a second copy of this list)
    const cairnd = runs.find((a) => a.includes('--no-allocation-site-pretenuring'))!;
    for (const f of CAIRND_NODE_FLAGS) assert.ok(cairnd.includes(f), `bench flag ${f} is bin/cairnd's`);
  });

  it("leaves the young generation's size to an operator's NODE_OPTIONS", () => {
    const runs = launch('--max-semi-space-size=8');
    assert.ok(
      runs.some((a) => a.includes('--no-allocation-site-pretenuring')),
      JSON.stringify(runs),
    );
    assert.ok(
      runs.every((a) => !a.includes('--max-semi-space-size=2')),
      JSON.stringify(runs),
    );
  });
});
