/**
 * The devnet layout: every port distinct, node 1 on network local's defaults, bad counts refused,
 * and every generated config accepted by the real config loaders of cairnd, cairn-recorder and
 * cairn-discovery (so `npm start` cannot ship a config its own programs reject).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { curveKeyPair } from 'zeromq';
import {
  boundPorts,
  DEFAULT_PORT_BASE,
  type DevnetKeys,
  discoveryToml,
  nodeToml,
  planDevnet,
  recorderToml,
} from '../../../scripts/devnet/plan.ts';
import { loadDiscoveryConfig } from '../../../shared/config/discovery-config.ts';
import { loadNodeConfig } from '../../../shared/config/node-config.ts';
import { loadRecorderConfig } from '../../../shared/config/recorder-config.ts';
import { encodeAddress } from '../../../shared/core/address.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';

const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-plan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const plan = (nodes: number, recorders: number, portBase = DEFAULT_PORT_BASE) =>
  planDevnet({ nodes, recorders, root: join(dir, 'data'), keysDir: join(dir, 'keys'), portBase });

describe('devnet plan', () => {
  it('gives every process its own ports; node 1 keeps the local defaults', () => {
    for (const [n, r] of [
      [1, 0],
      [3, 1],
      [5, 2],
      [20, 10],
    ] as const) {
      const ports = boundPorts(plan(n, r)).map((p) => p.port);
      assert.equal(new Set(ports).size, ports.length, `${n} nodes: a port is used twice`);
    }
    const p = plan(3, 1);
    assert.deepEqual(p.nodes[0]!.ports, {
      rpc: LOCAL.ports.rpc,
      metrics: LOCAL.ports.metrics,
      feed: LOCAL.ports.feed,
      peer: LOCAL.ports.peer,
      proofJobs: LOCAL.ports.proofJobs,
      proofSubmit: LOCAL.ports.proofSubmit,
    });
    assert.equal(p.discovery.port, LOCAL.ports.discovery);
    assert.equal(p.nodes[2]!.ports.rpc, LOCAL.ports.rpc + 200);
    // recorders spread over the nodes
    assert.deepEqual(
      plan(2, 3).recorders.map((r) => r.node),
      [0, 1, 0],
    );
    // a port base moves everything
    assert.equal(plan(1, 0, 40_000).discovery.port, 40_000 + LOCAL.ports.discovery - LOCAL.ports.rpc);
  });

  it('refuses counts and port bases out of range, naming the flag', () => {
    assert.throws(() => plan(0, 1), /--nodes must be an integer from 1 to 20, got 0/);
    assert.throws(() => plan(21, 1), /--nodes/);
    assert.throws(() => plan(1.5, 1), /--nodes/);
    assert.throws(() => plan(3, -1), /--recorders must be an integer from 0 to 10/);
    assert.throws(() => plan(3, 1, 80), /--port-base/);
    assert.throws(() => plan(20, 1, 64_000), /--port-base/);
  });

  it('writes configs that cairnd, cairn-recorder and cairn-discovery accept', () => {
    const p = plan(3, 2);
    const keys: DevnetKeys = {
      discovery: curveKeyPair().publicKey,
      nodes: p.nodes.map(() => ({ peer: curveKeyPair().publicKey, proof: curveKeyPair().publicKey })),
      recorders: p.recorders.map(() => curveKeyPair().publicKey),
      payout: encodeAddress(LOCAL.addressPrefix, new Uint8Array(20).fill(7)),
    };
    const file = (name: string, text: string) => {
      const f = join(dir, name);
      writeFileSync(f, text);
      return f;
    };
    const env = {};
    const d = loadDiscoveryConfig({ file: file('d.toml', discoveryToml(p)), env }).config;
    assert.deepEqual(d.listen, [`127.0.0.1:${p.discovery.port}`]);
    for (const [i, n] of p.nodes.entries()) {
      const c = loadNodeConfig({ file: file(`n${i}.toml`, nodeToml(p, i, keys)), env }).config;
      assert.equal(c.network, 'local');
      assert.deepEqual(c.rpc.listen, [`127.0.0.1:${n.ports.rpc}`]);
      assert.deepEqual(c.discovery.servers, [
        { address: `127.0.0.1:${p.discovery.port}`, key: keys.discovery },
      ]);
      // each node allows exactly the recorders mining for it
      const mine = p.recorders.flatMap((r, j) => (r.node === i ? [keys.recorders[j]!] : []));
      assert.deepEqual(c.proof.recorders, mine);
      assert.equal(c.rpc.rest, true);
    }
    for (const [j, r] of p.recorders.entries()) {
      const c = loadRecorderConfig({ file: file(`r${j}.toml`, recorderToml(p, j, keys)), env }).config;
      assert.equal(c.payout, keys.payout);
      assert.equal(c.nodes[0]!.key, keys.nodes[r.node]!.proof);
      assert.equal(c.nodes[0]!.submit, `127.0.0.1:${p.nodes[r.node]!.ports.proofSubmit}`);
    }
  });
});
