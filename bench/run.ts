/**
 * `npm run bench`: every benchmark, one table. Each suite runs in its own process (so memory
 * figures are that suite's alone). Figures are machine-dependent; the targets are set on ratios
 * measured in the same run (e.g. block validation vs bare signature verification).
 * Usage: npm run bench [-- NAME...]   (names: verify, core, reservoir, chain-1thread, chain, p2p, recorder, rpc, feed, memory-load, archive, shares;
 *        and vs-bcoin, run only when named: it installs bcoin 2.2.0 into a cache directory on demand, see bench/vs-bcoin.ts)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BenchResult, parseJsonResults, printTable } from './result.ts';

const suites: Record<string, string[]> = {
  verify: ['verify.ts'],
  core: ['core.ts'],
  reservoir: ['reservoir.ts'],
  'chain-1thread': ['chain.ts', '--workers', '0'],
  chain: ['chain.ts'],
  p2p: ['p2p.ts'],
  recorder: ['recorder.ts'],
  rpc: ['rpc.ts'],
  feed: ['feed.ts'],
  'memory-load': ['memory-load.ts'],
  archive: ['archive.ts'],
  shares: ['shares.ts'],
  'vs-bcoin': ['vs-bcoin.ts'],
};
/** Suites that `npm run bench` without names skips (vs-bcoin needs a network install and ~5–10 minutes). */
const onlyWhenNamed = new Set(['vs-bcoin']);
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in suites));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
const all: BenchResult[] = [];
for (const [name, [file, ...args]] of Object.entries(suites)) {
  if (wanted.length > 0 ? !wanted.includes(name) : onlyWhenNamed.has(name)) continue;
  const path = fileURLToPath(new URL(`./${file}`, import.meta.url));
  // process.execArgv carries tsx's loader, so the child runs TypeScript the same way
  const r = spawnSync(process.execPath, [...process.execArgv, path, ...args!, '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const results = parseJsonResults(r.stdout);
  if (r.status !== 0 || results === undefined) {
    console.error(`benchmark ${name} failed (exit ${r.status})\n${r.stdout}`);
    process.exit(1);
  }
  all.push(...results);
}
console.log(`node ${process.version}, ${process.arch}; each suite in its own process`);
printTable(all);
if (wanted.length === 0)
  console.log(`(not run unless named: ${[...onlyWhenNamed].join(', ')}; e.g. npm run bench -- vs-bcoin)`);
