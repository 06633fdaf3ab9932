/**
 * Linux network namespaces for tests and the simulation: one namespace per host, made with
 * iproute2, removed (with every process still inside them) by `teardown`, also after a failure.
 * Shared by test/integration/netns.test.ts (veth links to a bridge) and scripts/sim.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

export interface IpResult {
  readonly ok: boolean;
  readonly out: string;
  readonly err: string;
}

/** Runs `cmd args` (ip or tc) and says how it went, never throwing. */
export function run(cmd: string, args: readonly string[]): IpResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? r.error?.message ?? '').trim() };
}

export function ip(args: readonly string[]): IpResult {
  return run('ip', args);
}

/** Why namespaces cannot be made here, or undefined when they can (root, Linux, iproute2). */
export function netnsUnavailable(probe = `cairn-probe${process.pid}`): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed: apt-get install iproute2';
  const r = ip(['netns', 'add', probe]);
  ip(['netns', 'del', probe]);
  if (!r.ok) return `cannot create a network namespace (needs root / CAP_NET_ADMIN): ${r.err}`;
  return undefined;
}

/** The namespaces of one run, all named `<prefix><host>`. */
export class Namespaces {
  readonly #made: string[] = [];
  #links = 0;

  constructor(readonly prefix: string) {}

  name(host: string): string {
    return `${this.prefix}${host}`;
  }

  /** Every namespace made so far. */
  get made(): readonly string[] {
    return this.#made;
  }

  must(args: readonly string[]): void {
    const r = ip(args);
    if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.err}`);
  }

  /** A new namespace with its loopback up. */
  add(host: string): string {
    const ns = this.name(host);
    this.must(['netns', 'add', ns]);
    this.#made.push(ns);
    this.must(['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** `ip netns exec` mounts /etc/netns/<ns>/hosts over /etc/hosts: host names per namespace. */
  hostsFile(host: string, entries: readonly (readonly [address: string, name: string])[]): void {
    const dir = `/etc/netns/${this.name(host)}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      `${dir}/hosts`,
      `127.0.0.1 localhost\n${entries.map(([a, n]) => `${a} ${n}`).join('\n')}\n`,
    );
  }

  /** Deletes one namespace made here. */
  remove(host: string): void {
    const ns = this.name(host);
    ip(['netns', 'del', ns]);
    const i = this.#made.indexOf(ns);
    if (i >= 0) this.#made.splice(i, 1);
  }

  /** A namespace holding bridge br0 (the switch the hosts' veth links join). */
  addSwitch(host = 'switch'): string {
    const ns = this.add(host);
    this.must(['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
    this.must(['-n', ns, 'link', 'set', 'br0', 'up']);
    return ns;
  }

  /**
   * A veth link from `host` (address `cidr` on it) to the switch's bridge. Returns the names of
   * both ends: `host` inside the host, `port` on the switch (where a shaper attaches).
   */
  vethToSwitch(host: string, cidr: string, switchHost = 'switch'): { host: string; port: string } {
    const sw = this.name(switchHost);
    const ns = this.name(host);
    // made in the caller's namespace first: short (≤ 15 bytes) and unique to this process
    const tag = `c${process.pid % 100000}${this.#links++}`;
    const a = `${tag}h`;
    const b = `${tag}s`;
    this.must(['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    this.must(['link', 'set', a, 'netns', ns]);
    this.must(['link', 'set', b, 'netns', sw]);
    this.must(['-n', sw, 'link', 'set', b, 'master', 'br0']);
    this.must(['-n', sw, 'link', 'set', b, 'up']);
    this.must(['-n', ns, 'addr', 'add', cidr, 'dev', a]);
    this.must(['-n', ns, 'link', 'set', a, 'up']);
    return { host: a, port: b };
  }

  /** Pids of the processes inside our namespaces (`ip netns pids`). */
  pids(): number[] {
    const out: number[] = [];
    for (const ns of this.#made)
      for (const l of ip(['netns', 'pids', ns]).out.split('\n'))
        if (/^\d+$/.test(l.trim())) out.push(Number(l));
    return out;
  }

  /** Kills what still runs inside (by pid), then deletes every namespace and its /etc/netns dir. */
  teardown(): void {
    for (const pid of this.pids())
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    for (const ns of this.#made.splice(0).reverse()) {
      ip(['netns', 'del', ns]);
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
  }
}
