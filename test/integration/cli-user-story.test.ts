/**
 * A user's story through the `cairn` CLI only, against a real cairnd on `local`: two wallets,
 * mining to the first, coins sent to the second (waiting for the confirmation), an asset
 * registered from a file, three bitmarks issued, one transferred there and back, its provenance.
 * Meanwhile a ZMQ subscriber (zeromq.js, in this test) and `cairn watch --json` record the feed:
 * every block and transaction, in order, with no gap in any topic's sequence numbers. Then the
 * wallet's bad-input paths: a wrong passphrase and a damaged file are refused and the file on
 * disk is never touched. Last, shares: a bitmark split into 1000 shares, a grant, a swap of 200
 * shares for 5 coins offered by one wallet and accepted by the other (refused without a yes),
 * and the shares' provenance through the CLI and REST.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Subscriber } from 'zeromq';
import { cairnArgv, eventually, makeNode, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { heard } from '../helpers/subscriber.ts';

const root = tempDir('cairn-it-cli-');
let node: NodeProcess | undefined;
const children: ChildProcess[] = [];
let sub: Subscriber | undefined;
after(async () => {
  sub?.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await node?.kill();
  root.remove();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(
  args: string[],
  env: Record<string, string> = {},
): {
  proc: ChildProcess;
  done: Promise<Run>;
  stderr: () => string;
} {
  const proc = spawn(process.execPath, cairnArgv(node!, args), {
    stdio: ['ignore', 'pipe', 'pipe'],
    // TEST ONLY: a cheap scrypt for the many wallet opens of this test
    env: { ...process.env, CAIRN_WALLET_TEST_SCRYPT_N: '1024', ...env },
  });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<Run>((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { proc, done, stderr: () => stderr };
}

function cairn(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return start(args, env).done;
}

/** Runs with --json, asserts exit 0 and returns the parsed output. */
async function cairnJson<T = Record<string, unknown>>(
  args: string[],
  env: Record<string, string> = {},
): Promise<T> {
  const r = await cairn([...args, '--json'], env);
  assert.equal(r.code, 0, `cairn ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

/** What the first story leaves for the share story: wallets, the bitmarks, a way to mine. */
let story:
  | {
      w1: string[];
      w2: string[];
      env2: Record<string, string>;
      bitmarks: string[];
      bitmarkOwner: string;
      mine: (n: number) => Promise<void>;
    }
  | undefined;

interface FeedMsg {
  topic: string;
  body: string;
  seq: number;
}

describe('cairn CLI: a user story against a real node', { timeout: 300_000 }, () => {
  it('wallets, coins, an asset, bitmarks and provenance; the feed sees it all in order', async () => {
    node = await makeNode({ name: 'n', root: root.path });
    await node.start();

    // the feed subscriber of this test: every topic, every message
    sub = new Subscriber();
    const subscribed = heard(sub, 'the feed subscriber');
    sub.connect(`tcp://127.0.0.1:${node.feedPort}`);
    for (const t of ['hashblock', 'hashtx', 'rawblock', 'rawtx', 'sequence']) sub.subscribe(t);
    const feed: FeedMsg[] = [];
    const reading = (async () => {
      try {
        for await (const [topic, body, seq] of sub!)
          feed.push({ topic: topic!.toString(), body: body!.toString('hex'), seq: seq!.readUInt32LE(0) });
      } catch {
        /* closed at the end */
      }
    })();
    // and `cairn watch`, until the last block
    const TOTAL_BLOCKS = 18;
    const watch = start([
      'watch',
      '--json',
      '--topics',
      'hashblock',
      'hashtx',
      '--blocks',
      String(TOTAL_BLOCKS),
    ]);
    await eventually('cairn watch is subscribed', () => /watching tcp:/.test(watch.stderr()));
    await subscribed;
    await new Promise((r) => setTimeout(r, 1500)); // the watch's subscriptions reach the publisher

    // --- wallets ---
    const w1 = ['--wallet', join(root.path, 'w1.json'), '--passphrase-file', join(root.path, 'pp1')];
    const w2 = ['--wallet', join(root.path, 'w2.json')];
    const env2 = { CAIRN_WALLET_PASSPHRASE: 'second wallet passphrase' };
    writeFileSync(join(root.path, 'pp1'), 'first wallet passphrase\n', { mode: 0o600 });
    const c1 = await cairnJson<{ mnemonic: string; firstaddress: string }>([...w1, 'wallet', 'create']);
    assert.equal(c1.mnemonic.split(' ').length, 24);
    const c2 = await cairnJson<{ firstaddress: string }>([...w2, 'wallet', 'create', '--words', '12'], env2);
    const a1 = c1.firstaddress;
    const b1 = c2.firstaddress;
    assert.match(a1, /^lcairn1/);

    // --- mine to wallet 1 (coinbase maturity on local: 10) ---
    const mined: string[] = [];
    const mine = async (n: number, to = a1) => {
      const hashes = await cairnJson<string[]>(['rpc', 'generatetoaddress', String(n), to]);
      assert.equal(hashes.length, n);
      mined.push(...hashes);
    };
    await mine(12);
    const bal1 = await cairnJson<{ spendable: number; immature: number }>([...w1, 'wallet', 'balance']);
    assert.equal(bal1.spendable, 3 * 25 * 100_000_000, 'three coinbases are mature');
    assert.equal(bal1.immature, 9 * 25 * 100_000_000);

    // --- send 5 coins to wallet 2, waiting for one confirmation (mined meanwhile) ---
    const sending = start([...w1, 'wallet', 'send', b1, '5', '--wait', '1', '--json']);
    let sendTxid = '';
    await eventually('the payment reaches the mempool', async () => {
      const pool = await cairnJson<string[]>(['rpc', 'getrawmempool']);
      sendTxid = pool[0] ?? '';
      return pool.length === 1;
    });
    await mine(1);
    const sent = await sending.done;
    assert.equal(sent.code, 0, sent.stderr);
    const sendOut = JSON.parse(sent.stdout) as { txid: string; confirmations: number; fee: number };
    assert.equal(sendOut.txid, sendTxid);
    assert.equal(sendOut.confirmations, 1);
    assert.ok(sendOut.fee > 0);
    // two payments in a row, before any block: the second must not pick the coins of the first
    const p1 = await cairnJson<{ txid: string }>([...w1, 'wallet', 'send', b1, '1']);
    const p2 = await cairnJson<{ txid: string }>([...w1, 'wallet', 'send', b1, '100000000sat']);
    assert.deepEqual(
      new Set(await cairnJson<string[]>(['rpc', 'getrawmempool'])),
      new Set([p1.txid, p2.txid]),
    );
    await mine(1);
    const bal2 = await cairnJson<{ spendable: number }>([...w2, 'wallet', 'balance'], env2);
    assert.equal(bal2.spendable, 7 * 100_000_000);

    // --- register an asset from a file ---
    const file = join(root.path, 'sunset.jpg');
    writeFileSync(file, 'not really a photo, but bytes all the same');
    const reg = await cairnJson<{ assetid: string; txid: string; fingerprint: string; registrant: string }>([
      ...w1,
      'asset',
      'register',
      '--name',
      'Sunset photo',
      '--file',
      file,
    ]);
    assert.match(reg.fingerprint, /^sha256:[0-9a-f]{64}$/);
    await mine(1);
    const asset = await cairnJson<{ name: string; registrant: string }>(['asset', 'show', reg.assetid]);
    assert.equal(asset.name, 'Sunset photo');
    assert.equal(asset.registrant, reg.registrant);

    // --- issue 3 bitmarks ---
    const iss = await cairnJson<{ txid: string; bitmarks: string[]; owner: string }>([
      ...w1,
      'bitmark',
      'issue',
      reg.assetid,
      '--count',
      '3',
    ]);
    assert.equal(iss.bitmarks.length, 3);
    story = { w1, w2, env2, bitmarks: iss.bitmarks, bitmarkOwner: iss.owner, mine: (n) => mine(n) };
    await mine(1);
    const owned1 = await cairnJson<{ id: string }[]>([...w1, 'bitmark', 'list']);
    assert.deepEqual(new Set(owned1.map((b) => b.id)), new Set(iss.bitmarks));

    // --- transfer one bitmark to wallet 2 and back to a new address of wallet 1 ---
    const bm = iss.bitmarks[1]!;
    const b2 = (await cairnJson<{ address: string }>([...w2, 'wallet', 'address'], env2)).address;
    assert.notEqual(b2, b1, 'a new address each time');
    const t1 = await cairnJson<{ txid: string; from: string }>([...w1, 'bitmark', 'transfer', bm, b2]);
    assert.equal(t1.from, iss.owner);
    await mine(1);
    assert.deepEqual(
      (await cairnJson<{ id: string }[]>([...w2, 'bitmark', 'list'], env2)).map((b) => b.id),
      [bm],
    );
    const a3 = (await cairnJson<{ address: string }>([...w1, 'wallet', 'address'])).address;
    const t2 = await cairnJson<{ txid: string }>([...w2, 'bitmark', 'transfer', bm, a3], env2);
    await mine(1);
    assert.equal(mined.length, TOTAL_BLOCKS);

    // --- provenance: issued to wallet 1, then wallet 2, then back ---
    const prov = await cairnJson<{ hops: { owner: string; txid: string; height: number }[] }>([
      'bitmark',
      'provenance',
      bm,
    ]);
    assert.deepEqual(
      prov.hops.map((h) => h.owner),
      [iss.owner, b2, a3],
    );
    assert.deepEqual(
      prov.hops.map((h) => h.txid),
      [iss.txid, t1.txid, t2.txid],
    );
    assert.deepEqual(
      prov.hops.map((h) => h.height),
      [16, 17, 18],
    );
    const human = await cairn(['bitmark', 'provenance', bm]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, new RegExp(`issued to +${iss.owner}`));
    assert.equal((await cairnJson<{ id: string }[]>([...w2, 'bitmark', 'list'], env2)).length, 0);
    assert.equal((await cairnJson<{ id: string }[]>([...w1, 'bitmark', 'list'])).length, 3);
    // wallet 1 restored from its mnemonic finds the same addresses and coins
    writeFileSync(join(root.path, 'words'), `${c1.mnemonic}\n`);
    const w3 = ['--wallet', join(root.path, 'w3.json'), '--passphrase-file', join(root.path, 'pp1')];
    const restored = await cairnJson<{ usedaddresses: number }>([
      ...w3,
      'wallet',
      'restore',
      '--mnemonic-file',
      join(root.path, 'words'),
    ]);
    assert.ok(restored.usedaddresses >= 4, `addresses found: ${restored.usedaddresses}`);
    assert.deepEqual(
      await cairnJson([...w3, 'wallet', 'balance']),
      await cairnJson([...w1, 'wallet', 'balance']),
    );

    // raw RPC, parameters by name
    const listed = await cairnJson<{ bitmarks: { id: string; owner: string }[] }>([
      'rpc',
      'listbitmarks',
      `asset=${reg.assetid}`,
      '--named',
    ]);
    assert.deepEqual(new Set(listed.bitmarks.map((b) => b.id)), new Set(iss.bitmarks));
    assert.equal(listed.bitmarks.find((b) => b.id === bm)!.owner, a3);

    // --- the feed: every block and tx, in order, without sequence gaps ---
    await eventually('the feed delivered the last block', () =>
      feed.some((m) => m.topic === 'hashblock' && m.body === mined[mined.length - 1]),
    );
    const byTopic = new Map<string, FeedMsg[]>();
    for (const m of feed) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
    for (const [topic, msgs] of byTopic)
      for (const [i, m] of msgs.entries()) assert.equal(m.seq, i, `${topic}: sequence gap at message ${i}`);
    assert.deepEqual(
      byTopic.get('hashblock')!.map((m) => m.body),
      mined,
      'every block once, in order',
    );
    const userTxids = [sendOut.txid, p1.txid, p2.txid, reg.txid, iss.txid, t1.txid, t2.txid];
    const hashtx = byTopic.get('hashtx')!.map((m) => m.body);
    for (const txid of userTxids) {
      // once on entering the mempool, once in its block: and the block comes after
      const seen = hashtx.flatMap((h, i) => (h === txid ? [i] : []));
      assert.equal(seen.length, 2, `tx ${txid} seen entering the mempool and in its block`);
    }
    // the order of events: each user tx enters the mempool before the next one is made
    const firstSeen = userTxids.map((t) => hashtx.indexOf(t));
    assert.deepEqual(
      [...firstSeen].sort((x, y) => x - y),
      firstSeen,
    );
    // a coinbase per block, and each user tx twice (mempool, block)
    assert.equal(hashtx.length, TOTAL_BLOCKS + 2 * userTxids.length);
    const labels = byTopic
      .get('sequence')!
      .map((m) => String.fromCharCode(Number.parseInt(m.body.slice(64, 66), 16)));
    assert.equal(labels.filter((l) => l === 'C').length, TOTAL_BLOCKS);
    assert.equal(labels.filter((l) => l === 'A').length, userTxids.length);

    // `cairn watch --json` saw the same blocks and exited after the last
    const w = await watch.done;
    assert.equal(w.code, 0, w.stderr);
    const lines = w.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { topic: string; hash?: string; seq: number; gap?: number });
    assert.ok(
      lines.every((l) => l.gap === undefined),
      'cairn watch saw no gap',
    );
    assert.deepEqual(
      lines.filter((l) => l.topic === 'hashblock').map((l) => l.hash),
      mined,
    );
    for (const txid of userTxids) assert.ok(lines.some((l) => l.topic === 'hashtx' && l.hash === txid));
    sub.close();
    await reading;
  });

  it('refuses a wrong passphrase and a damaged wallet file, and never writes over it', async () => {
    const path = join(root.path, 'w1.json');
    const good = readFileSync(path);
    writeFileSync(join(root.path, 'wrong'), 'not the passphrase\n');
    const wrong = await cairn([
      '--wallet',
      path,
      '--passphrase-file',
      join(root.path, 'wrong'),
      'wallet',
      'address',
    ]);
    assert.equal(wrong.code, 5);
    assert.match(wrong.stderr, /wrong passphrase/);
    assert.deepEqual(readFileSync(path), good);
    const wrongJson = await cairn([
      '--wallet',
      path,
      '--passphrase-file',
      join(root.path, 'wrong'),
      'wallet',
      'balance',
      '--json',
    ]);
    assert.equal(wrongJson.code, 5);
    assert.equal(JSON.parse(wrongJson.stderr).error.code, 'wallet-wrong-passphrase');

    // damaged: truncated in the middle
    const damaged = good.subarray(0, good.length - 40);
    writeFileSync(path, damaged);
    const w1 = ['--wallet', path, '--passphrase-file', join(root.path, 'pp1')];
    for (const args of [
      ['wallet', 'address'],
      ['wallet', 'send', 'lcairn1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq', '0.00001'],
      ['wallet', 'create'],
      ['wallet', 'restore', '--mnemonic-file', join(root.path, 'pp1')],
    ]) {
      const r = await cairn([...w1, ...args]);
      assert.notEqual(r.code, 0, `${args.join(' ')} must fail`);
      assert.ok(r.code === 5 || r.code === 64, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      if (args[1] === 'address' || args[1] === 'send') {
        assert.match(r.stderr, /damaged or not a Cairn wallet/);
        assert.ok(r.stderr.includes(path), 'the message names the file');
      }
      if (args[1] === 'create') assert.match(r.stderr, /already exists: refusing to overwrite/);
      assert.deepEqual(readFileSync(path), damaged, `${args.join(' ')} left the file untouched`);
    }
    // the node is fine and the good copy still opens
    writeFileSync(path, good);
    const info = await cairnJson<{ nextreceive: number }>([...w1, 'wallet', 'info']);
    assert.ok(info.nextreceive >= 3);
  });

  it('shares: split, grant, a swap offered and accepted, provenance', async () => {
    assert.ok(story !== undefined, 'runs after the first story');
    const { w1, w2, env2, mine } = story;
    const bm = story.bitmarks[0]!;
    const split = await cairnJson<{ txid: string; total: number; to: string }>([
      ...w1,
      'share',
      'split',
      bm,
      '1000',
    ]);
    await mine(1);
    assert.deepEqual(await cairnJson([...w1, 'share', 'balance']), [{ bitmark: bm, quantity: 1000 }]);
    assert.equal((await cairn([...w1, 'share', 'split', bm, '10'])).code, 64, 'a bitmark splits once');

    // grant 100 to wallet 2
    const b3 = (await cairnJson<{ address: string }>([...w2, 'wallet', 'address'], env2)).address;
    const grant = await cairnJson<{ txid: string; change: number }>([...w1, 'share', 'grant', bm, '100', b3]);
    assert.equal(grant.change, 900);
    await mine(1);
    assert.deepEqual(await cairnJson([...w2, 'share', 'balance'], env2), [{ bitmark: bm, quantity: 100 }]);

    // the swap: wallet 1 offers 200 shares for 5 coins of wallet 2's richest address
    const key = await cairnJson<{ address: string; pubkey: string }>([...w2, 'share', 'key'], env2);
    const coins2 = (await cairnJson<{ spendable: number }>([...w2, 'wallet', 'balance'], env2)).spendable;
    const offerFile = join(root.path, 'offer.hex');
    const offer = await cairnJson<{ hex: string; fee: number }>([
      ...w1,
      'share',
      'offer',
      '--give-shares',
      `${bm}:200`,
      '--want-coins',
      '5',
      '--with',
      key.pubkey,
      '--out',
      offerFile,
    ]);
    // the offer alone is not a valid transaction: wallet 2's input is unsigned
    const early = await cairn(['rpc', 'sendrawtransaction', readFileSync(offerFile, 'utf8').trim()]);
    assert.notEqual(early.code, 0);
    // without --yes (and nothing on stdin) nothing is signed; the terms are shown in words
    const declined = await cairn([...w2, 'share', 'accept', offerFile], env2);
    assert.notEqual(declined.code, 0);
    assert.match(declined.stderr, /you give: +5\.00000000 coins/);
    assert.match(
      declined.stderr,
      new RegExp(
        `you receive: 200 shares of bitmark ${bm} \\(20\\.0% of its 1000 shares; asset "Sunset photo"\\)`,
      ),
    );
    assert.match(declined.stderr, /not confirmed/);
    assert.deepEqual(await cairnJson<string[]>(['rpc', 'getrawmempool']), []);
    const accepted = await cairnJson<{ txid: string; coins: number; shares: Record<string, number> }>(
      [...w2, 'share', 'accept', offerFile, '--yes'],
      env2,
    );
    assert.equal(offer.hex, readFileSync(offerFile, 'utf8').trim());
    assert.deepEqual(await cairnJson<string[]>(['rpc', 'getrawmempool']), [accepted.txid]);
    assert.equal(accepted.coins, -5 * 100_000_000);
    assert.deepEqual(accepted.shares, { [bm]: 200 });
    await mine(1);
    assert.deepEqual(await cairnJson([...w2, 'share', 'balance'], env2), [{ bitmark: bm, quantity: 300 }]);
    assert.deepEqual(await cairnJson([...w1, 'share', 'balance']), [{ bitmark: bm, quantity: 700 }]);
    assert.equal(
      (await cairnJson<{ spendable: number }>([...w2, 'wallet', 'balance'], env2)).spendable,
      coins2 - 5 * 100_000_000,
      'the taker gave exactly 5 coins: the maker paid the fee',
    );

    // provenance: the bitmark ends in its split; the shares' history is split, grant, swap
    const prov = await cairnJson<{ hops: { txid: string; split?: { total: number } }[] }>([
      'bitmark',
      'provenance',
      bm,
    ]);
    assert.deepEqual(prov.hops.at(-1), { ...prov.hops.at(-1), txid: split.txid, split: { total: 1000 } });
    const human = await cairn(['bitmark', 'provenance', bm]);
    assert.match(human.stdout, /split by +\S+ into 1000 shares/);
    const shareProv = await cairnJson<{ total: number; moves: { txid: string }[] }>([
      'share',
      'provenance',
      bm,
    ]);
    assert.equal(shareProv.total, 1000);
    assert.deepEqual(
      shareProv.moves.map((m) => m.txid),
      [split.txid, grant.txid, accepted.txid],
    );
    const holders = await cairnJson<{ holders: { quantity: number }[] }>(['share', 'holders', bm]);
    // per address: the grant's (100) and the swap's (200, at the address of the key) in wallet 2
    assert.deepEqual(
      holders.holders.map((h) => h.quantity).sort((a, b) => a - b),
      [100, 200, 700],
    );
    // REST answers what RPC answers
    const rest = await fetch(`http://127.0.0.1:${node!.rpcPort}/rest/share/${bm}`);
    assert.equal(rest.status, 200);
    assert.deepEqual(await rest.json(), shareProv);
  });
});
