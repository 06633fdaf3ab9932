/**
 * The links between the simulation's hosts, with latency, jitter and loss. Two ways:
 *
 * - netem: veth links to a bridge (./netns.ts) and `tc netem` on each shaped host's switch port,
 *   so every frame delivered to a shaped host is delayed once (one-way latency, RTT twice that).
 *   netem's jitter reorders frames, as netem does.
 * - emulator: for kernels built without sch_netem (CONFIG_NET_SCH_NETEM unset, as on Firecracker
 *   VMs), ./linkemu.py: a userspace switch holding one TAP device per host, with the same model
 *   but frames of one link kept in order. It counts per-host bytes separately for peer traffic
 *   and reports its own lateness, so a run says when the emulator, not the network, set the times.
 *
 * Frames to and from the observer are never delayed: feed arrival times are exact.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Namespaces, run } from './netns.ts';
import { type SimHost, SUBNET_BITS } from './topology.ts';

export type ShaperKind = 'netem' | 'emulator';

export interface LinkShape {
  readonly latencyMs: number;
  readonly jitterMs: number;
  /** Percent, e.g. 0.5. */
  readonly lossPct: number;
}

/** Where the per-host byte counters are read (passed to the sim's inner process as JSON). */
export type StatsSource =
  | { readonly kind: 'emulator'; readonly path: string; readonly pid: number }
  | { readonly kind: 'netem'; readonly switchNs: string; readonly ports: Readonly<Record<string, string>> };

export interface HostBytes {
  /** Bytes the host sent / received on its link (Ethernet frames, so TCP/IP/CURVE overhead included). */
  readonly rx: number;
  readonly tx: number;
  /** Of which between two shaped hosts (the emulator only; netem: equal to rx/tx). */
  readonly p2pSent: number;
  readonly p2pReceived: number;
}

export interface LinkStats {
  readonly hosts: ReadonlyMap<string, HostBytes>;
  /** Emulator only: how late frames left versus their due time, histogram by ms. */
  readonly latenessHistogramMs?: readonly number[];
}

const LINKEMU = fileURLToPath(new URL('./linkemu.py', import.meta.url));

/** True when this kernel has sch_netem (probed on the loopback of a throwaway namespace). */
export function netemAvailable(net: Namespaces): boolean {
  const ns = net.add('netem-probe');
  const r = run('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
  net.remove('netem-probe');
  return r.ok;
}

function python(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export interface Links {
  readonly kind: ShaperKind;
  readonly stats: StatsSource;
  /** The emulator process, if any (its CPU is the sim's cost, reported). */
  readonly pid?: number;
  stop(): Promise<void>;
}

/** Namespaces for `hosts` (made here) joined with shaped links. */
export async function buildLinks(
  net: Namespaces,
  hosts: readonly SimHost[],
  shape: LinkShape,
  kind: ShaperKind,
  workDir: string,
): Promise<Links> {
  for (const h of hosts) net.add(h.name);
  if (kind === 'netem') {
    const sw = net.addSwitch('switch');
    const ports: Record<string, string> = {};
    for (const h of hosts) {
      const { port } = net.vethToSwitch(h.name, `${h.address}/${SUBNET_BITS}`);
      ports[h.name] = port;
      if (!h.shaped) continue;
      const args = ['-n', sw, 'qdisc', 'add', 'dev', port, 'root', 'netem', 'delay', `${shape.latencyMs}ms`];
      if (shape.jitterMs > 0) args.push(`${shape.jitterMs}ms`);
      if (shape.lossPct > 0) args.push('loss', `${shape.lossPct}%`);
      // room for a few 4 MB blocks in flight per port: the default 1000 packets would drop them
      args.push('limit', '100000');
      const r = run('tc', args);
      if (!r.ok) throw new Error(`tc ${args.join(' ')}: ${r.err}`);
    }
    return { kind, stats: { kind: 'netem', switchNs: sw, ports }, stop: async () => {} };
  }
  const tag = `c${process.pid % 100000}`;
  const statsPath = join(workDir, 'linkemu-stats.json');
  const config = join(workDir, 'linkemu.json');
  writeFileSync(
    config,
    JSON.stringify({
      latencyMs: shape.latencyMs,
      jitterMs: shape.jitterMs,
      loss: shape.lossPct / 100,
      stats: statsPath,
      ports: hosts.map((h, i) => ({
        name: `${tag}p${i}`,
        netns: net.name(h.name),
        shaped: h.shaped,
        host: h.name,
      })),
    }),
  );
  // the emulator is the network, not a node: ahead of the nodes for the CPU, so a busy machine
  // slows the nodes (measured) rather than the links (which would blur every figure)
  const child: ChildProcess = spawn('nice', ['-n', '-10', python(), LINKEMU, config], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('READY')) ok();
    });
    child.on('exit', (code) => fail(new Error(`the link emulator ended (${code}) before it was ready`)));
  });
  for (const [i, h] of hosts.entries()) {
    net.must(['-n', net.name(h.name), 'addr', 'add', `${h.address}/${SUBNET_BITS}`, 'dev', `${tag}p${i}`]);
    net.must(['-n', net.name(h.name), 'link', 'set', `${tag}p${i}`, 'up']);
  }
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    kind,
    stats: { kind: 'emulator', path: statsPath, pid: child.pid! },
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

interface EmulatorFile {
  ports: { host: string; rxBytes: number; txBytes: number; p2pRxBytes: number; p2pTxBytes: number }[];
  latenessHistogramMs: number[];
}

/** The per-host counters now (undefined when they cannot be read, e.g. before the first write). */
export function readLinkStats(src: StatsSource): LinkStats | undefined {
  if (src.kind === 'emulator') {
    let f: EmulatorFile;
    try {
      f = JSON.parse(readFileSync(src.path, 'utf8')) as EmulatorFile;
    } catch {
      return undefined;
    }
    const hosts = new Map<string, HostBytes>();
    // the emulator's rx is what the host sent; p2pRx what it sent to another shaped host
    for (const p of f.ports)
      hosts.set(p.host, { rx: p.txBytes, tx: p.rxBytes, p2pSent: p.p2pRxBytes, p2pReceived: p.p2pTxBytes });
    return { hosts, latenessHistogramMs: f.latenessHistogramMs };
  }
  const r = run('ip', ['-n', src.switchNs, '-s', '-j', 'link', 'show']);
  if (!r.ok) return undefined;
  const links = JSON.parse(r.out) as {
    ifname: string;
    stats64?: { rx: { bytes: number }; tx: { bytes: number } };
  }[];
  const hosts = new Map<string, HostBytes>();
  for (const [host, port] of Object.entries(src.ports)) {
    const s = links.find((l) => l.ifname === port)?.stats64;
    if (s === undefined) continue;
    // the switch port receives what the host sends
    hosts.set(host, { rx: s.tx.bytes, tx: s.rx.bytes, p2pSent: s.rx.bytes, p2pReceived: s.tx.bytes });
  }
  return { hosts };
}
