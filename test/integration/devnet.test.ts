/**
 * `npm start` end to end, at a smaller scale: the devnet script with 2 nodes and a recorder (real
 * processes: discovery, cairnd ×2, cairn-recorder) reaches height ≥ 5 on every node — the nodes
 * find each other through discovery alone — and SIGINT (what Ctrl-C sends) stops every process
 * it started, cleanly.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/node.ts';

const DEVNET = fileURLToPath(new URL('../../scripts/devnet.ts', import.meta.url));
const root = tempDir('cairn-it-devnet-');
const started: ChildProcess[] = [];
/** Children of a devnet the test killed with SIGKILL: killed too if the test fails before --stop. */
const leftovers: number[] = [];
after(() => {
  for (const c of started) c.kill('SIGKILL');
  for (const p of leftovers.filter(alive)) process.kill(p, 'SIGKILL');
  root.remove();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
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

/** Runs scripts/devnet.ts with `args` on a free random port block (retried when one is taken). */
async function startDevnet(name: string, args: string[]): Promise<Devnet> {
  const dir = join(root.path, name);
  let out = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    // a random port block below the ephemeral range (see test/unit/zmq/ports.ts), beside any devnet
    const base = 23_000 + 250 * Math.floor(Math.random() * 36);
    out = '';
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        DEVNET,
        ...args,
        '--dir',
        join(dir, 'data'),
        '--keys',
        join(dir, 'keys'),
        '--port-base',
        String(base),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
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

/** Waits until a "block" line shows every one of `nodes` nodes at height ≥ 5. */
async function converged(d: Devnet, nodes: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  const done = () =>
    d
      .output()
      .split('\n')
      .filter((l) => l.startsWith('block'))
      .some((l) => {
        const h = heights(l);
        return h.length === nodes && h.every((x) => x >= 5);
      });
  while (!done()) {
    assert.ok(Date.now() < deadline, `no height ≥ 5 on every node within 2 minutes:\n${d.output()}`);
    assert.equal(d.child.exitCode, null, `devnet exited early:\n${d.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const pidsOf = (d: Devnet) => JSON.parse(readFileSync(join(d.dir, 'devnet.pids.json'), 'utf8')) as number[];

describe('devnet (npm start)', { timeout: 180_000 }, () => {
  it('brings up discovery, 2 nodes and a recorder that converge, and stops them all on SIGINT', async () => {
    const d = await startDevnet('two', ['--nodes', '2', '--recorders', '1']);
    await converged(d, 2);
    const out = d.output();
    assert.match(
      out,
      /made identities in .*discovery, node-1 peer, node-1 proof, node-2 peer, node-2 proof, recorder-1, wallet/,
    );
    assert.match(out, /RPC http:\/\/127\.0\.0\.1:\d+\/ +explorer/);
    // each node's blocks/headers on the block lines (scripts/devnet/status.ts)
    assert.match(out, /^block +\d+ +\S+ +node-1 \d+\/\d+ · node-2 \d+\/\d+ +peers \d\/\d$/m);
    const pids = pidsOf(d);
    assert.equal(pids.length, 4, 'discovery, two nodes, one recorder');
    assert.ok(pids.every(alive));

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
});
