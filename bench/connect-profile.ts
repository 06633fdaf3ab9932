/**
 * Where the syncing main thread's connect time goes (issue 12), in one process and without the
 * network: bench/connect-harness.ts's chain connected under V8's CPU profiler. Prints the connect
 * time per transaction (what a sync's main thread spends per tx beyond verifying) and the top
 * self-time functions of the busy samples, garbage collection included. Quieter than
 * bench/sync-profile.ts (no serving node, no download), so smaller changes show.
 * Usage: npx tsx bench/connect-profile.ts [BLOCKS] [TXS_PER_BLOCK] [--runs N] [--no-durable] [--no-profile] [--group BLOCKS]
 *        [--out FILE.cpuprofile] (the last run's profile, for Chrome's DevTools)
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { connectChain } from './connect-harness.ts';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
}

/** Self samples by function of the non-idle samples, as shares of them. */
function busyTop(p: CpuProfile, n: number): { where: string; share: number }[] {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const counts = new Map<string, number>();
  let busy = 0;
  for (const id of p.samples) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)' || cf.functionName === '(program)') continue;
    const where = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    counts.set(where, (counts.get(where) ?? 0) + 1);
    busy++;
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([where, c]) => ({ where, share: c / busy }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => args.includes(name);
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args[i + 1];
  };
  const valued = new Set(['--runs', '--out', '--group']);
  const positional = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1] ?? ''));
  const blocks = Number(positional[0] ?? 700);
  const perBlock = Number(positional[1] ?? 100);
  const runs = Number(option('--runs') ?? 1);
  const profile = !flag('--no-profile');
  const session = new Session();
  session.connect();
  const post = session.post.bind(session) as (method: string, params?: object) => Promise<unknown>;
  try {
    for (let r = 0; r < runs; r++) {
      await connectChain(
        { blocks, perBlock, durable: !flag('--no-durable'), group: Number(option('--group') ?? 64) },
        async (connect) => {
          if (profile) {
            await post('Profiler.enable');
            await post('Profiler.setSamplingInterval', { interval: 200 });
            await post('Profiler.start');
          }
          const cpu0 = process.cpuUsage();
          const run = await connect();
          const cpu = process.cpuUsage(cpu0);
          const per = (ms: number) => ((ms * 1000) / run.transfers).toFixed(1);
          console.log(
            `connect: ${run.transfers} txs in ${blocks} blocks, ${per(run.connectMs)} µs per tx (prepared by the worker: ${run.prepared} of ${blocks}; process CPU ${per((cpu.user + cpu.system) / 1000)} µs per tx)`,
          );
          if (!profile) return;
          const { profile: p } = (await post('Profiler.stop')) as { profile: CpuProfile };
          const out = option('--out');
          if (out !== undefined) writeFileSync(out, JSON.stringify(p));
          for (const t of busyTop(p, 25))
            console.log(`${(t.share * 100).toFixed(1).padStart(5)}%  ${t.where}`);
        },
      );
    }
  } finally {
    session.disconnect();
  }
}

await main();
