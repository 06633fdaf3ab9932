/**
 * Crash safety: block connection runs in a child process that is killed with SIGKILL at random
 * moments (50 trials). Each time the database must open, and its state must equal the state a
 * clean run reaches at the same tip height (compared by digest of the UTXO set and indexes).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { IndexEntry } from '../../../services/node/chain/block-index.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { toHex } from '../../../shared/core/bytes.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { makeKey, out, signed, spend } from '../../helpers/chain.ts';
import { blockOn, digestHex, openChain, tempDir } from '../../helpers/node.ts';

const TRIALS = 50;
const BLOCKS = 40;
const worker = fileURLToPath(new URL('../../fixtures/connect-blocks.ts', import.meta.url));

/** 40 blocks; from height 11 on each spends an old coinbase into 8 outputs and some of those on. */
function makeBlocks(): DecodedBlock[] {
  const miner = makeKey();
  const blocks: DecodedBlock[] = [];
  const src = tempDir();
  const { chain, close } = openChain(src.path);
  let parent: IndexEntry = chain.tip;
  let change: DecodedTx | undefined;
  for (let i = 0; i < BLOCKS; i++) {
    const h = parent.height + 1;
    const txs: DecodedTx[] = [];
    let fees = 0;
    if (h > LOCAL.coinbaseMaturity) {
      const cb = blocks[h - LOCAL.coinbaseMaturity - 1]!.txs[0]!;
      const amount = cb.tx.outputs[0]!.amount;
      const split = signed({
        version: 1,
        kind: 'transfer',
        inputs: [spend(miner, cb.txid, 0)],
        outputs: Array.from({ length: 8 }, (_, k) =>
          out(miner.owner, Math.floor(amount / 8) - (k === 0 ? 800 : 0)),
        ),
      });
      txs.push(split);
      fees += amount - split.tx.outputs.reduce((s, o) => s + o.amount, 0);
      if (change !== undefined) {
        const again = signed({
          version: 1,
          kind: 'transfer',
          inputs: [spend(miner, change.txid, 1)],
          outputs: [out(makeKey().owner, 1000)],
        });
        txs.push(again);
        fees += change.tx.outputs[1]!.amount - 1000;
      }
      change = split;
    }
    const b = blockOn(parent, txs, miner.owner, fees, `k${i}`);
    chain.processBlock(b.raw);
    blocks.push(b);
    parent = chain.tip;
  }
  close();
  src.remove();
  return blocks;
}

/**
 * Runs the child on `dir` and kills it with SIGKILL once it has reported `kill.afterLines` lines
 * after "ready" (one per block it processed), `kill.delayMs` later: the kill points follow the
 * child's progress, so a loaded machine that runs it slower still sees kills spread over the run.
 */
function runAndKill(
  dir: string,
  file: string,
  kill?: { afterLines: number; delayMs: number },
): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, dir, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let outText = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      outText += d.toString();
      if (kill === undefined || timer !== undefined) return;
      const lines = outText.split('\n');
      const ready = lines.indexOf('ready');
      // complete lines after "ready" (the last piece may be a line still being written)
      if (ready >= 0 && lines.length - 1 - (ready + 1) >= kill.afterLines)
        timer = setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(outText);
    });
  });
}

describe('crash safety', () => {
  it(`survives SIGKILL at random points (${TRIALS} trials) with zero corruptions`, {
    timeout: 600_000,
  }, async () => {
    const blocks = makeBlocks();
    const work = tempDir();
    const file = join(work.path, 'blocks.hex');
    writeFileSync(file, `${blocks.map((b) => toHex(b.raw)).join('\n')}\n`);

    // the state after each height, from a clean run
    const reference: string[] = [];
    const ref = openChain(join(work.path, 'reference'));
    reference.push(digestHex(ref.chain));
    for (const b of blocks) {
      ref.chain.processBlock(b.raw);
      reference.push(digestHex(ref.chain));
    }
    ref.close();

    // how long a block takes in an uninterrupted run, to land kills inside blocks too
    const t0 = Date.now();
    const full = await runAndKill(join(work.path, 'timing'), file);
    assert.match(full, /done/);
    const perBlockMs = Math.max(1, (Date.now() - t0 - 300) / BLOCKS);

    const heights: number[] = [];
    const dir = join(work.path, 'victim');
    for (let t = 0; t < TRIALS; t++) {
      // every trial continues on the same database: it is killed again and again mid-run
      await runAndKill(dir, file, {
        afterLines: Math.floor(Math.random() * BLOCKS),
        delayMs: Math.floor(Math.random() * perBlockMs),
      });
      const c = openChain(dir);
      const h = c.chain.tipHeight();
      const digest = digestHex(c.chain);
      c.close();
      assert.equal(digest, reference[h], `trial ${t}: state at height ${h} differs from a clean run`);
      heights.push(h);
      if (h === BLOCKS) {
        // start over on a new database so later kills land mid-run again
        await import('node:fs').then((fs) => fs.rmSync(dir, { recursive: true, force: true }));
      }
    }
    work.remove();
    assert.equal(heights.length, TRIALS);
    // the kills must have landed at many different points, not all before or after the run
    const midRun = new Set(heights.filter((h) => h > 0 && h < BLOCKS));
    assert.ok(midRun.size >= 5, `kills landed at too few points: ${heights.join(',')}`);
  });
});
