import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { VERSION } from '../../shared/version.ts';

it('VERSION matches package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(VERSION, pkg.version);
});

it('cairnd answers version', () => {
  const main = new URL('../../services/node/main.ts', import.meta.url).pathname;
  const v = spawnSync(process.execPath, ['--import', 'tsx', main, 'version'], { encoding: 'utf8' });
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), `cairnd ${VERSION}`);
});

it('programs not built yet answer version, and refuse other commands with exit 64 naming their issue', () => {
  for (const [dir, name] of [
    ['discovery', 'cairn-discovery'],
    ['cli', 'cairn'],
  ]) {
    const main = new URL(`../../services/${dir}/main.ts`, import.meta.url).pathname;
    const v = spawnSync(process.execPath, ['--import', 'tsx', main, 'version'], { encoding: 'utf8' });
    assert.equal(v.status, 0);
    assert.equal(v.stdout.trim(), `${name} ${VERSION}`);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', main, 'start'], { encoding: 'utf8' });
    assert.equal(bad.status, 64);
    assert.match(bad.stderr, /not built yet \(issue #\d+\)/);
  }
});
