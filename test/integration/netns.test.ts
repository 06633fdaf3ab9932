/**
 * Cairn on separate hosts, without Docker: each process of docker-compose.yml (discovery, two
 * nodes, a recorder) in its own Linux network namespace with its own address in 198.51.100.0/24,
 * joined by veth links to a bridge in one more namespace. The addresses exist only on those
 * links; the test sends nothing outside its namespaces and removes them afterwards, even when it
 * fails. Host names resolve through per-namespace hosts files (`ip netns exec` mounts
 * /etc/netns/<ns>/hosts), so the env files with docker-compose's host names work unchanged.
 *
 * The commands and configs are read from docker-compose.yml itself (its `command` and `env_file`
 * of each service); only the container paths become the test's directories (CAIRN_DATA_DIR,
 * CAIRN_IDENTITY_DIR, CAIRN_PROOF_RECORDERS_DIR, as the compose volumes mount them).
 *
 * Checks: the nodes find each other through discovery, the recorder mines, both nodes converge
 * on one tip; a recorder on a fifth host whose key is not allow-listed is refused by the node.
 * Needs root (CAP_NET_ADMIN) and iproute2: otherwise it is skipped with the reason.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeClusterKeys } from '../../scripts/cluster-keys.ts';
import { Namespaces, netnsUnavailable } from '../../scripts/sim/netns.ts';
import { generateIdentity } from '../../shared/identity/certificate.ts';
import { tempDir } from '../helpers/node.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PROGRAMS: Record<string, string> = {
  cairnd: 'services/node/main.ts',
  'cairn-recorder': 'services/recorder/main.ts',
  'cairn-discovery': 'services/discovery/main.ts',
  cairn: 'services/cli/main.ts',
};
const PREFIX = `cairn-t${process.pid}-`;
const HOSTS = { discovery: 10, 'node-1': 11, 'node-2': 12, 'recorder-1': 21, intruder: 31 } as const;
type Host = keyof typeof HOSTS;
const ip = (h: Host) => `198.51.100.${HOSTS[h]}`;
const net = new Namespaces(PREFIX);
const ns = (h: Host) => net.name(h);

/** The command and env file of each docker-compose.yml service (inline JSON arrays there). */
function composeServices(): Map<string, { command: string[]; envFile: string }> {
  const text = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
  const out = new Map<string, { command: string[]; envFile: string }>();
  for (const block of text.split(/\n {2}(?=[a-z][a-z0-9-]*:\n)/).slice(1)) {
    const name = /^([a-z][a-z0-9-]*):/.exec(block)?.[1];
    const command = /\n {4}command: (\[.*\])/.exec(block)?.[1];
    const envFile = /\n {4}env_file: (\S+)/.exec(block)?.[1];
    if (name && command && envFile) out.set(name, { command: JSON.parse(command) as string[], envFile });
  }
  return out;
}

function envFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith('#')) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

const skip = netnsUnavailable(`${PREFIX}probe`);
const root = tempDir('cairn-it-netns-');
const procs: ChildProcess[] = [];

after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  net.teardown();
  root.remove();
});

function buildNetwork(): void {
  net.addSwitch();
  const hosts = Object.keys(HOSTS) as Host[];
  for (const h of hosts) {
    net.add(h);
    net.vethToSwitch(h, `${ip(h)}/24`);
    net.hostsFile(
      h,
      hosts.map((o) => [ip(o), o]),
    );
  }
}

describe('separate hosts in network namespaces', { skip, timeout: 240_000 }, () => {
  it('discovery, two nodes and a recorder on five hosts form a network, mine and converge; an unlisted recorder is refused', async () => {
    buildNetwork();
    const keys = join(root.path, 'keys');
    const k = makeClusterKeys(keys, 2, 1, 'local');
    const services = composeServices();
    const logs = new Map<string, () => string>();

    const run = (host: Host, service: string, extraEnv: Record<string, string>) => {
      const s = services.get(service);
      assert.ok(s, `docker-compose.yml has no service ${service}`);
      const [program, ...args] = s.command;
      const main = PROGRAMS[program!];
      assert.ok(main, `unknown program ${program}`);
      const fileEnv = envFile(join(keys, 'env', `${service}.env`));
      assert.match(s.envFile, new RegExp(`env/${service}\\.env$`));
      const argv = args.map((a) => a.replace('/opt/cairn/deploy/', join(REPO, 'deploy/')));
      const child = spawn(
        'ip',
        ['netns', 'exec', ns(host), process.execPath, '--import', 'tsx', join(REPO, main), ...argv],
        {
          cwd: REPO,
          env: { ...process.env, ...fileEnv, ...extraEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let text = '';
      child.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
      });
      child.stderr!.on('data', (d: Buffer) => {
        text += d.toString();
      });
      procs.push(child);
      logs.set(host, () => text);
      return child;
    };
    const dataOf = (h: Host) => join(root.path, h);
    const nodeEnv = (h: 'node-1' | 'node-2') => ({
      CAIRN_DATA_DIR: dataOf(h),
      CAIRN_IDENTITY_DIR: join(keys, h),
      CAIRN_PROOF_RECORDERS_DIR: join(keys, 'recorders'),
    });
    run('discovery', 'discovery', {
      CAIRN_DATA_DIR: dataOf('discovery'),
      CAIRN_IDENTITY_DIR: join(keys, 'discovery'),
    });
    run('node-1', 'node-1', nodeEnv('node-1'));
    run('node-2', 'node-2', nodeEnv('node-2'));
    run('recorder-1', 'recorder-1', { CAIRN_IDENTITY_DIR: join(keys, 'recorder-1') });

    /** `cairn rpc` inside the node's namespace, as `docker-compose exec node-1 cairn ...` would. */
    const cli = async (h: 'node-1' | 'node-2', method: string): Promise<unknown> => {
      const r = spawn(
        'ip',
        [
          'netns',
          'exec',
          ns(h),
          process.execPath,
          '--import',
          'tsx',
          join(REPO, PROGRAMS.cairn!),
          '--network',
          'local',
          '--datadir',
          dataOf(h),
          '--json',
          'rpc',
          method,
        ],
        { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      r.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const code = await new Promise<number | null>((res) => r.on('exit', res));
      return code === 0 ? JSON.parse(out) : undefined;
    };
    const show = () =>
      [...logs].map(([h, t]) => `--- ${h}\n${t().split('\n').slice(-8).join('\n')}`).join('\n');

    const deadline = Date.now() + 150_000;
    let tips: unknown[] = [];
    for (;;) {
      assert.ok(
        Date.now() < deadline,
        `no convergence at height ≥ 5 within 150 s (tips ${JSON.stringify(tips)}):\n${show()}`,
      );
      await new Promise((r) => setTimeout(r, 2000));
      const infos = (await Promise.all([
        cli('node-1', 'getblockchaininfo'),
        cli('node-2', 'getblockchaininfo'),
      ])) as ({ blocks: number; bestblockhash: string } | undefined)[];
      tips = infos.map((i) => i && [i.blocks, i.bestblockhash.slice(0, 12)]);
      if (
        infos.every((i) => i !== undefined && i.blocks >= 5) &&
        infos[0]!.bestblockhash === infos[1]!.bestblockhash
      )
        break;
    }
    // the two nodes know each other through discovery only (no static peers in deploy/cairnd.toml)
    const peers = (await cli('node-2', 'getpeerinfo')) as { key: string; addr: string }[];
    assert.ok(
      peers.some((p) => p.key === k.nodes[0]!.peer && p.addr === 'node-1:22136'),
      `node-2's peers: ${JSON.stringify(peers)}`,
    );
    assert.match(logs.get('node-1')!(), /recorder .* found block/);

    // a recorder on another host with a key node-1 does not list
    const intruderKeys = join(root.path, 'intruder-keys');
    const intruder = generateIdentity(intruderKeys, 'recorder').publicKey;
    run('intruder', 'recorder-1', { CAIRN_IDENTITY_DIR: intruderKeys });
    const refusedBy = async () =>
      /ZAP: connection refused/.test(logs.get('node-1')!()) && logs.get('node-1')!().includes(intruder);
    const until = Date.now() + 30_000;
    while (!(await refusedBy())) {
      assert.ok(Date.now() < until, `node-1 did not refuse the unlisted recorder:\n${show()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.match(logs.get('node-1')!(), new RegExp(`"address":"${ip('intruder').replace(/\./g, '\\.')}"`));
    // the recorder says it a moment after the node logged the refusal (its link reacts to the event)
    for (
      const end = Date.now() + 15_000;
      !/refused our key/.test(logs.get('intruder')!()) && Date.now() < end;
    )
      await new Promise((r) => setTimeout(r, 200));
    assert.match(logs.get('intruder')!(), /refused our key/);

    // every process stops cleanly on SIGTERM (docker stop)
    const exits = procs.map(
      (p) => new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.on('exit', r))),
    );
    for (const p of [...procs].reverse()) p.kill('SIGTERM');
    assert.deepEqual(
      await Promise.all(exits),
      procs.map(() => 0),
      show(),
    );
  });
});
