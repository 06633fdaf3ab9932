/**
 * `npm start` end to end, at a smaller scale: the devnet script with 2 nodes and a recorder (real
 * processes: discovery, cairnd ×2, cairn-recorder) reaches height ≥ 5 on every node — the nodes
 * find each other through discovery alone —; a node killed with kill -9 and a recorder stopped
 * cleanly behind the devnet's back are reported and restarted while the rest keep going, and the
 * node catches up; SIGINT (what Ctrl-C sends) stops every process it started, cleanly. Through
 * npm from another directory (`npm --prefix <repo> start`), the devnet runs, its printed `cairn`
 * line works from there, and SIGTERM to the npm process alone stops everything.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/node.ts';

const DEVNET = fileURLToPath(new URL('../../scripts/devnet.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const root = tempDir('cairn-it-devnet-');
const started: ChildProcess[] = [];
/** Children of a devnet the test killed with SIGKILL: killed too if the test fails before --stop. */
const leftovers: number[] = [];
after(() => {
  for (const c of started) c.kill('SIGKILL');
  for (const p of leftovers.filter(alive)) process.kill(p, 'SIGKILL');
  root.remove();
});

/** Runs (an ended process that its new parent has not reaped yet, a zombie, does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Heights per node from the devnet's "block" lines, e.g. `block 7 … node-1 7/7 · node-2 6/7 peers 2/2`. */
function heights(line: string): number[] {
  return [...line.matchAll(/node-\d+ (\d+|…)/g)].map((m) => (m[1] === '…' ? -1 : Number(m[1])));
}

interface Devnet {
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;
  readonly dir: string;
  output(): string;
}

/**
 * Runs scripts/devnet.ts with `args` on a free random port block (retried when one is taken):
 * directly (`node --import tsx`), or through npm from the directory `cwd`.
 */
async function startDevnet(name: string, args: string[], via?: { npmFrom: string }): Promise<Devnet> {
  const dir = join(root.path, name);
  let out = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    // a random port block below the ephemeral range (see test/unit/zmq/ports.ts), beside any devnet
    const base = 23_000 + 250 * Math.floor(Math.random() * 36);
    out = '';
    const all = [
      ...args,
      '--dir',
      join(dir, 'data'),
      '--keys',
      join(dir, 'keys'),
      '--port-base',
      String(base),
    ];
    // npm as a user runs it: not under this test's npm (its npm_* variables would say otherwise)
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'INIT_CWD'),
    );
    const child =
      via === undefined
        ? spawn(process.execPath, ['--import', 'tsx', DEVNET, ...all], { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('npm', ['--prefix', REPO, 'run', '--ignore-scripts', 'start', '--', ...all], {
            cwd: via.npmFrom,
            env,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
    started.push(child);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const busy = await Promise.race([
      exit.then(() => /is in use/.test(out)),
      new Promise<false>((r) => setTimeout(() => r(false), 3000)),
    ]);
    if (!busy) return { child, exit, dir: join(dir, 'data'), output: () => out };
  }
  throw new Error(`devnet did not start:\n${out}`);
}

/** Waits until `cond` holds of the output, failing with the output after `ms`. */
async function until(
  d: Devnet,
  what: string,
  cond: (out: string) => boolean,
  ms = 120_000,
  mayExit = false,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond(d.output())) {
    assert.ok(Date.now() < deadline, `${what} not within ${ms / 1000} s:\n${d.output()}`);
    if (!mayExit) assert.equal(d.child.exitCode, null, `devnet exited early:\n${d.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const blockLines = (out: string) => out.split('\n').filter((l) => l.startsWith('block'));

/** Waits until a "block" line shows every one of `nodes` nodes at height ≥ `min` (5). */
async function converged(d: Devnet, nodes: number, min = 5): Promise<number[]> {
  const ok = (l: string) => {
    const h = heights(l);
    return h.length === nodes && h.every((x) => x >= min);
  };
  await until(d, `height ≥ ${min} on every node`, (out) => blockLines(out).some(ok));
  return heights(blockLines(d.output()).find(ok)!);
}

interface PidFile {
  readonly devnet: number;
  readonly processes: Record<string, number>;
}
const pidFileOf = (d: Devnet) => JSON.parse(readFileSync(join(d.dir, 'devnet.pids.json'), 'utf8')) as PidFile;
const pidsOf = (d: Devnet) => Object.values(pidFileOf(d).processes);

describe('devnet (npm start)', { timeout: 180_000 }, () => {
  it('brings up discovery, 2 nodes and a recorder that converge, restarts a node killed with kill -9 and a recorder stopped behind its back while the rest keep going, and stops them all on SIGINT', async () => {
    const d = await startDevnet('two', ['--nodes', '2', '--recorders', '1']);
    const [h0] = await converged(d, 2);
    const out = d.output();
    assert.match(
      out,
      /made identities in .*discovery, node-1 peer, node-1 proof, node-2 peer, node-2 proof, recorder-1, wallet/,
    );
    assert.match(out, /RPC http:\/\/127\.0\.0\.1:\d+\/ +explorer/);
    // each node's blocks/headers on the block lines (scripts/devnet/status.ts)
    assert.match(out, /^block +\d+ +\S+ +node-1 \d+\/\d+ · node-2 \d+\/\d+ +peers \d\/\d$/m);
    const before = pidFileOf(d);
    assert.equal(before.devnet, d.child.pid);
    assert.deepEqual(Object.keys(before.processes), ['discovery', 'node-1', 'node-2', 'recorder-1']);
    assert.ok(Object.values(before.processes).every(alive));

    // one node dies hard, the recorder is stopped cleanly by someone else: both come back
    process.kill(before.processes['node-2']!, 'SIGKILL');
    process.kill(before.processes['recorder-1']!, 'SIGTERM');
    await until(
      d,
      'both restarted',
      (o) => /node-2 restarted/.test(o) && /recorder-1 restarted/.test(o),
      30_000,
    );
    const out2 = d.output();
    assert.match(
      out2,
      /^! node-2 ended: killed by SIGKILL after [\d.]+ s; restarting it in 1 s \(first failure\); the rest keep running\. Last lines of .*node-2\.log:$/m,
    );
    assert.match(
      out2,
      /^! recorder-1 ended: exit code 0 \(stopped cleanly, but not by the devnet\) after [\d.]+ s; restarting it in 1 s/m,
    );
    assert.match(out2, /^ {4}\d\d:\d\d:\d\d INFO SIGTERM: shutting down$/m, "the recorder's last log lines");
    assert.doesNotMatch(out2, /stopping recorders/, 'the devnet did not stop');
    const after = pidFileOf(d);
    for (const name of ['node-2', 'recorder-1'])
      assert.notEqual(after.processes[name], before.processes[name], `${name} has a new pid`);
    assert.equal(after.processes['node-1'], before.processes['node-1'], 'node-1 kept running');
    assert.equal(after.processes.discovery, before.processes.discovery, 'discovery kept running');
    // the restarted node catches up with a chain that kept growing, and follows it
    const at = d.output().length;
    await until(
      d,
      `node-2 back at node-1's height above ${h0! + 3}`,
      (o) =>
        blockLines(o.slice(at)).some((l) => {
          const [a, b] = heights(l);
          return a! > h0! + 3 && a === b;
        }),
      60_000,
    );
    const pids = Object.values(after.processes);
    leftovers.push(...pids);

    d.child.kill('SIGINT');
    assert.equal(await d.exit, 0, d.output());
    assert.match(d.output(), /devnet stopped cleanly/);
    for (const name of ['recorder-1', 'node-2', 'node-1', 'discovery'])
      assert.match(d.output(), new RegExp(`${name} +stopped`));
    assert.deepEqual(pids.filter(alive), [], 'a process outlived the devnet');
  });

  it('after a kill -9 of the devnet, a new start refuses and --stop ends what it left', async () => {
    const d = await startDevnet('killed', ['--nodes', '1', '--recorders', '1']);
    await converged(d, 1);
    const pids = pidsOf(d);
    leftovers.push(...pids);
    d.child.kill('SIGKILL');
    await d.exit;
    // its children run on in their own process groups (documented): they are found again
    assert.ok(pids.every(alive), 'children survive a kill -9 of the devnet');
    const again = spawnSync(process.execPath, ['--import', 'tsx', DEVNET, '--dir', d.dir], {
      encoding: 'utf8',
    });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /a devnet is already running \(pids .*\).*npm start -- --stop/);
    const stop = spawnSync(process.execPath, ['--import', 'tsx', DEVNET, '--dir', d.dir, '--stop'], {
      encoding: 'utf8',
    });
    assert.equal(stop.status, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`stopped ${pids.length} devnet processes`));
    assert.deepEqual(pids.filter(alive), [], 'a process outlived --stop');
  });

  it('runs through npm from another directory, its cairn line works from there, and SIGTERM to npm alone stops everything', async () => {
    const elsewhere = join(root.path, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    const d = await startDevnet('npm', ['--nodes', '1', '--recorders', '1'], { npmFrom: elsewhere });
    await converged(d, 1);
    const f = pidFileOf(d);
    const pids = [f.devnet, ...Object.values(f.processes)];
    leftovers.push(...pids);
    assert.equal(pids.length, 4, 'the devnet, discovery, a node, a recorder');
    // the try line, as printed, from the other directory
    const line = d
      .output()
      .split('\n')
      .find((l) => l.trim().endsWith(' rpc getblockchaininfo'));
    assert.ok(line, d.output());
    const r = spawnSync('sh', ['-c', line.trim()], { cwd: elsewhere, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `${line}\n${r.stdout}${r.stderr}`);
    assert.equal((JSON.parse(r.stdout) as { chain: string }).chain, 'local');

    // what `kill <pid of npm>` sends: to npm alone (the devnet is its grandchild's child)
    process.kill(d.child.pid!, 'SIGTERM');
    await until(d, 'a clean stop', (o) => /devnet stopped cleanly/.test(o), 40_000, true); // npm exits first
    const deadline = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(pids.filter(alive), [], `a process outlived npm:\n${d.output()}`);
    for (const name of ['recorder-1', 'node-1', 'discovery'])
      assert.match(d.output(), new RegExp(`${name} +stopped`));
  });

  it('a node that keeps failing (exit 2, configuration) is retried with the backoff, then given up while the rest keep going; --stop stops the devnet through SIGTERM to its main process alone', async () => {
    // the delays scaled down 10× (0.1 s first, 0.5 s for exit codes that need a fix)
    const d = await startDevnet('giveup', ['--nodes', '2', '--recorders', '1', '--restart-delay', '100']);
    const [h0] = await converged(d, 2, 1);
    const f = pidFileOf(d);
    const pids = [f.devnet, ...Object.values(f.processes)];
    leftovers.push(...pids);
    writeFileSync(join(d.dir, 'config', 'node-2.toml'), 'network = "nowhere"\n');
    process.kill(f.processes['node-2']!, 'SIGKILL');
    await until(
      d,
      'giving up on node-2',
      (o) => /node-2 ended: .*not restarting it any more/.test(o),
      60_000,
    );
    const out = d.output();
    assert.match(
      out,
      /^! node-2 ended: killed by SIGKILL after .*; restarting it in 0\.1 s \(first failure\)/m,
    );
    assert.match(
      out,
      /^! node-2 ended: exit code 2 \(configuration error\) after [\d.]+ s; restarting it in 0\.5 s \(failure 2 in a row; this exit code needs a fix that a restart alone does not bring, so not at once\)/m,
    );
    assert.match(
      out,
      /^! node-2 ended: exit code 2 \(configuration error\) after [\d.]+ s; not restarting it any more \(5 failures in a row, each within 15 s of its start\); the rest keep running/m,
    );
    assert.equal((out.match(/node-2 restarted/g) ?? []).length, 4);
    // node-1 keeps mining on, node-2 does not answer
    const at = d.output().length;
    await until(d, 'node-1 going on', (o) =>
      blockLines(o.slice(at)).some((l) => /node-2 …/.test(l) && heights(l)[0]! > h0!),
    );
    assert.doesNotMatch(d.output(), /stopping recorders/);

    // --stop from elsewhere sends SIGTERM to the devnet's main process alone: it stops the rest in order
    const stop = spawnSync(process.execPath, ['--import', 'tsx', DEVNET, '--dir', d.dir, '--stop'], {
      encoding: 'utf8',
    });
    assert.equal(stop.status, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`stopped the devnet \\(pid ${f.devnet}\\) and its processes`));
    assert.equal(await d.exit, 0, d.output());
    assert.match(d.output(), /SIGTERM: stopping recorders, nodes and discovery/);
    assert.match(d.output(), /node-2 +was not running \(last: exit code 2 \(configuration error\)\)/);
    for (const name of ['recorder-1', 'node-1', 'discovery'])
      assert.match(d.output(), new RegExp(`${name} +stopped`));
    assert.deepEqual(pids.filter(alive), [], 'a process outlived the devnet');
  });
});
