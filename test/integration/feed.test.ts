/**
 * A stock Bitcoin-Core-style subscriber (pyzmq, like contrib/zmq/zmq_sub.py) on a real cairnd's
 * feed sees every block and transaction in order, with no gaps in any topic's sequence numbers.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { curveKeyPair, Subscriber } from 'zeromq';
import { encodeAddress } from '../../shared/core/address.ts';
import { hashFromHex, hashToHex, toHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { generateIdentity } from '../../shared/identity/certificate.ts';
import { clientOptions } from '../../shared/zmq/curve.ts';
import { makeKey, out, signed, spend } from '../helpers/chain.ts';
import { cairnArgv, makeNode, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { rpcResult } from '../helpers/rpc.ts';
import { freePorts } from '../unit/zmq/ports.ts';

const PY = '/usr/bin/python3';
const SUB = fileURLToPath(new URL('../fixtures/zmq/zmq_sub_feed.py', import.meta.url));
const hasPyzmq = spawnSync(PY, ['-c', 'import zmq']).status === 0;
const root = tempDir('cairn-it-feed-');
let node: NodeProcess | undefined;
const extra: NodeProcess[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await node?.kill();
  await Promise.all(extra.map((n) => n.kill()));
  root.remove();
});

/** Polls `cond` until it holds; fails with `what()` after `ms`, or at once when `child` has exited. */
async function until(
  cond: () => boolean,
  what: () => string,
  ms: number,
  child?: ChildProcess,
): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    assert.ok(child === undefined || child.exitCode === null, `exited (${child?.exitCode}) first: ${what()}`);
    assert.ok(Date.now() < end, `not within ${ms / 1000} s: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `cairn watch --json` against node `n` with `args`; its output, and its exit code when it ends. */
function watch(n: NodeProcess, args: string[]) {
  const cli = spawn(process.execPath, cairnArgv(n, ['--json', 'watch', ...args]), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(cli);
  const w = { cli, out: '', err: '', exit: new Promise<number | null>((r) => cli.on('exit', r)) };
  cli.stdout.on('data', (d: Buffer) => {
    w.out += d.toString();
  });
  cli.stderr.on('data', (d: Buffer) => {
    w.err += d.toString();
  });
  return w;
}

describe('feed', {
  skip: hasPyzmq ? false : 'pyzmq not installed (apt-get install python3-zmq)',
  timeout: 180_000,
}, () => {
  it('a stock subscriber sees every block and tx, in order, without sequence gaps', async () => {
    node = await makeNode({ name: 'n', root: root.path });
    await node.start();
    // ends after the 13 blocks below (or 50 s)
    const sub = spawn(PY, [SUB, `tcp://127.0.0.1:${node.feedPort}`, '50', '13'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(sub);
    let text = '';
    sub.stdout.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const done = new Promise((r) => sub.on('exit', r));
    await until(
      () => text.includes('READY'),
      () => text,
      20_000,
      sub,
    );
    await new Promise((r) => setTimeout(r, 1000)); // the subscription reaches the publisher
    const key = makeKey();
    const addr = encodeAddress(LOCAL.addressPrefix, key.owner);
    const blocks = (await rpcResult(node, 'generatetoaddress', [12, addr])) as string[];
    const first = (await rpcResult(node, 'getblock', [blocks[0], 2])) as {
      tx: { txid: string; vout: { value: number }[] }[];
    };
    const tx = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(key, hashFromHex(first.tx[0]!.txid)!, 0)],
      outputs: [out(key.owner, first.tx[0]!.vout[0]!.value - 1000)],
    });
    await rpcResult(node, 'sendrawtransaction', [toHex(tx.raw)]);
    const last = (await rpcResult(node, 'generatetoaddress', [1, addr])) as string[];
    await done;
    const lines = text.split('\n').filter((l) => /^(hashblock|hashtx|rawblock|rawtx|sequence) /.test(l));
    const byTopic = new Map<string, { seq: number; body: string }[]>();
    for (const l of lines) {
      const [topic, seq, body] = l.split(' ');
      byTopic.set(topic!, [...(byTopic.get(topic!) ?? []), { seq: Number(seq), body: body ?? '' }]);
    }
    for (const [topic, msgs] of byTopic) {
      for (let i = 0; i < msgs.length; i++) assert.equal(msgs[i]!.seq, i, `${topic} sequence gap at ${i}`);
    }
    const hashblocks = byTopic.get('hashblock')!.map((m) => m.body);
    assert.deepEqual(hashblocks, [...blocks, ...last], 'every block, in order, hash in display order');
    const hashtxs = byTopic.get('hashtx')!.map((m) => m.body);
    assert.ok(hashtxs.includes(hashToHex(tx.txid)), 'the sent tx');
    // the tx appears when it enters the mempool (A) and again in its block; sequence shows C and A events
    const labels = byTopic
      .get('sequence')!
      .map((m) => String.fromCharCode(Number.parseInt(m.body.slice(64, 66), 16)));
    assert.equal(labels.filter((l) => l === 'C').length, 13);
    assert.equal(labels.filter((l) => l === 'A').length, 1);
    assert.equal(byTopic.get('rawblock')!.length, 13);
  });

  it('a CURVE feed admits the listed subscriber keys and no other; cairn watch reads it', async () => {
    const allowed = curveKeyPair();
    const stranger = curveKeyPair();
    const watcher = generateIdentity(join(root.path, 'watcher'), 'subscriber');
    const unlisted = generateIdentity(join(root.path, 'unlisted'), 'subscriber');
    const n = await makeNode({
      name: 'curve',
      root: root.path,
      feedSubscribers: [allowed.publicKey, watcher.publicKey],
    });
    await n.start();
    extra.push(n);
    const subscribe = (keys: { publicKey: string; secretKey: string }) => {
      const s = new Subscriber({ ...clientOptions(keys, n.key), receiveTimeout: 3000 });
      s.connect(`tcp://127.0.0.1:${n.feedPort}`);
      s.subscribe('hashblock');
      return s;
    };
    const good = subscribe(allowed);
    const bad = subscribe(stranger);
    // `cairn watch` with a listed identity, the node's peer key as the server key
    const w = watch(n, ['--curve-secret', watcher.secretPath, '--feed-key', n.key, '--blocks', '1']);
    await until(
      () => w.err.includes('watching'),
      () => w.err,
      20_000,
      w.cli,
    );
    // Each subscription reaches the publisher some time after its handshake: mine until both the
    // listed subscriber and cairn watch have had a block, and check they got ones that were mined.
    const addr = encodeAddress(LOCAL.addressPrefix, makeKey().owner);
    const mined: string[] = [];
    good.receiveTimeout = 30_000;
    const got = good.receive();
    let received: Awaited<typeof got> | undefined;
    void got.then(
      (m) => {
        received = m;
      },
      () => undefined,
    );
    const end = Date.now() + 30_000;
    while ((received === undefined || w.cli.exitCode === null) && Date.now() < end) {
      mined.push(...((await rpcResult(n, 'generatetoaddress', [1, addr])) as string[]));
      await new Promise((r) => setTimeout(r, 500));
    }
    const [topic, body, seq] = await got;
    assert.equal(topic!.toString(), 'hashblock');
    const hash = Buffer.from(body!).toString('hex');
    assert.ok(mined.includes(hash), `the listed subscriber got ${hash}, not one of ${mined}`);
    // the feed's hashblock counter: this node published one per block mined here, from 0
    assert.equal(Buffer.from(seq!).readUInt32LE(0), mined.indexOf(hash));
    await assert.rejects(bad.receive(), (e: Error & { code?: string }) => e.code === 'EAGAIN');
    assert.equal(await w.exit, 0, w.err);
    const line = w.out.split('\n').find((l) => l.includes('"hashblock"'));
    assert.ok(line, `cairn watch printed no block: ${w.out}${w.err}`);
    assert.ok(mined.includes(JSON.parse(line).hash), line);
    good.close();
    bad.close();
    // a plain subscriber gets nothing (the socket speaks CURVE only)
    const plain = new Subscriber({ receiveTimeout: 1500 });
    plain.connect(`tcp://127.0.0.1:${n.feedPort}`);
    plain.subscribe('');
    await rpcResult(n, 'generatetoaddress', [1, addr]);
    await assert.rejects(plain.receive());
    plain.close();
    // cairn watch says why it gets nothing, and stops: an unlisted key, no CURVE on a CURVE feed
    const refused = watch(n, ['--curve-secret', unlisted.secretPath, '--feed-key', n.key]);
    const noCurve = watch(n, ['--feed', `127.0.0.1:${n.feedPort}`]);
    const codes = await Promise.race([
      Promise.all([refused.exit, noCurve.exit]),
      new Promise((r) => setTimeout(r, 30_000, 'still running after 30 s').unref()),
    ]);
    assert.deepEqual(codes, [3, 3], `${refused.err}\n${noCurve.err}`);
    const errorOf = (err: string) => JSON.parse(err.split('\n').find((l) => l.startsWith('{"error"'))!).error;
    assert.equal(errorOf(refused.err).code, 'feed-key-refused');
    assert.match(
      errorOf(refused.err).message,
      new RegExp(`refused our key ${unlisted.publicKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    assert.equal(errorOf(noCurve.err).code, 'feed-mechanism');
    assert.match(errorOf(noCurve.err).message, /speaks CURVE: pass --curve-secret and --feed-key/);
  });

  it('cairn watch says when the feed does not answer, when it is lost and when it is back', async () => {
    const n = await makeNode({ name: 'comeback', root: root.path });
    extra.push(n);
    // started before the node: nothing answers yet
    const w = watch(n, ['--feed', `127.0.0.1:${n.feedPort}`, '--blocks', '1']);
    await until(
      () => /no answer from the feed at .* yet/.test(w.err),
      () => w.err,
      20_000,
      w.cli,
    );
    assert.doesNotMatch(w.err, /watching/);
    await n.start();
    await until(
      () => /watching tcp:/.test(w.err),
      () => w.err,
      20_000,
      w.cli,
    );
    assert.equal(await n.stop(), 0);
    await until(
      () => /lost the feed at .*; reconnecting/.test(w.err),
      () => w.err,
      20_000,
      w.cli,
    );
    await n.start();
    await until(
      () => /reconnected to the feed/.test(w.err),
      () => w.err,
      30_000,
      w.cli,
    );
    const addr = encodeAddress(LOCAL.addressPrefix, makeKey().owner);
    for (const end = Date.now() + 30_000; w.cli.exitCode === null && Date.now() < end; )
      await Promise.all([
        rpcResult(n, 'generatetoaddress', [1, addr]),
        new Promise((r) => setTimeout(r, 500)),
      ]);
    assert.equal(await w.exit, 0, w.err);
    assert.match(w.out, /"topic":"hashblock"/);
  });

  it('publishes a topic on its own address too ([[feed.publish]], like -zmqpubhashblock)', async () => {
    const [own] = await freePorts(1);
    const n = await makeNode({
      name: 'publish',
      root: root.path,
      feedPublish: [{ topic: 'hashblock', address: `127.0.0.1:${own}` }],
    });
    await n.start();
    extra.push(n);
    const notes = (await rpcResult(n, 'getzmqnotifications')) as { type: string; address: string }[];
    assert.ok(notes.some((x) => x.type === 'pubhashblock' && x.address === `tcp://127.0.0.1:${own}`));
    assert.equal(notes.filter((x) => x.address === `tcp://127.0.0.1:${own}`).length, 1, 'one topic there');
    const sub = new Subscriber({ receiveTimeout: 3000 });
    sub.connect(`tcp://127.0.0.1:${own}`);
    sub.subscribe('');
    await new Promise((r) => setTimeout(r, 500));
    const [mined] = (await rpcResult(n, 'generatetoaddress', [
      1,
      encodeAddress(LOCAL.addressPrefix, makeKey().owner),
    ])) as string[];
    // only hashblock comes on that address (the coinbase's hashtx/rawtx and the sequence do not)
    const [topic, body] = await sub.receive();
    assert.equal(topic!.toString(), 'hashblock');
    assert.equal(Buffer.from(body!).toString('hex'), mined);
    sub.receiveTimeout = 700;
    await assert.rejects(sub.receive());
    sub.close();
  });
});
