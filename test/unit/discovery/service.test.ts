/**
 * The discovery service's request handling without sockets (the integration test runs the real
 * process): the binding of a registration to the key it proves, clock and replay checks, wrong
 * network, malformed frames, per-connection rate limits; every refusal answered and counted.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { DiscoveryService } from '../../../services/discovery/discovery.ts';
import { LOCAL, MAIN } from '../../../shared/core/params/networks.ts';
import { decodeReply, encodeStatsRequest, type Reply } from '../../../shared/discovery/messages.ts';
import { encodeQuery, makeLeave, makeRegister } from '../../../shared/discovery/requests.ts';
import { z85Encode } from '../../../shared/identity/z85.ts';
import { silentLogger } from '../../../shared/log.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { tempDir } from '../../helpers/node.ts';
import { curveKeys } from './keys.ts';

const dir = tempDir('cairn-dsvc-');
after(() => dir.remove());

const T0 = 1_800_000_000_000;
const identity = curveKeys();

function service(requestsPerSecond = 1000, statePath = `${dir.path}/state.json`) {
  const clock = { ms: T0 };
  const s = new DiscoveryService(
    {
      params: LOCAL,
      listen: ['127.0.0.1:1'],
      eventsListen: ['127.0.0.1:22141'],
      statePath,
      expirySeconds: 60,
      maxEntries: 100,
      registerPerMinute: 60,
      requestsPerSecond,
      allowPrivate: false,
    },
    {
      identity,
      zap: new ZapHandler({ logger: silentLogger() }),
      logger: silentLogger(),
      now: () => clock.ms,
    },
  );
  const ask = (frames: Uint8Array[], conn = 'c1'): Reply =>
    decodeReply(
      s.handle(
        conn,
        frames.map((f) => Buffer.from(f)),
      ),
    );
  return { s, ask, clock };
}

const now = Math.floor(T0 / 1000);
const reg = (keys = curveKeys(), extra: Partial<{ time: number; claim: string; genesis: Uint8Array }> = {}) =>
  makeRegister(
    keys,
    identity.publicKey,
    {
      genesis: extra.genesis ?? LOCAL.genesisHash,
      addresses: ['127.0.0.1:22136'],
      height: 1,
      time: extra.time ?? now,
    },
    extra.claim,
  );

const reason = (r: Reply) => (r.kind === 'refused' ? r.reason : r.kind);

describe('discovery service stop', () => {
  it('saves the registry, and fails (exit code 1 through main) when it cannot', async () => {
    const saved = service(1000, `${dir.path}/saved/state.json`);
    assert.equal(reason(saved.ask([reg()])), 'registered');
    await saved.s.stop();
    // a directory that cannot be made: its parent is a file
    writeFileSync(`${dir.path}/blocker`, '');
    const unsaved = service(1000, `${dir.path}/blocker/state.json`);
    assert.equal(reason(unsaved.ask([reg()])), 'registered');
    await assert.rejects(unsaved.s.stop(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'discovery-state-unsaved');
      assert.match(e.message, /blocker\/state\.json/);
      return true;
    });
  });
});

describe('discovery service requests', () => {
  it('registers the key a node proves and returns it to queries, with the events port', () => {
    const { ask } = service();
    const node = curveKeys();
    const r = ask([reg(node)]);
    assert.deepEqual(r, { kind: 'registered', expiresIn: 60, joined: true });
    const q = ask([encodeQuery({ genesis: LOCAL.genesisHash, max: 32 })]);
    assert.ok(q.kind === 'peers');
    assert.equal(q.eventsPort, 22141);
    assert.deepEqual(
      q.peers.map((p) => z85Encode(p.key)),
      [node.publicKey],
    );
  });

  it('refuses a registration of another node’s key (impersonation) and keeps no entry', () => {
    const { s, ask } = service();
    const victim = curveKeys();
    assert.equal(reason(ask([reg(curveKeys(), { claim: victim.publicKey })])), 'impersonation');
    assert.equal(s.registry.get(victim.publicKey), undefined);
    assert.equal(s.counters.refused.impersonation, 1);
  });

  it('refuses replays, clock skew and other networks', () => {
    const { s, ask } = service();
    const frame = reg();
    assert.equal(reason(ask([frame])), 'registered');
    assert.equal(reason(ask([frame])), 'replay');
    assert.equal(reason(ask([reg(curveKeys(), { time: now - 601 })])), 'clock-skew');
    assert.equal(reason(ask([reg(curveKeys(), { genesis: MAIN.genesisHash })])), 'wrong-network');
    assert.equal(reason(ask([encodeQuery({ genesis: MAIN.genesisHash, max: 1 })])), 'wrong-network');
    assert.deepEqual(
      [s.counters.refused.replay, s.counters.refused['clock-skew'], s.counters.refused['wrong-network']],
      [1, 1, 2],
    );
  });

  it('answers malformed frames with a reason and counts them', () => {
    const { s, ask } = service();
    assert.equal(reason(ask([Uint8Array.of(1, 1, 2, 3)])), 'malformed');
    assert.equal(reason(ask([Uint8Array.of(9, 1)])), 'unsupported-version');
    assert.equal(reason(ask([Uint8Array.of(1, 77)])), 'unknown-kind');
    assert.equal(reason(ask([encodeStatsRequest(), encodeStatsRequest()])), 'malformed');
    assert.equal(reason(ask([new Uint8Array(0)])), 'malformed');
    assert.equal(s.counters.refused.malformed, 3);
    const stats = ask([encodeStatsRequest()]);
    assert.ok(stats.kind === 'stats');
    assert.equal((JSON.parse(stats.json) as { refused: { malformed: number } }).refused.malformed, 3);
  });

  it('a leave must be proven too, and removes the entry', () => {
    const { s, ask } = service();
    const node = curveKeys();
    ask([reg(node)]);
    assert.deepEqual(ask([makeLeave(curveKeys(), identity.publicKey, LOCAL.genesisHash, now)]), {
      kind: 'left',
      removed: false,
    });
    assert.deepEqual(ask([makeLeave(node, identity.publicKey, LOCAL.genesisHash, now)]), {
      kind: 'left',
      removed: true,
    });
    assert.equal(s.registry.size, 0);
  });

  it('rate-limits one connection without touching another', () => {
    const { s, ask, clock } = service(5);
    const q = encodeQuery({ genesis: LOCAL.genesisHash, max: 1 });
    const answers = Array.from({ length: 15 }, () => reason(ask([q], 'flood')));
    assert.equal(answers.filter((a) => a === 'peers').length, 10, 'a burst of twice the rate');
    assert.equal(answers.filter((a) => a === 'rate-limited').length, 5);
    assert.equal(reason(ask([q], 'calm')), 'peers');
    clock.ms += 1000;
    assert.equal(reason(ask([q], 'flood')), 'peers');
    assert.equal(s.counters.refused['rate-limited'], 5);
  });
});
