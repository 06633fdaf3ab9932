/**
 * NodeLink against a fake node made of the real transport (fake-node.ts): hello with a valid key
 * proof, jobs only on our own topic, submission round trips, malformed jobs dropped, recovery
 * after the node restarts or forgets us, and never a submission for an expired job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NodeLink, type NodeLinkOptions } from '../../../services/recorder/node-link.ts';
import { sha256d } from '../../../shared/core/hash.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { z85Encode } from '../../../shared/identity/z85.ts';
import { silentLogger } from '../../../shared/log.ts';
import { encodeJob } from '../../../shared/proof/messages.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { FAST, keys, sleep, until } from '../zmq/helpers.ts';
import { freePorts } from '../zmq/ports.ts';
import { FakeNode, solve } from './fake-node.ts';

const zap = new ZapHandler({ logger: silentLogger() });
const me = keys();
const other = keys();
const nodeKeys = keys();
const payout = new Uint8Array(20).fill(7);
const fakes: FakeNode[] = [];
const links: NodeLink[] = [];

before(async () => {
  await zap.start();
  zap.setPolicy('proof', { allow: new Set([me.publicKey, other.publicKey]) });
});
after(async () => {
  for (const l of links) await l.stop();
  for (const f of fakes) await f.stop();
  await zap.stop();
});

async function fake(opts: Partial<ConstructorParameters<typeof FakeNode>[0]> = {}): Promise<FakeNode> {
  const [jobsPort, submitPort] = await freePorts(2);
  const f = new FakeNode({ jobsPort: jobsPort!, submitPort: submitPort!, keys: nodeKeys, ...opts });
  await f.start();
  fakes.push(f);
  return f;
}

/**
 * Waits until the link receives jobs: `up` means the SUB finished its handshake, but the PUB may
 * apply the subscription a moment later and drop what it publishes before.
 */
async function primed(f: FakeNode, l: NodeLink): Promise<void> {
  await until(() => l.up, 5_000, 'hello');
  const warmup = f.makeJob(me.publicKey, { clean: false });
  await f.publish(me.publicKey, warmup);
  await until(() => l.isValid(warmup.jobId), 5_000, 'the subscription');
  f.silence();
}

function link(f: FakeNode, extra: Partial<NodeLinkOptions> = {}, clock?: () => number): NodeLink {
  const l = new NodeLink(
    {
      name: 'fake',
      jobsEndpoint: f.jobsEndpoint,
      submitEndpoint: f.submitEndpoint,
      nodeKey: nodeKeys.publicKey,
      params: LOCAL,
      payout,
      identity: me,
      requestTimeoutMs: 1_000,
      helloRetryMs: 100,
      silenceMs: 3_000,
      heartbeat: FAST.heartbeat,
      reconnectIntervalMs: FAST.reconnectIntervalMs,
      reconnectMaxIntervalMs: FAST.reconnectMaxIntervalMs,
      ...extra,
    },
    { logger: silentLogger(), ...(clock === undefined ? {} : { clock }) },
  );
  links.push(l);
  l.start();
  return l;
}

describe('NodeLink', () => {
  it('says hello with a valid key proof and gets a job', async () => {
    const f = await fake();
    const l = link(f);
    await until(() => l.up && l.current() !== undefined, 5_000, 'a job after hello');
    assert.equal(f.hellos.length >= 1, true);
    const h = f.hellos[0]!;
    assert.equal(z85Encode(h.recorderKey), me.publicKey);
    assert.deepEqual([...h.payout], [...payout]);
    assert.equal(f.sessions, 1);
    assert.equal(l.counters.jobs >= 1, true);
    assert.equal(l.counters.malformed, 0);
  });

  it('receives jobs on its own topic only; a topic that merely starts with its key is dropped', async () => {
    const f = await fake({ autoJobs: false });
    const l = link(f);
    await primed(f, l);
    const jobs = l.counters.jobs;
    const mine = f.makeJob(me.publicKey);
    const theirs = f.makeJob(other.publicKey);
    await f.publish(other.publicKey, theirs);
    await f.publishRaw(`${me.publicKey}x`, 'job', Buffer.from(encodeJob(theirs)));
    await f.publish(me.publicKey, mine);
    await until(() => l.current()?.job.jobId === mine.jobId, 5_000, 'our job');
    await sleep(300); // re-publications of both jobs come and go
    assert.equal(l.current()?.job.jobId, mine.jobId);
    assert.equal(l.isValid(theirs.jobId), false);
    assert.equal(l.counters.jobs, jobs + 1);
    assert.equal(l.counters.malformed, 1); // the prefix-matching topic
    assert.ok(l.counters.repeats >= 1);
  });

  it('submits: a block, a share, an invalid nonce', async () => {
    const f = await fake({ autoJobs: false, target: 1n << 244n, shareTarget: 1n << 250n });
    const l = link(f);
    await until(() => l.up, 5_000, 'hello');
    const job = f.makeJob(me.publicKey);
    await f.publish(me.publicKey, job);
    await until(() => l.current()?.job.jobId === job.jobId, 5_000, 'the job');

    const block = solve(job.header, job.target);
    const out = await l.submit(job.jobId, block.nonce);
    assert.equal(out.status, 'ok');
    assert.ok('blockHash' in out && out.blockHash !== undefined);
    assert.deepEqual([...out.blockHash], [...block.hash]);

    let shareNonce = block.nonce + 1n;
    for (;;) {
      const h = sha256d(withNonce(job.header, shareNonce));
      if (meets(h, job.shareTarget) && !meets(h, job.target)) break;
      shareNonce++;
    }
    assert.equal((await l.submit(job.jobId, shareNonce)).status, 'share');

    let bad = 0n;
    while (meets(sha256d(withNonce(job.header, bad)), job.shareTarget)) bad++;
    assert.equal((await l.submit(job.jobId, bad)).status, 'invalid');
    assert.deepEqual(
      f.submissions.map((s) => s.status),
      ['ok', 'share', 'invalid'],
    );
    assert.equal(l.counters.blocks, 1);
    assert.equal(l.counters.shares, 1);
    assert.equal(l.counters.invalid, 1);
  });

  it('drops malformed job messages without crashing and keeps working', async () => {
    const f = await fake({ autoJobs: false });
    const l = link(f);
    await primed(f, l);
    const good = f.makeJob(me.publicKey);
    const payload = Buffer.from(encodeJob(good));
    await f.publishRaw(me.publicKey, 'job'); // 2 frames
    await f.publishRaw(me.publicKey, 'job', payload, 'extra'); // 4 frames
    await f.publishRaw(me.publicKey, 'jab', payload); // wrong kind
    await f.publishRaw(me.publicKey, 'job', payload.subarray(0, 50)); // truncated
    await f.publishRaw(me.publicKey, 'job', Buffer.alloc(300, 0xff)); // garbage
    await f.publish(me.publicKey, good);
    await until(() => l.current()?.job.jobId === good.jobId, 5_000, 'the good job');
    assert.equal(l.counters.malformed, 5);
    const { nonce } = solve(good.header, good.target);
    assert.equal((await l.submit(good.jobId, nonce)).status, 'ok');
  });

  it('recovers after the node restarts: hello again, new jobs, submissions', async () => {
    const [jobsPort, submitPort] = await freePorts(2);
    const first = new FakeNode({ jobsPort: jobsPort!, submitPort: submitPort!, keys: nodeKeys });
    await first.start();
    const l = link(first);
    await until(() => l.up && l.current() !== undefined, 5_000, 'first job');
    await first.stop();
    await until(() => !l.up, 5_000, 'the link to notice');
    const second = new FakeNode({ jobsPort: jobsPort!, submitPort: submitPort!, keys: nodeKeys });
    await second.start();
    fakes.push(second);
    await until(() => second.hellos.length >= 1, 10_000, 'hello to the restarted node');
    await until(
      () => l.up && l.current() !== undefined && second.jobs.has(l.current()!.job.jobId),
      10_000,
      'a job of the restarted node',
    );
    const job = l.current()!.job;
    const { nonce } = solve(job.header, job.target);
    const out = await l.submit(job.jobId, nonce);
    assert.equal(out.status, 'ok', 'error' in out ? String(out.error) : JSON.stringify(out));
  });

  it('says hello again when the node answers handshake-required, then resubmits once', async () => {
    const f = await fake({ autoJobs: false });
    const l = link(f);
    await until(() => l.up, 5_000, 'hello');
    const job = f.makeJob(me.publicKey);
    await f.publish(me.publicKey, job);
    await until(() => l.current()?.job.jobId === job.jobId, 5_000, 'the job');
    const hellos = f.hellos.length;
    f.forgetSessions();
    const { nonce } = solve(job.header, job.target);
    assert.equal((await l.submit(job.jobId, nonce)).status, 'ok');
    assert.equal(f.hellos.length, hellos + 1);
    assert.equal(f.submissions.length, 1);
  });

  it('says hello again when no job came for silenceMs (the node forgot us without a reconnect)', async () => {
    const f = await fake();
    const l = link(f, { silenceMs: 600 });
    await until(() => l.up && l.current() !== undefined, 5_000, 'first job');
    const hellos = f.hellos.length;
    f.forgetSessions();
    f.silence();
    await until(() => f.hellos.length > hellos, 5_000, 'a second hello');
    await until(() => l.up, 5_000, 'up again');
    assert.equal(f.sessions, 1);
  });

  it('never submits for an expired job', async () => {
    let now = Math.floor(Date.now() / 1000);
    const f = await fake({ autoJobs: false });
    const l = link(f, {}, () => now);
    await until(() => l.up, 5_000, 'hello');
    const job = f.makeJob(me.publicKey, { expires: now + 5 });
    await f.publish(me.publicKey, job);
    await until(() => l.current()?.job.jobId === job.jobId, 5_000, 'the job');
    const { nonce } = solve(job.header, job.target);
    now += 6; // our clock passes the job's expiry
    assert.equal(l.current(), undefined);
    const out = await l.submit(job.jobId, nonce);
    assert.equal(out.status, 'not-sent');
    assert.equal(f.submissions.length, 0);
    assert.equal(l.counters.notSent, 1);

    // a job that arrives already expired is not taken at all
    const old = f.makeJob(me.publicKey, { expires: now - 1 });
    await f.publish(me.publicKey, old);
    await until(() => l.counters.expiredOnArrival >= 1, 5_000, 'the expired job');
    assert.equal(l.isValid(old.jobId), false);
    assert.equal((await l.submit(old.jobId, 0n)).status, 'not-sent');
    assert.equal(f.submissions.length, 0);
  });

  it('a clean job voids older ones; a non-clean one keeps them submittable', async () => {
    const f = await fake({ autoJobs: false });
    const l = link(f);
    await until(() => l.up, 5_000, 'hello');
    const a = f.makeJob(me.publicKey, { clean: true });
    await f.publish(me.publicKey, a);
    await until(() => l.current()?.job.jobId === a.jobId, 5_000, 'job a');
    const b = f.makeJob(me.publicKey, { clean: false });
    await f.publish(me.publicKey, b);
    await until(() => l.current()?.job.jobId === b.jobId, 5_000, 'job b');
    assert.equal(l.isValid(a.jobId), true);
    const c = f.makeJob(me.publicKey, { clean: true });
    await f.publish(me.publicKey, c);
    await until(() => l.current()?.job.jobId === c.jobId, 5_000, 'job c');
    assert.equal(l.isValid(a.jobId), false);
    assert.equal(l.isValid(b.jobId), false);
    assert.equal((await l.submit(a.jobId, 1n)).status, 'not-sent');
  });
});

function withNonce(header: Uint8Array, nonce: bigint): Buffer {
  const b = Buffer.from(header);
  b.writeBigUInt64LE(nonce, 80);
  return b;
}

function meets(hash: Uint8Array, target: bigint): boolean {
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(hash[i]!);
  return v <= target;
}
