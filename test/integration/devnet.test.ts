/**
 * `npm start` end to end, at a smaller scale: the devnet script with 2 nodes and a recorder (real
 * processes: discovery, cairnd ×2, cairn-recorder) reaches height ≥ 5 on every node — the nodes
 * find each other through discovery alone — and SIGINT (what Ctrl-C sends) stops every process
 * it started, cleanly.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/node.ts';

const DEVNET = fileURLToPath(new URL('../../scripts/devnet.ts', import.meta.url));
const root = tempDir('cairn-it-devnet-');
let devnet: ChildProcess | undefined;
after(() => {
  devnet?.kill('SIGKILL');
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

/** Heights per node from the devnet's "block" lines, e.g. `block 7 … node-1 7 · node-2 6 peers 2/2`. */
function heights(line: string): number[] {
  return [...line.matchAll(/node-\d+ (\d+|…)/g)].map((m) => (m[1] === '…' ? -1 : Number(m[1])));
}

describe('devnet (npm start)', { timeout: 180_000 }, () => {
  it('brings up discovery, 2 nodes and a recorder that converge, and stops them all on SIGINT', async () => {
    let out = '';
    let exit: Promise<number | null> | undefined;
    // a random port block below the ephemeral range (see test/unit/zmq/ports.ts), beside any devnet
    for (let attempt = 0; attempt < 3 && exit === undefined; attempt++) {
      const base = 23_000 + 250 * Math.floor(Math.random() * 36);
      out = '';
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          DEVNET,
          '--nodes',
          '2',
          '--recorders',
          '1',
          '--dir',
          join(root.path, 'data'),
          '--keys',
          join(root.path, 'keys'),
          '--port-base',
          String(base),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const ended = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const busy = await Promise.race([
        ended.then(() => /is in use/.test(out)),
        new Promise<false>((r) => setTimeout(() => r(false), 3000)),
      ]);
      if (busy) continue;
      devnet = child;
      exit = ended;
    }
    assert.ok(devnet !== undefined && exit !== undefined, `devnet did not start:\n${out}`);

    const deadline = Date.now() + 120_000;
    const converged = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('block'))
        .some((l) => {
          const h = heights(l);
          return h.length === 2 && h.every((x) => x >= 5);
        });
    while (!converged()) {
      assert.ok(Date.now() < deadline, `no height ≥ 5 on both nodes within 2 minutes:\n${out}`);
      assert.equal(devnet.exitCode, null, `devnet exited early:\n${out}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(
      out,
      /made identities in .*discovery, node-1 peer, node-1 proof, node-2 peer, node-2 proof, recorder-1, wallet/,
    );
    assert.match(out, /RPC http:\/\/127\.0\.0\.1:\d+\/ +explorer/);
    const pids = JSON.parse(readFileSync(join(root.path, 'data', 'devnet.pids.json'), 'utf8')) as number[];
    assert.equal(pids.length, 4, 'discovery, two nodes, one recorder');
    assert.ok(pids.every(alive));

    devnet.kill('SIGINT');
    assert.equal(await exit, 0, out);
    assert.match(out, /devnet stopped cleanly/);
    for (const name of ['recorder-1', 'node-2', 'node-1', 'discovery'])
      assert.match(out, new RegExp(`${name} +stopped`));
    assert.deepEqual(pids.filter(alive), [], 'a process outlived the devnet');
  });
});
