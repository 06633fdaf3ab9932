/**
 * Integration helpers for cairn-discovery: a real service process on 127.0.0.1 (its own identity,
 * config, ports and state file) and a test-side client that sends raw request frames over CURVE.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { decodeReply, encodeStatsRequest, type Reply } from '../../shared/discovery/messages.ts';
import { encodeQuery } from '../../shared/discovery/requests.ts';
import { generateIdentity } from '../../shared/identity/certificate.ts';
import { z85Encode } from '../../shared/identity/z85.ts';
import { silentLogger } from '../../shared/log.ts';
import { RequestClient } from '../../shared/zmq/client.ts';
import type { CurveKeys } from '../../shared/zmq/curve.ts';
import { freePorts } from '../unit/zmq/ports.ts';
import { NodeProcess } from './cluster.ts';

const DISCOVERY_MAIN = fileURLToPath(new URL('../../services/discovery/main.ts', import.meta.url));

export interface DiscoverySpec {
  readonly name: string;
  readonly root: string;
  readonly expirySeconds?: number;
  readonly registerPerMinute?: number;
  readonly requestsPerSecond?: number;
  readonly extra?: string;
}

export class DiscoveryProcess extends NodeProcess {
  eventsPort = 0;

  get eventsAddress(): string {
    return `127.0.0.1:${this.eventsPort}`;
  }

  /** `[[discovery.servers]]` lines for a node's config (NodeSpec.extra). */
  nodeConfig(): string {
    return ['[[discovery.servers]]', `address = "${this.address}"`, `key = ${JSON.stringify(this.key)}`].join(
      '\n',
    );
  }
}

/** Creates identity and config for a discovery service on network local (not started). */
export async function makeDiscovery(spec: DiscoverySpec): Promise<DiscoveryProcess> {
  const dir = join(spec.root, spec.name);
  mkdirSync(dir, { recursive: true });
  const id = generateIdentity(join(dir, 'identity'), 'discovery');
  const [port, eventsPort] = (await freePorts(2)) as [number, number];
  const lines = [
    'network = "local"',
    `data_dir = ${JSON.stringify(dir)}`,
    `listen = ["127.0.0.1:${port}"]`,
    `events_listen = ["127.0.0.1:${eventsPort}"]`,
    `expiry_seconds = ${spec.expirySeconds ?? 600}`,
    `register_per_minute = ${spec.registerPerMinute ?? 6}`,
    `requests_per_second = ${spec.requestsPerSecond ?? 20}`,
    spec.extra ?? '',
    '[log]',
    'level = "info"',
  ];
  const configPath = join(dir, 'discovery.toml');
  writeFileSync(configPath, `${lines.join('\n')}\n`);
  const d = new DiscoveryProcess(
    spec.name,
    dir,
    port,
    id.publicKey,
    configPath,
    DISCOVERY_MAIN,
    /cairn-discovery .* started/,
  );
  d.eventsPort = eventsPort;
  return d;
}

/** A CURVE client of a discovery service with the given identity; close it when done. */
export function discoveryClient(d: DiscoveryProcess, identity: CurveKeys, timeoutMs = 5000): RequestClient {
  return new RequestClient(
    { endpoint: `tcp://${d.address}`, keys: identity, serverKey: d.key, defaultTimeoutMs: timeoutMs },
    { logger: silentLogger() },
  );
}

/** Sends raw frames, decodes the one-frame reply. */
export async function ask(client: RequestClient, frames: Uint8Array[]): Promise<Reply> {
  const reply = await client.request(frames);
  if (reply.length !== 1) throw new Error(`${reply.length} reply frames`);
  return decodeReply(reply[0]!);
}

/** The Z85 keys a query returns (at most 32). */
export async function queryKeys(client: RequestClient): Promise<string[]> {
  const r = await ask(client, [encodeQuery({ genesis: LOCAL.genesisHash, max: 32 })]);
  if (r.kind !== 'peers') throw new Error(`query answered ${r.kind}`);
  return r.peers.map((p) => z85Encode(p.key));
}

export interface DiscoveryStats {
  entries: number;
  registered: number;
  expired: number;
  refused: Record<string, number>;
  /** Requests dropped unanswered (broken envelopes, over a peer's queue). */
  dropped: number;
}

export async function statsOf(client: RequestClient): Promise<DiscoveryStats> {
  const r = await ask(client, [encodeStatsRequest()]);
  if (r.kind !== 'stats') throw new Error(`stats answered ${r.kind}`);
  return JSON.parse(r.json) as DiscoveryStats;
}
