/**
 * cairn-discovery as real processes (issue #7 "must show"): impersonation refused, bogus
 * registrations and a flood from one key refused and counted, malformed frames answered without a
 * crash, expiry (with the leave event), restart keeps entries; cairnd nodes with no static peer
 * bootstrap from discovery alone, and keep working while it is down.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { curveKeyPair, Dealer, Subscriber } from 'zeromq';
import { DiscoveryClient } from '../../services/node/discovery/discovery-client.ts';
import type { DecodedBlock } from '../../shared/core/block/types.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { decodeEvent, encodeStatsRequest, type Reply } from '../../shared/discovery/messages.ts';
import { makeRegister } from '../../shared/discovery/requests.ts';
import { z85Encode } from '../../shared/identity/z85.ts';
import { silentLogger } from '../../shared/log.ts';
import type { RequestClient } from '../../shared/zmq/client.ts';
import { clientOptions } from '../../shared/zmq/curve.ts';
import { MemoryLedger, makeKey } from '../helpers/chain.ts';
import {
  eventually,
  heightOf,
  makeNode,
  makeProbeIdentity,
  type NodeProcess,
  probe,
  pushAll,
} from '../helpers/cluster.ts';
import {
  ask,
  type DiscoveryProcess,
  discoveryClient,
  makeDiscovery,
  queryKeys,
  statsOf,
} from '../helpers/discovery.ts';
import { tempDir } from '../helpers/node.ts';
import { heard } from '../helpers/subscriber.ts';

const root = tempDir('cairn-it-disc-');
const procs: NodeProcess[] = [];
const clients: RequestClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(procs.map((p) => p.kill()));
  root.remove();
});

const now = () => Math.floor(Date.now() / 1000);
const reason = (r: Reply) => (r.kind === 'refused' ? r.reason : r.kind);

function client(d: DiscoveryProcess, name: string, timeoutMs?: number) {
  const identity = makeProbeIdentity(root.path, name);
  const c = discoveryClient(d, identity, timeoutMs);
  clients.push(c);
  return { identity, c };
}

function register(
  identity: ReturnType<typeof makeProbeIdentity>,
  d: DiscoveryProcess,
  addresses: string[],
  claim?: string,
): Uint8Array {
  return makeRegister(
    identity,
    d.key,
    { genesis: LOCAL.genesisHash, addresses, height: 0, time: now() },
    claim,
  );
}

describe('cairn-discovery', { timeout: 120_000 }, () => {
  let d: DiscoveryProcess;

  it('starts, and refuses a registration of another node’s key (impersonation)', async () => {
    d = await makeDiscovery({ name: 'disc', root: root.path, expirySeconds: 3 });
    procs.push(d);
    await d.start();
    const a = client(d, 'imp-a');
    const b = makeProbeIdentity(root.path, 'imp-b');
    // A is connected over CURVE with its own key and claims B's
    const r = await ask(a.c, [register(a.identity, d, ['127.0.0.1:40001'], b.publicKey)]);
    assert.equal(r.kind, 'refused');
    assert.equal(reason(r), 'impersonation');
    assert.match(r.kind === 'refused' ? r.message : '', /does not prove/);
    assert.ok(!(await queryKeys(a.c)).includes(b.publicKey));
    // registering its own key works
    assert.equal(reason(await ask(a.c, [register(a.identity, d, ['127.0.0.1:40001'])])), 'registered');
    assert.ok((await queryKeys(a.c)).includes(a.identity.publicKey));
    assert.equal((await statsOf(a.c)).refused.impersonation, 1);
  });

  it('refuses bogus registrations and a flood from one key, with reasons, and counts them', async () => {
    const cases: [string[], string][] = [
      [['0.0.0.0:40002'], 'bad-address'],
      [['127.0.0.1:0'], 'bad-address'],
      [['[::]:40002'], 'bad-address'],
      [['224.0.0.1:40002'], 'bad-address'],
      [['no port here'], 'bad-address'],
      [Array.from({ length: 9 }, (_, i) => `127.0.0.1:${40010 + i}`), 'too-many-addresses'],
      [[], 'no-addresses'],
    ];
    const { c } = client(d, 'bogus-conn');
    for (const [i, [addresses, expected]] of cases.entries()) {
      const id = makeProbeIdentity(root.path, `bogus-${i}`);
      const r = await ask(c, [register(id, d, addresses)]);
      assert.equal(reason(r), expected, JSON.stringify(addresses));
      assert.ok(!(await queryKeys(c)).includes(id.publicKey));
    }
    // a flood of registrations from one key: 6 a minute, the rest refused
    const f = client(d, 'flood');
    const answers: string[] = [];
    for (let i = 0; i < 15; i++)
      answers.push(reason(await ask(f.c, [register(f.identity, d, ['127.0.0.1:40003'])])));
    assert.equal(answers.filter((a) => a === 'registered').length, 6, answers.join(' '));
    assert.equal(answers.filter((a) => a === 'rate-limited').length, 9);
    const s = await statsOf(c);
    assert.equal(s.refused['bad-address'], 5);
    assert.equal(s.refused['too-many-addresses'], 1);
    assert.equal(s.refused['no-addresses'], 1);
    assert.equal(s.refused['rate-limited'], 9);
  });

  it('answers malformed frames with a reason, drops broken envelopes, and keeps serving', async () => {
    const { c } = client(d, 'garbage');
    const frames: Uint8Array[][] = [
      [randomBytes(50)],
      [Uint8Array.of(1, 1, 0, 0)],
      [new Uint8Array(0)],
      [Uint8Array.of(7, 2)],
      [Uint8Array.of(1, 200)],
      [encodeStatsRequest(), encodeStatsRequest(), encodeStatsRequest()],
    ];
    const got: string[] = [];
    for (const f of frames) got.push(reason(await ask(c, f)));
    assert.ok(['malformed', 'unsupported-version', 'unknown-kind'].includes(got[0]!), got[0]);
    assert.deepEqual(got.slice(1), [
      'malformed',
      'malformed',
      'unsupported-version',
      'unknown-kind',
      'malformed',
    ]);
    // a DEALER without the REQ envelope, and a frame far over the size limit
    const id = makeProbeIdentity(root.path, 'dealer');
    const dealer = new Dealer({ ...clientOptions(id, d.key), linger: 0 });
    const before = (await statsOf(c)).dropped;
    dealer.connect(`tcp://${d.address}`);
    await dealer.send([Buffer.from('no delimiter')]);
    await eventually('the broken envelope dropped', async () => (await statsOf(c)).dropped >= before + 1);
    // libzmq disconnects the sender of a frame over the limit: nothing reaches the service
    await dealer.send([Buffer.alloc(0), Buffer.alloc(200_000, 1)]);
    dealer.close();
    assert.ok((await queryKeys(c)).length >= 1, 'still serving');
    assert.equal(d.exitCode, null);
  });

  it('drops an entry that is not renewed, and announces the leave', async () => {
    const { identity, c } = client(d, 'expiring');
    const sub = new Subscriber({ ...clientOptions(identity, d.key), linger: 0 });
    const subscribed = heard(sub, 'the events subscriber');
    sub.connect(`tcp://${d.eventsAddress}`);
    sub.subscribe();
    const events: { event: string; key: string }[] = [];
    const loop = (async () => {
      for await (const [event, payload] of sub)
        events.push({ event: event!.toString(), key: z85Encode(decodeEvent(payload!).nodeKey) });
    })().catch(() => undefined);
    await subscribed;
    assert.equal(reason(await ask(c, [register(identity, d, ['127.0.0.1:40004'])])), 'registered');
    assert.ok((await queryKeys(c)).includes(identity.publicKey));
    await eventually(
      'the entry expired',
      async () => !(await queryKeys(c)).includes(identity.publicKey),
      20_000,
    );
    await eventually('join and leave events', () =>
      ['join', 'leave'].every((e) => events.some((x) => x.event === e && x.key === identity.publicKey)),
    );
    assert.ok((await statsOf(c)).expired >= 1);
    sub.close();
    await loop;
  });

  it('keeps its entries across a restart', async () => {
    const d2 = await makeDiscovery({ name: 'disc-restart', root: root.path });
    procs.push(d2);
    await d2.start();
    const { identity, c } = client(d2, 'restart', 2000);
    assert.equal(reason(await ask(c, [register(identity, d2, ['127.0.0.1:40005'])])), 'registered');
    assert.equal(await d2.stop(), 0, 'SIGTERM: clean exit');
    d2.logs.length = 0;
    await d2.start();
    await d2.waitLog(/restored 1 of 1 saved entries/);
    await eventually('entry back after the restart', async () => {
      try {
        return (await queryKeys(c)).includes(identity.publicKey);
      } catch {
        return false; // the client's first request may time out while the service restarts
      }
    });
  });
});

describe('cairnd with cairn-discovery', { timeout: 300_000 }, () => {
  const owner = makeKey();
  const ledger = new MemoryLedger();
  const blocks = (n: number): DecodedBlock[] => {
    const from = ledger.blocks.length;
    for (let i = 0; i < n; i++) ledger.apply(ledger.nextBlock([], owner.owner));
    return ledger.blocks.slice(from);
  };
  let d: DiscoveryProcess;
  const nodes: NodeProcess[] = [];
  const id = makeProbeIdentity(root.path, 'height-probe');

  it('three nodes with no static peer find each other through discovery alone and converge', async () => {
    d = await makeDiscovery({ name: 'disc-net', root: root.path });
    procs.push(d);
    await d.start();
    for (const name of ['n1', 'n2', 'n3']) {
      const n = await makeNode({ name, root: root.path, extra: d.nodeConfig() });
      nodes.push(n);
      procs.push(n);
    }
    await Promise.all(nodes.map((n) => n.start()));
    for (const n of nodes) await n.waitLog(/registered with discovery/);
    const p = await probe(nodes[0]!, id);
    await pushAll(p, blocks(20));
    await p.close();
    for (const n of nodes)
      await eventually(`${n.name} at 20`, async () => (await heightOf(n, id)) === 20, 90_000);
    for (const n of nodes)
      assert.ok(
        n.logs.some((l) => /connected to peer/.test(l.msg)),
        `${n.name} connected to a peer it heard of from discovery`,
      );
  });

  it('the network keeps working while discovery is down, and a node started then still starts', async () => {
    await d.kill();
    const p = await probe(nodes[1]!, id);
    await pushAll(p, blocks(10));
    await p.close();
    for (const n of nodes)
      await eventually(`${n.name} at 30`, async () => (await heightOf(n, id)) === 30, 90_000);
    const late = await makeNode({ name: 'n4', root: root.path, extra: d.nodeConfig() });
    nodes.push(late);
    procs.push(late);
    await late.start(); // does not wait for discovery
    await late.waitLog(/discovery .* unreachable/);
    // discovery returns (same address and key): the nodes register again, the late node finds them
    d.logs.length = 0;
    await d.start();
    await eventually(
      'n4 synced through peers it found via discovery',
      async () => (await heightOf(late, id)) === 30,
      150_000,
    );
    // a node stopping cleanly tells discovery it leaves
    const n3 = nodes[2]!;
    await eventually(
      'n3 registered again',
      () => d.logs.some((l) => /joined/.test(l.msg) && l.node === n3.key),
      60_000,
    );
    assert.equal(await n3.stop(), 0);
    await d.waitLog(/left/);
    assert.ok(d.logs.some((l) => /left/.test(l.msg) && l.node === n3.key));
    for (const n of nodes.slice(0, 3))
      assert.equal(
        n.logs.filter((l) => /discovery .* unreachable/.test(l.msg)).length <= 1,
        true,
        'one warning per outage',
      );
  });
});

describe('a node leaving cairn-discovery', { timeout: 60_000 }, () => {
  it('a node stopped while its registration is still out says it leaves once it is answered', async () => {
    const d3 = await makeDiscovery({ name: 'disc-leave', root: root.path });
    procs.push(d3);
    await d3.start();
    const identity = curveKeyPair();
    const client = new DiscoveryClient(
      {
        servers: [{ address: d3.address, key: d3.key }],
        register: true,
        announce: ['127.0.0.1:40007'],
        params: LOCAL,
      },
      {
        identity,
        logger: silentLogger(),
        clock: () => Math.floor(Date.now() / 1000),
        height: () => 0,
        addPeers: () => undefined,
        hungry: () => false,
      },
    );
    client.start(); // its first tick sends the registration at once
    await client.stop(); // while that request is out (before, the leave was skipped then)
    await d3.waitLog(/joined/, 10_000);
    await d3.waitLog(/left/, 10_000);
    assert.ok(d3.logs.some((l) => /left/.test(l.msg) && l.node === identity.publicKey));
  });
});
