/**
 * Issue 13, through real processes: every id one surface prints is found by every other surface.
 * Against a real cairnd on `local`, only through the `cairn` CLI and HTTP (REST, explorer): block
 * hashes from `generatetoaddress` and `cairn watch`, a txid, an asset id (also the one inside the
 * duplicate-registration error), bitmark ids; each looked up with the CLI, the raw RPC and REST
 * (the explorer's own API). Also: amounts in coins with decimals, asset metadata as text, the
 * block height in `cairn watch`, and `--datadir` alone finding the node (its `.rpcaddress`).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, makeNode, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';

const CLI = fileURLToPath(new URL('../../services/cli/main.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/cairn', import.meta.url));
const root = tempDir('cairn-it-ids-');
let node: NodeProcess | undefined;
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await node?.kill();
  root.remove();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ENV = {
  CAIRN_WALLET_TEST_SCRYPT_N: '1024', // TEST ONLY: cheap scrypt
  CAIRN_WALLET_PASSPHRASE: 'ids test passphrase',
};

function start(
  args: string[],
  opts: { rpcport?: boolean } = {},
): { done: Promise<Run>; stderr: () => string } {
  const conn = ['--network', 'local', '--datadir', node!.dir, '--wallet', join(root.path, 'w.json')];
  if (opts.rpcport !== false) conn.push('--rpcport', String(node!.rpcPort));
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, ...conn, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...ENV },
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
  return { done, stderr: () => stderr };
}

const cairn = (args: string[], opts: { rpcport?: boolean } = {}) => start(args, opts).done;

async function cairnJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const r = await cairn([...args, '--json']);
  assert.equal(r.code, 0, `cairn ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

async function rest<T = Record<string, unknown>>(path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${node!.rpcPort}/rest/${path}`);
  assert.equal(r.status, 200, `GET /rest/${path}: ${r.status} ${await r.clone().text()}`);
  return (await r.json()) as T;
}

describe('ids, amounts and metadata across the CLI, the RPC, REST and the explorer', {
  timeout: 240_000,
}, () => {
  it('an id printed by one surface finds its object in every other', async () => {
    node = await makeNode({ name: 'n', root: root.path });
    await node.start();

    const created = await cairnJson<{ firstaddress: string }>(['wallet', 'create']);
    const addr = created.firstaddress;
    const mine = (n: number) => cairnJson<string[]>(['rpc', 'generatetoaddress', String(n), addr]);

    // --- cairn watch: block heights, and --blocks ends whatever the topics ---
    const watch = start(['watch', '--json', '--topics', 'rawblock,sequence', '--blocks', '2']);
    await eventually('cairn watch is subscribed', () => /watching tcp:/.test(watch.stderr()));
    await new Promise((r) => setTimeout(r, 1500)); // the subscription reaches the publisher
    const first = await mine(2);
    const w = await watch.done;
    assert.equal(w.code, 0, w.stderr);
    const lines = w.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { topic: string; hash?: string; height?: number });
    const hb = lines.filter((l) => l.topic === 'hashblock');
    assert.deepEqual(
      hb.map((l) => [l.hash, l.height]),
      [
        [first[0], 1],
        [first[1], 2],
      ],
    );
    assert.deepEqual(
      lines.filter((l) => l.topic === 'rawblock').map((l) => [l.hash, l.height]),
      [
        [first[0], 1],
        [first[1], 2],
      ],
      'the last block was printed in full before --blocks ended the watch',
    );
    const human = start(['watch', '--blocks', '1']);
    await eventually('cairn watch is subscribed', () => /watching tcp:/.test(human.stderr()));
    await new Promise((r) => setTimeout(r, 1500));
    const third = await mine(1);
    const hw = await human.done;
    assert.equal(hw.code, 0, hw.stderr);
    assert.match(hw.stdout, new RegExp(`^block height 3 +${third[0]}$`, 'm'));
    await mine(10); // coinbase maturity on local: 10

    // --- block hashes: CLI/RPC → REST and back ---
    for (const hash of [...first, ...third]) {
      const b = await rest<{ hash: string; height: number }>(`block/notxdetails/${hash}`);
      assert.equal(b.hash, hash);
      const viaRpc = await cairnJson<{ hash: string }>(['rpc', 'getblockheader', hash]);
      assert.equal(viaRpc.hash, hash);
      const byHeight = await rest<{ hash: string }>(`block-height/notxdetails/${b.height}`);
      assert.equal(await cairnJson<string>(['rpc', 'getblockhash', String(b.height)]), byHeight.hash);
    }

    // --- amounts: coins with decimals; garbage refused without NaN ---
    const bad = await cairn(['wallet', 'send', addr, 'abc']);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /amount "abc": expected coins as a decimal number/);
    assert.doesNotMatch(bad.stderr, /NaN/);
    const tooPrecise = await cairn(['wallet', 'send', addr, '0.000000001']);
    assert.equal(tooPrecise.code, 64);
    assert.match(tooPrecise.stderr, /8 decimals/);
    const payee = (await cairnJson<{ address: string }>(['wallet', 'address'])).address;
    const sent = await cairn(['wallet', 'send', payee, '1.5']);
    assert.equal(sent.code, 0, sent.stderr);
    const m = /^sent 1\.50000000 coins in ([0-9a-f]{64})\nfee (\d+\.\d{8}) coins/.exec(sent.stdout);
    assert.ok(m, sent.stdout);
    const txid = m[1]!;

    // --- a txid: CLI → RPC, REST (mempool, then in a block) ---
    assert.equal((await cairnJson<{ txid: string }>(['rpc', 'getrawtransaction', txid, 'true'])).txid, txid);
    await mine(1);
    const tx = await rest<{ txid: string; vout: { address: string; value: number }[] }>(`tx/${txid}`);
    assert.equal(tx.txid, txid);
    assert.ok(tx.vout.some((o) => o.address === payee && o.value === 150_000_000));

    // --- an asset: its id from register, show, RPC, REST, and from the duplicate's error ---
    const file = join(root.path, 'photo.jpg');
    writeFileSync(file, 'the bytes of a photo');
    const reg = await cairnJson<{ assetid: string; txid: string }>([
      'asset',
      'register',
      '--name',
      'Photo',
      '--file',
      file,
      '--metadata',
      'photographer: Alice',
    ]);
    await mine(1);
    const shown = await cairnJson<Record<string, unknown>>(['asset', 'show', reg.assetid]);
    assert.equal(shown.id, reg.assetid);
    assert.equal(shown.metadata, 'photographer: Alice');
    assert.equal(shown.metadata_hex, Buffer.from('photographer: Alice').toString('hex'));
    assert.match(String(shown.fingerprint), /^sha256:[0-9a-f]{64}$/);
    const showHuman = await cairn(['asset', 'show', reg.assetid]);
    assert.match(showHuman.stdout, /^metadata: photographer: Alice$/m);
    assert.match(showHuman.stdout, /^fingerprint: sha256:[0-9a-f]{64}$/m);
    assert.deepEqual(await rest(`asset/${reg.assetid}`), shown);
    const regTx = await rest<{ asset: { metadata: string; fingerprint: string } }>(`tx/${reg.txid}`);
    assert.equal(regTx.asset.metadata, 'photographer: Alice');
    assert.equal(regTx.asset.fingerprint, shown.fingerprint);
    const listed = await cairnJson<{ assets: { id: string }[] }>(['asset', 'list']);
    assert.ok(listed.assets.some((a) => a.id === reg.assetid));

    const dup = await cairn(['asset', 'register', '--name', 'Photo again', '--file', file]);
    assert.notEqual(dup.code, 0);
    const inError = /[0-9a-f]{64}/.exec(dup.stderr)?.[0];
    assert.equal(inError, reg.assetid, `the duplicate's error names the asset id as printed: ${dup.stderr}`);
    assert.equal((await cairnJson<{ id: string }>(['asset', 'show', inError!])).id, reg.assetid);

    // --- bitmark ids: issue → show, provenance, RPC, REST; the txid too ---
    const iss = await cairnJson<{ txid: string; bitmarks: string[] }>([
      'bitmark',
      'issue',
      reg.assetid,
      '--count',
      '2',
    ]);
    await mine(1);
    for (const id of iss.bitmarks) {
      const b = await cairnJson<{ id: string; asset: string; txid: string }>(['bitmark', 'show', id]);
      assert.deepEqual([b.id, b.asset, b.txid], [id, reg.assetid, iss.txid]);
      const r = await rest<{ id: string; asset: string; provenance: { txid: string }[] }>(`bitmark/${id}`);
      assert.deepEqual([r.id, r.asset, r.provenance[0]!.txid], [id, reg.assetid, iss.txid]);
      const prov = await cairnJson<{ hops: { txid: string }[] }>(['bitmark', 'provenance', id]);
      assert.equal(prov.hops[0]!.txid, iss.txid);
    }
    const issTx = await rest<{ assetId: string; vout: { bitmark?: string }[] }>(`tx/${iss.txid}`);
    assert.equal(issTx.assetId, reg.assetid);
    assert.deepEqual(
      issTx.vout.filter((o) => o.bitmark !== undefined).map((o) => o.bitmark),
      iss.bitmarks,
    );
    const held = await cairnJson<{ id: string; asset: string }[]>([
      'bitmark',
      'list',
      '--asset',
      reg.assetid,
    ]);
    assert.deepEqual(new Set(held.map((b) => b.id)), new Set(iss.bitmarks));

    // --- the explorer's search (REST lookup, what the page asks) finds each id the CLI printed ---
    const page = await fetch(`http://127.0.0.1:${node.rpcPort}/explorer/explorer.js`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /lookup\//, 'the page searches through /rest/lookup');
    const found = async (id: string) => (await rest<{ found: string[] }>(`lookup/${id}`)).found;
    assert.deepEqual(await found(first[0]!), ['block']);
    assert.deepEqual(await found(txid), ['tx']);
    assert.deepEqual(await found(reg.assetid), ['asset']);
    for (const id of iss.bitmarks) assert.deepEqual(await found(id), ['bitmark']);
    assert.deepEqual(await found(addr), ['address']);
    assert.deepEqual(
      await found(Buffer.from(txid, 'hex').reverse().toString('hex')),
      [],
      'the other byte order names nothing',
    );
  });

  it('--datadir alone finds the node through its .rpcaddress', async (t) => {
    if (!existsSync(join(node!.dir, '.rpcaddress'))) {
      t.skip('this cairnd does not write .rpcaddress yet');
      return;
    }
    const r = await cairn(['rpc', 'getblockcount'], { rpcport: false });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(r.stdout) > 10);
  });

  it('bin/cairn runs (built dist/ or, without it, the TypeScript)', async () => {
    const proc = spawn(BIN, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proc);
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise((resolve) => proc.on('exit', resolve));
    assert.equal(code, 0);
    assert.match(out, /^cairn \d+\.\d+\.\d+/);
  });
});
