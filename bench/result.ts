import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One measurement from a benchmark: `ops` per `unit` (e.g. 23000 'verifies/s'). */
export interface BenchResult {
  name: string;
  ops: number;
  unit: string;
  note?: string;
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(url);
}

export function printTable(results: BenchResult[]): void {
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(3));
  const rows = results.map((r) => [r.name, fmt(r.ops), r.unit, r.note ?? '']);
  const head = ['benchmark', 'value', 'unit', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) {
    console.log(line(row));
  }
}

/** Runs `fn` repeatedly for at least `minMs`; returns calls per second. */
export function rate(fn: () => void, minMs = 1000): { perSecond: number; calls: number } {
  for (let i = 0; i < 3; i++) {
    fn();
  }
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    fn();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return { perSecond: (calls * 1000) / elapsed, calls };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const JSON_PREFIX = 'BENCH_JSON ';

/**
 * Runs a benchmark module when it is the started script: a table for people, or with --json one
 * machine-readable line (bench/run.ts runs each suite in its own process and reads that line, so
 * one suite's memory never shows in another's RSS).
 */
export async function runAsMain(url: string, bench: () => Promise<BenchResult[]>): Promise<void> {
  if (!isMain(url)) return;
  const results = await bench();
  if (process.argv.includes('--json')) console.log(`${JSON_PREFIX}${JSON.stringify(results)}`);
  else printTable(results);
}

/** The results a `--json` run printed. */
export function parseJsonResults(stdout: string): BenchResult[] | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(JSON_PREFIX));
  return line === undefined ? undefined : (JSON.parse(line.slice(JSON_PREFIX.length)) as BenchResult[]);
}
