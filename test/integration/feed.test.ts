/**
 * A stock Bitcoin-Core-style subscriber (pyzmq, like contrib/zmq/zmq_sub.py) on a real cairnd's
 * feed sees every block and transaction in order, with no gaps in any topic's sequence numbers.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeAddress } from '../../shared/core/address.ts';
import { hashFromHex, hashToHex, toHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { makeKey, out, signed, spend } from '../helpers/chain.ts';
import { makeNode, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';

const PY = '/usr/bin/python3';
const SUB = fileURLToPath(new URL('../fixtures/zmq/zmq_sub_feed.py', import.meta.url));
const hasPyzmq = spawnSync(PY, ['-c', 'import zmq']).status === 0;
const root = tempDir('cairn-it-feed-');
let node: NodeProcess | undefined;
after(async () => {
  await node?.kill();
  root.remove();
});

async function rpc(n: NodeProcess, method: string, params: unknown[] = []): Promise<unknown> {
  const auth = readFileSync(join(n.dir, '.cookie'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${n.rpcPort}/`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const j = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (j.error) throw new Error(j.error.message);
  return j.result;
}

describe('feed', {
  skip: hasPyzmq ? false : 'pyzmq not installed (apt-get install python3-zmq)',
  timeout: 60_000,
}, () => {
  it('a stock subscriber sees every block and tx, in order, without sequence gaps', async () => {
    node = await makeNode({ name: 'n', root: root.path });
    await node.start();
    const sub = spawn(PY, [SUB, `tcp://127.0.0.1:${node.feedPort}`, '6'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    sub.stdout.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const done = new Promise((r) => sub.on('exit', r));
    while (!text.includes('READY')) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500)); // the subscription reaches the publisher
    const key = makeKey();
    const addr = encodeAddress(LOCAL.addressPrefix, key.owner);
    const blocks = (await rpc(node, 'generatetoaddress', [12, addr])) as string[];
    const first = (await rpc(node, 'getblock', [blocks[0], 2])) as {
      tx: { txid: string; vout: { value: number }[] }[];
    };
    const tx = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(key, hashFromHex(first.tx[0]!.txid)!, 0)],
      outputs: [out(key.owner, first.tx[0]!.vout[0]!.value - 1000)],
    });
    await rpc(node, 'sendrawtransaction', [toHex(tx.raw)]);
    const last = (await rpc(node, 'generatetoaddress', [1, addr])) as string[];
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
});
