/**
 * The cairn-recorder program: commands and exit codes, and a real run as a child process that
 * mines for a fake node and stops cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeAddress } from '../../../shared/core/address.ts';
import { loadPublicKey } from '../../../shared/identity/certificate.ts';
import { silentLogger } from '../../../shared/log.ts';
import { VERSION } from '../../../shared/version.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { keys, until } from '../zmq/helpers.ts';
import { freePorts } from '../zmq/ports.ts';
import { FakeNode } from './fake-node.ts';

const main = fileURLToPath(new URL('../../../services/recorder/main.ts', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'cairn-recorder-main-'));
const zap = new ZapHandler({ logger: silentLogger() });
const children: ChildProcess[] = [];
const fakes: FakeNode[] = [];

before(() => zap.start());
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const f of fakes) await f.stop();
  await zap.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function run(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {
    encoding: 'utf8',
    env: cleanEnv(),
  });
}

const owner = new Uint8Array(20).fill(3);

/** The environment without CAIRN_* settings, so only the test's config file counts. */
function cleanEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAIRN_')));
}

describe('cairn-recorder', () => {
  it('answers version and --help; an unknown command is a usage error (64)', () => {
    const v = run('version');
    assert.equal(v.status, 0);
    assert.equal(v.stdout.trim(), `cairn-recorder ${VERSION}`);
    const h = run('--help');
    assert.equal(h.status, 0);
    assert.match(h.stdout, /start/);
    assert.match(h.stdout, /generate-identity/);
    const bad = run('mine');
    assert.equal(bad.status, 64);
    assert.match(bad.stderr, /Unknown command/i);
  });

  it('generate-identity writes a key pair (secret 0600) and never overwrites it without --force', () => {
    const dir = join(tmp, 'id1');
    const g = run('generate-identity', dir);
    assert.equal(g.status, 0, g.stderr);
    assert.match(g.stdout, /public key: .{40}/);
    assert.equal(statSync(join(dir, 'recorder.key_secret')).mode & 0o777, 0o600);
    const again = run('generate-identity', dir);
    assert.equal(again.status, 4);
    assert.match(again.stderr, /exist/);
    assert.equal(run('generate-identity', dir, '--force').status, 0);
    assert.equal(run('generate-identity', dir, '--name', 'other').status, 0);
    statSync(join(dir, 'other.key'));
  });

  it('exit 2 on a bad configuration, 4 on a missing identity', () => {
    const noNodes = run('start');
    assert.equal(noNodes.status, 2);
    assert.match(noNodes.stderr, /nodes/);
    const file = join(tmp, 'noid.toml');
    writeFileSync(
      file,
      [
        `payout = "${encodeAddress('lcairn', owner)}"`,
        '[identity]',
        `dir = ${JSON.stringify(join(tmp, 'missing'))}`,
        '[[nodes]]',
        'jobs = "127.0.0.1:1"',
        'submit = "127.0.0.1:2"',
        `key = ${JSON.stringify(keys().publicKey)}`,
        'network = "local"',
      ].join('\n'),
    );
    const noId = run('start', '--config', file);
    assert.equal(noId.status, 4, noId.stderr);
  });

  it('mines for a node and stops cleanly on SIGTERM', async () => {
    const dir = join(tmp, 'id2');
    assert.equal(run('generate-identity', dir).status, 0);
    const recorderKey = loadPublicKey(join(dir, 'recorder.key'));
    zap.setPolicy('proof', { allow: new Set([recorderKey]) });
    const nodeKeys = keys();
    const [jobsPort, submitPort] = await freePorts(2);
    const f = new FakeNode({
      jobsPort: jobsPort!,
      submitPort: submitPort!,
      keys: nodeKeys,
      target: 1n << 244n,
    });
    await f.start();
    fakes.push(f);
    const file = join(tmp, 'run.toml');
    writeFileSync(
      file,
      [
        `payout = "${encodeAddress('lcairn', owner)}"`,
        'workers = 1',
        '[log]',
        'level = "warn"',
        '[identity]',
        `dir = ${JSON.stringify(dir)}`,
        '[[nodes]]',
        `jobs = "127.0.0.1:${jobsPort}"`,
        `submit = "127.0.0.1:${submitPort}"`,
        `key = ${JSON.stringify(nodeKeys.publicKey)}`,
        'network = "local"',
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'start', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: cleanEnv(),
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d) => {
      output += String(d);
    });
    child.stderr!.on('data', (d) => {
      output += String(d);
    });
    await until(() => f.count('ok') >= 2 || child.exitCode !== null, 30_000, 'blocks from the recorder');
    assert.equal(child.exitCode, null, output);
    assert.deepEqual([...f.hellos[0]!.payout], [...owner]);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    // 0: a clean stop within the recorder's own 10 s watchdog (past it, it exits 1)
    assert.equal(code, 0, output);
  });
});
