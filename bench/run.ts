/**
 * `npm run bench`: every benchmark, one table. Figures are machine-dependent; ratios measured in
 * the same run (e.g. block validation vs bare signature verification) are what targets are set on.
 * Usage: npm run bench [-- NAME...]   (names: verify, core, reservoir, chain)
 */
import { benchChain } from './chain.ts';
import { benchCore } from './core.ts';
import { benchReservoir } from './reservoir.ts';
import type { BenchResult } from './result.ts';
import { printTable } from './result.ts';
import { benchVerify } from './verify.ts';

const suites: Record<string, () => Promise<BenchResult[]>> = {
  verify: benchVerify,
  core: benchCore,
  reservoir: () => benchReservoir(),
  chain: () => benchChain(),
};
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in suites));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
const all: BenchResult[] = [];
for (const [name, run] of Object.entries(suites)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  all.push(...(await run()));
}
console.log(`node ${process.version}, ${process.arch}, one core per benchmark`);
printTable(all);
