#!/usr/bin/env node
// Runs every test file under test/ with Node's own runner (TypeScript through tsx).
// Usage: npm test [-- PATH_FILTER...]   e.g. npm test -- unit/pow
// A test file that has not ended after CAIRN_TEST_FILE_TIMEOUT_S seconds (default 1200) fails and is
// stopped, and test-child-reaper.mjs kills what it spawned, so a hung file cannot hang the whole run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      out.push(...find(p));
    } else if (name.endsWith('.test.ts')) {
      out.push(p);
    }
  }
  return out;
}

const filters = process.argv.slice(2);
const files = find(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const fileTimeoutS = Number(process.env.CAIRN_TEST_FILE_TIMEOUT_S ?? 1200);
if (!(Number.isFinite(fileTimeoutS) && fileTimeoutS > 0)) {
  console.error(
    `CAIRN_TEST_FILE_TIMEOUT_S=${process.env.CAIRN_TEST_FILE_TIMEOUT_S}: expected a number of seconds > 0`,
  );
  process.exit(2);
}
const reaper = join(root, 'scripts', 'test-child-reaper.mjs');
const args = [
  '--import',
  'tsx',
  '--import',
  reaper,
  '--test',
  '--test-reporter=spec',
  // a file's own time limit (Node's runner applies it to each file as well as each test in it)
  `--test-timeout=${Math.round(fileTimeoutS * 1000)}`,
  ...files,
];
const r = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
