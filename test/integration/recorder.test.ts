/**
 * cairn-recorder processes mining for real cairnd processes (issue #5 "must show").
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { encodeAddress } from '../../shared/core/address.ts';
import { decodeBlock } from '../../shared/core/block/codec.ts';
import { decodeHeader, headerHash } from '../../shared/core/block/header.ts';
import { toHex } from '../../shared/core/bytes.ts';
import { LOCAL, TEST } from '../../shared/core/params/networks.ts';
import { makeKey } from '../helpers/chain.ts';
import {
  eventually,
  makeNode,
  makeProbeIdentity,
  makeRecorder,
  makeRecorderIdentity,
  type NodeProcess,
  probe,
} from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';

const root = tempDir('cairn-it-rec-');
const procs: NodeProcess[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  root.remove();
});

const id = makeProbeIdentity(root.path, 'probe');

/** Owner hashes (hex) paid by the coinbases of a node's active chain, genesis excluded. */
async function coinbaseOwners(node: NodeProcess, network: 'local' | 'test' = 'local'): Promise<string[]> {
  const p = await probe(node, id, network === 'test' ? TEST : LOCAL);
  try {
    const headers = await p.getHeaders([(network === 'test' ? TEST : LOCAL).genesisHash]);
    const hashes = headers.map((h) => headerHash(decodeHeader(h)));
    const owners: string[] = [];
    for (let i = 0; i < hashes.length; i += 16) {
      for (const raw of await p.getBlocks(hashes.slice(i, i + 16)))
        owners.push(toHex(decodeBlock(raw).txs[0]!.tx.outputs[0]!.owner));
    }
    return owners;
  } finally {
    await p.close();
  }
}

async function height(node: NodeProcess, network: 'local' | 'test' = 'local'): Promise<number> {
  const p = await probe(node, id, network === 'test' ? TEST : LOCAL);
  try {
    return await p.ping();
  } finally {
    await p.close();
  }
}

describe('cairn-recorder with cairnd', { timeout: 300_000 }, () => {
  it('two recorders mine for one node; both earn blocks to their own addresses; a peer accepts them', async () => {
    const r1 = makeRecorderIdentity(root.path, 'r1');
    const r2 = makeRecorderIdentity(root.path, 'r2');
    const a = await makeNode({ name: 'a', root: root.path, recorders: [r1.publicKey, r2.publicKey] });
    await a.start();
    procs.push(a);
    const b = await makeNode({ name: 'b', root: root.path, connect: [{ address: a.address, key: a.key }] });
    await b.start();
    procs.push(b);
    const [p1, p2] = [makeKey(), makeKey()];
    const rec1 = makeRecorder({
      name: 'r1',
      root: root.path,
      payout: encodeAddress(LOCAL.addressPrefix, p1.owner),
      nodes: [{ node: a, network: 'local' }],
    });
    const rec2 = makeRecorder({
      name: 'r2',
      root: root.path,
      payout: encodeAddress(LOCAL.addressPrefix, p2.owner),
      nodes: [{ node: a, network: 'local' }],
    });
    await Promise.all([rec1.start(), rec2.start()]);
    procs.push(rec1, rec2);
    await eventually(
      'blocks for both payout addresses',
      async () => {
        const owners = await coinbaseOwners(a);
        return owners.includes(toHex(p1.owner)) && owners.includes(toHex(p2.owner));
      },
      120_000,
    );
    const h = await height(a);
    assert.ok(h >= 2);
    await eventually('the peer follows', async () => (await height(b)) >= h, 60_000);
    // the node counts each recorder's work
    await a.waitLog(/found block/, 5_000);
  });

  it('killing and restarting the node does not kill the recorder, which resumes', async () => {
    const a = procs[0]!;
    const rec1 = procs[2]!;
    await a.kill();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(rec1.exitCode, null, 'the recorder is still running');
    await a.start();
    const before = await height(a);
    await eventually('mining resumed after the restart', async () => (await height(a)) > before + 2, 120_000);
    assert.equal(rec1.exitCode, null);
  });

  it('one recorder serves two nodes of different networks', async () => {
    const r3 = makeRecorderIdentity(root.path, 'r3');
    const local = await makeNode({ name: 'local', root: root.path, recorders: [r3.publicKey] });
    const test = await makeNode({
      name: 'test',
      root: root.path,
      recorders: [r3.publicKey],
      network: 'test',
    });
    procs.push(local, test); // before starting: after() stops whichever started if one fails
    await Promise.all([local.start(), test.start()]);
    const payLocal = makeKey();
    const payTest = makeKey();
    const rec = makeRecorder({
      name: 'r3',
      root: root.path,
      payout: encodeAddress(LOCAL.addressPrefix, payLocal.owner),
      nodes: [
        { node: local, network: 'local' },
        { node: test, network: 'test', payout: encodeAddress(TEST.addressPrefix, payTest.owner) },
      ],
      cpuPercent: 60,
      strategy: 'round-robin',
    });
    await rec.start();
    procs.push(rec);
    await eventually(
      'both networks got blocks from the one recorder',
      async () => (await height(local)) >= 1 && (await height(test, 'test')) >= 1,
      180_000,
    );
    assert.ok((await coinbaseOwners(test, 'test')).includes(toHex(payTest.owner)));
    assert.ok((await coinbaseOwners(local)).includes(toHex(payLocal.owner)));
  });
});
