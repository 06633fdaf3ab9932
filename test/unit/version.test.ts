import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { VERSION } from '../../shared/version.ts';

it('VERSION matches package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(VERSION, pkg.version);
});

it('every program answers version with its name', () => {
  for (const [dir, name] of [
    ['node', 'cairnd'],
    ['recorder', 'cairn-recorder'],
    ['discovery', 'cairn-discovery'],
    ['cli', 'cairn'],
  ]) {
    const main = new URL(`../../services/${dir}/main.ts`, import.meta.url).pathname;
    const v = spawnSync(process.execPath, ['--import', 'tsx', main, 'version'], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), `${name} ${VERSION}`);
  }
});
