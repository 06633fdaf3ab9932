import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { toHex } from '../../../shared/core/bytes.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { prepareBlock } from '../../../shared/core/validation/block-prepare.ts';
import {
  createBatchVerifier,
  type PoolLoss,
  poolLossMessage,
  type SigCheck,
} from '../../../shared/crypto/batch.ts';
import { loadVerifier } from '../../../shared/crypto/load.ts';
import { buildSpendingChain } from '../../helpers/chain.ts';
import { validChecks } from '../../helpers/signatures.ts';

const CLOSE_WHILE_PREPARING = fileURLToPath(
  new URL('../../fixtures/close-while-preparing.ts', import.meta.url),
);

const { verifier } = loadVerifier('auto');
const pool = createBatchVerifier(verifier, { backend: 'native', workers: 1 });
after(() => pool.close());

const valid = validChecks;

describe('batch verifier (worker threads)', () => {
  const items = valid(300);

  it('accepts a batch of valid signatures, on two threads', () => {
    assert.equal(pool.threads, 2);
    assert.equal(pool.verifyAll(items), -1);
  });

  it('reports the first bad item, wherever it falls (caller share or worker share)', () => {
    for (const bad of [0, 7, 149, 150, 151, 299]) {
      const copy = items.map((x) => ({ ...x }));
      const sig = Uint8Array.from(copy[bad]!.sig);
      sig[10]! ^= 0x40;
      copy[bad] = { ...copy[bad]!, sig };
      assert.equal(pool.verifyAll(copy), bad, `bad item at ${bad}`);
    }
    const twoBad = items.map((x) => ({ ...x }));
    twoBad[200] = { ...twoBad[200]!, msg: new Uint8Array(32) };
    twoBad[250] = { ...twoBad[250]!, msg: new Uint8Array(32) };
    assert.equal(pool.verifyAll(twoBad), 200);
  });

  it('reuses its shared buffers without answers of an earlier batch leaking into a later one', async () => {
    const bad = items.map((x) => ({ ...x }));
    for (const i of [120, 180, 299]) bad[i] = { ...bad[i]!, msg: new Uint8Array(32) };
    assert.equal(pool.verifyAll(bad), 120);
    // smaller and larger batches in the same buffers: every answer byte is this batch's own
    assert.equal(pool.verifyAll(items.slice(0, 250)), -1);
    assert.equal(pool.verifyAll(items), -1);
    assert.equal(await pool.verifyAsync(bad), 120);
    assert.deepEqual(
      await Promise.all([pool.verifyAsync(items.slice(0, 200))!, pool.verifyAsync(bad.slice(150))!]),
      [-1, 30],
    );
    assert.equal(await pool.verifyAsync(items), -1);
  });

  it('agrees with the inline verifier item by item, also on malformed items', () => {
    const mixed: SigCheck[] = items.slice(0, 100).map((x, i) => {
      if (i % 3 === 0) return { ...x, sig: new Uint8Array(randomBytes(64)) };
      if (i % 5 === 0) return { ...x, pub: Uint8Array.from([0x04, ...x.pub.subarray(1)]) };
      return x;
    });
    for (let i = 0; i < mixed.length; i++) {
      const expectBad = !verifier.verify(mixed[i]!.sig, mixed[i]!.msg, mixed[i]!.pub);
      const batch = [...items.slice(0, 100), mixed[i]!];
      assert.equal(pool.verifyAll(batch) === 100, expectBad);
    }
  });

  it('small batches and a pool without workers verify inline with the same answers', () => {
    const inlineOnly = createBatchVerifier(verifier, { backend: 'native', workers: 0 });
    assert.equal(inlineOnly.threads, 1);
    assert.equal(inlineOnly.verifyAll(items), -1);
    assert.equal(pool.verifyAll(items.slice(0, 5)), -1);
    const wrong = [{ ...items[0]!, msg: new Uint8Array(32) }];
    assert.equal(inlineOnly.verifyAll(wrong), 0);
    assert.equal(pool.verifyAll(wrong), 0);
  });

  it('verifyAsync gives the answers of verifyAll without blocking the caller, several batches at once', async () => {
    const bad = items.map((x) => ({ ...x }));
    bad[123] = { ...bad[123]!, msg: new Uint8Array(32) };
    const small = items.slice(0, 3);
    const started = [
      pool.verifyAsync(items),
      pool.verifyAsync(bad),
      pool.verifyAsync(small),
      pool.verifyAsync([]),
    ];
    // the caller is free while the workers verify: this line runs before any answer
    let settled = false;
    void Promise.all(started).then(() => {
      settled = true;
    });
    assert.equal(settled, false);
    assert.deepEqual(await Promise.all(started), [-1, 123, -1, -1]);
    const inlineOnly = createBatchVerifier(verifier, { backend: 'native', workers: 0 });
    assert.equal(inlineOnly.verifyAsync(items), undefined, 'no workers: the caller verifies inline');
  });

  it('verifyEachAsync answers per item, as the inline verifier, malformed items included', async () => {
    const mixed: SigCheck[] = items.slice(0, 40).map((x, i) => {
      if (i % 7 === 3) return { ...x, msg: new Uint8Array(32) };
      return x;
    });
    const expected = Uint8Array.from(mixed, (x) => (verifier.verify(x.sig, x.msg, x.pub) ? 1 : 0));
    assert.ok(expected.includes(0) && expected.includes(1));
    assert.deepEqual(await pool.verifyEachAsync(mixed), expected);
    // a malformed item (a 65-byte key) cannot go to the workers: verified here, with the same answers
    const malformed = [...mixed, { ...items[0]!, pub: new Uint8Array(65) }];
    assert.deepEqual(await pool.verifyEachAsync(malformed), Uint8Array.from([...expected, 0]));
    assert.deepEqual(await pool.verifyEachAsync([]), new Uint8Array(0));
    const inlineOnly = createBatchVerifier(verifier, { backend: 'native', workers: 0 });
    assert.equal(inlineOnly.verifyEachAsync(items), undefined);
  });
});

describe('prepareBlocks (blocks decoded and checked on the workers)', () => {
  const blocks = buildSpendingChain(20);
  const raws = blocks.map((b) => b.raw);
  const two = createBatchVerifier(verifier, { backend: 'native', workers: 2, params: LOCAL });
  after(() => two.close());

  it('gives each block the pack prepareBlock gives it here, across two workers', async () => {
    const packs = await two.prepareBlocks(raws)!;
    assert.equal(packs.length, raws.length);
    for (let i = 0; i < raws.length; i++)
      assert.equal(toHex(packs[i]!), toHex(prepareBlock(raws[i]!, LOCAL, verifier)), `block ${i}`);
  });

  it('a block that fails there gets no pack, and only it', async () => {
    const bad = buildSpendingChain(20, 17).map((b) => b.raw);
    const packs = await two.prepareBlocks([...raws.slice(0, 12), bad[16]!, raws[17]!, new Uint8Array(5)])!;
    assert.deepEqual(
      packs.map((p) => p !== undefined),
      [...new Array(12).fill(true), false, true, false],
    );
  });

  it('without workers or without the network, prepares nothing (the caller decodes inline)', () => {
    const noParams = createBatchVerifier(verifier, { backend: 'native', workers: 0 });
    assert.equal(noParams.prepareBlocks(raws), undefined);
    assert.equal(pool.prepareBlocks(raws), undefined, 'a pool made without params');
  });

  it('the calling thread can take blocks no worker has claimed, with the same packs', async () => {
    // a worker busy with a long batch leaves the next one's blocks unclaimed
    const long = two.prepareBlocks([...raws, ...raws, ...raws])!;
    const next = two.prepareBlocks(raws)!;
    let helped = 0;
    while (two.helpPrepare()) helped++;
    assert.ok(helped > 0, 'the caller prepared some blocks');
    const [a, b] = await Promise.all([long, next]);
    for (let i = 0; i < raws.length; i++) {
      const want = toHex(prepareBlock(raws[i]!, LOCAL, verifier));
      assert.equal(toHex(b[i]!), want, `block ${i}`);
      assert.equal(toHex(a[i + raws.length]!), want, `block ${i} of the long batch`);
    }
    assert.equal(two.helpPrepare(), false, 'nothing left to claim');
  });
});

describe('a worker that exits without an error (issue 12: a prepare job waited on an unref’d timer)', () => {
  const blocks = buildSpendingChain(8);
  const raws = blocks.map((b) => b.raw);
  const items = validChecks(300);

  it('fails the prepare job at once, says so once, and verifies everything here from then on', async () => {
    const losses: PoolLoss[] = [];
    const p = createBatchVerifier(verifier, {
      backend: 'native',
      workers: 1,
      params: LOCAL,
      fault: 'exit-on-prepare',
      onLost: (l) => losses.push(l),
    });
    try {
      // without the exit handler this awaits a 30 s unref'd timer and the test process quits pending
      const packs = await p.prepareBlocks(raws)!;
      assert.equal(packs.length, raws.length);
      assert.ok(
        packs.every((x) => x === undefined),
        'no pack from a worker that died: the caller takes the blocks the ordinary way',
      );
      assert.deepEqual(
        losses.map((l) => [l.worker, l.cause]),
        [[0, 'exit']],
      );
      assert.equal(p.lost, losses[0], 'the pool says why it is no longer used');
      assert.match(
        poolLossMessage(p.lost!),
        /^verify workers lost \(exit: exit code 0\): signatures are verified on the main thread/,
      );
      assert.equal(p.prepareBlocks(raws), undefined, 'no more jobs for the pool');
      assert.equal(p.verifyAsync(items), undefined);
      const bad = items.map((x) => ({ ...x }));
      bad[200] = { ...bad[200]!, msg: new Uint8Array(32) };
      assert.equal(p.verifyAll(bad), 200, 'verified inline, same answer');
    } finally {
      await p.close();
    }
    assert.equal(losses.length, 1, 'closing is not a loss');
  });

  it('redoes a posted batch here when its worker exits before answering', async () => {
    const losses: PoolLoss[] = [];
    const p = createBatchVerifier(verifier, {
      backend: 'native',
      workers: 1,
      fault: 'exit-on-share',
      ringItems: 0,
      onLost: (l) => losses.push(l),
    });
    try {
      const bad = items.map((x) => ({ ...x }));
      bad[77] = { ...bad[77]!, sig: new Uint8Array(64) };
      const [whole, each] = await Promise.all([p.verifyAsync(bad)!, p.verifyEachAsync(items.slice(0, 50))!]);
      assert.equal(whole, 77);
      assert.deepEqual(each, new Uint8Array(50).fill(1));
      assert.deepEqual(
        losses.map((l) => l.cause),
        ['exit'],
      );
    } finally {
      await p.close();
    }
  });

  // posted, it waited out the 30 s worker timeout on the calling thread (cairnd stopping mid-sync did)
  it('once close() has begun, a large batch is verified here, not posted to a worker being stopped', async () => {
    const p = createBatchVerifier(verifier, { backend: 'native', workers: 1, params: LOCAL });
    assert.equal(await p.verifyAsync(items), -1, 'the worker is up');
    assert.equal(p.handOvers().shared, 1);
    const closed = p.close();
    assert.equal(p.verifyAll(items), -1);
    assert.equal(p.handOvers().shared, 1, 'verifyAll posted nothing');
    assert.equal(p.verifyAsync(items), undefined, 'no workers to hand it to');
    assert.equal(p.prepareBlocks(raws), undefined);
    await closed;
    assert.equal(p.lost, undefined);
  });

  it('close() with a prepare job out keeps the process alive until the workers are gone', () => {
    // the settled job used to unref the workers right after terminate() had ref'd them: the
    // process quit with close() pending (CI's import.test.ts, 'Promise resolution is still pending')
    const child = spawnSync(process.execPath, ['--import', 'tsx', CLOSE_WHILE_PREPARING], {
      encoding: 'utf8',
    });
    assert.equal(child.stdout.trim(), 'closed', `status ${child.status}: ${child.stderr}`);
    assert.equal(child.status, 0);
  });

  it('a closed pool does not report its workers as lost', async () => {
    const losses: PoolLoss[] = [];
    const p = createBatchVerifier(verifier, { backend: 'native', workers: 2, onLost: (l) => losses.push(l) });
    assert.equal(await p.verifyAsync(items), -1);
    assert.equal(p.lost, undefined);
    await p.close();
    assert.deepEqual(losses, []);
    assert.equal(p.lost, undefined);
  });
});
