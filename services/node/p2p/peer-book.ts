/**
 * Every peer this node knows of: addresses, where it heard of it, whether an address was proven
 * (we connected to it and the CURVE handshake with that key succeeded), misbehaviour score and
 * ban. Saved to `<datadir>/peers.json` (atomically) so a restarted node finds its peers again and
 * keeps its bans.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isZ85Key } from '../../../shared/identity/z85.ts';

export type PeerSource = 'static' | 'cache' | 'gossip' | 'inbound' | 'discovery';

export interface PeerRecord {
  /** CURVE public key, Z85. */
  readonly key: string;
  addresses: string[];
  source: PeerSource;
  /** An address of it answered a CURVE handshake under this key (only then is it gossiped). */
  verified: boolean;
  lastSeen: number;
  /** Misbehaviour points, as of `scoreAt`; they fade at SCORE_FADE_PER_HOUR. */
  score: number;
  scoreAt: number;
  bannedUntil: number;
  banReason?: string;
}

const FILE_VERSION = 1;
/** Misbehaviour points forgiven per hour (a ban takes 100 points). */
export const SCORE_FADE_PER_HOUR = 100;
const MAX_PEERS = 2000;

export class PeerBook {
  readonly #peers = new Map<string, PeerRecord>();
  readonly #self: string;

  constructor(selfKey: string) {
    this.#self = selfKey;
  }

  get size(): number {
    return this.#peers.size;
  }

  get(key: string): PeerRecord | undefined {
    return this.#peers.get(key);
  }

  all(): PeerRecord[] {
    return [...this.#peers.values()];
  }

  /** Adds or refreshes a peer; returns its record (undefined for our own key or a bad key). */
  add(key: string, addresses: readonly string[], source: PeerSource, now: number): PeerRecord | undefined {
    if (key === this.#self || !isZ85Key(key)) return undefined;
    let r = this.#peers.get(key);
    if (r === undefined) {
      if (this.#peers.size >= MAX_PEERS) this.#evictOne();
      r = {
        key,
        addresses: [],
        source,
        verified: false,
        lastSeen: now,
        score: 0,
        scoreAt: now,
        bannedUntil: 0,
      };
      this.#peers.set(key, r);
    }
    for (const a of addresses)
      if (isDialable(a) && !r.addresses.includes(a) && r.addresses.length < 8) r.addresses.push(a);
    if (source === 'static') r.source = 'static';
    r.lastSeen = Math.max(r.lastSeen, now);
    return r;
  }

  #evictOne(): void {
    // forget the stalest unverified, non-static peer that is not banned (bans must survive)
    let victim: PeerRecord | undefined;
    for (const r of this.#peers.values()) {
      if (r.source === 'static' || r.bannedUntil > 0) continue;
      if (victim === undefined || (!r.verified && victim.verified) || r.lastSeen < victim.lastSeen)
        victim = r;
    }
    if (victim !== undefined) this.#peers.delete(victim.key);
  }

  /** Removes a peer (operator `addnode … remove`); a banned peer keeps its record so the ban holds. */
  forget(key: string): void {
    const r = this.#peers.get(key);
    if (r !== undefined && r.bannedUntil === 0) this.#peers.delete(key);
    else if (r !== undefined) r.addresses = [];
  }

  /** Peers banned at `now`. */
  banned(now: number): PeerRecord[] {
    return this.all().filter((r) => r.bannedUntil > now);
  }

  isBanned(key: string, now: number): boolean {
    const r = this.#peers.get(key);
    return r !== undefined && r.bannedUntil > now;
  }

  /** Adds `points` for an offence; at 100 the peer is banned for `banSeconds`. Returns true when this banned it. */
  misbehaved(key: string, points: number, reason: string, now: number, banSeconds: number): boolean {
    const r = this.#peers.get(key) ?? this.add(key, [], 'inbound', now);
    if (r === undefined) return false;
    // points fade: an honest peer's rare slips (a stale block, one bad tx) never add up to a ban
    const faded = (Math.max(0, now - r.scoreAt) * SCORE_FADE_PER_HOUR) / 3600;
    r.score = Math.max(0, r.score - faded) + points;
    r.scoreAt = now;
    if (r.score >= 100 && r.bannedUntil <= now) {
      r.bannedUntil = now + banSeconds;
      r.banReason = reason;
      r.score = 0;
      return true;
    }
    return false;
  }

  /** Peers whose addresses we proved, for gossip. */
  verifiedPeers(now: number, limit: number): PeerRecord[] {
    const out = this.all().filter((r) => r.verified && r.bannedUntil <= now && r.addresses.length > 0);
    for (let i = out.length - 1; i > 0; i--) {
      const j = randomBytes(4).readUInt32LE(0) % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out.slice(0, limit);
  }

  async save(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    // written, synced, then renamed: a crash leaves the old file or the new one, never half of one
    const f = await open(tmp, 'w', 0o600);
    try {
      await f.writeFile(`${JSON.stringify({ version: FILE_VERSION, peers: this.all() }, null, 1)}\n`);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, path);
  }

  /** Loads a saved book; a missing file is empty, a damaged one is reported (returned) and ignored. */
  async load(path: string, now: number): Promise<{ loaded: number; error?: string }> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { loaded: 0 };
      return { loaded: 0, error: (e as Error).message };
    }
    try {
      const data = JSON.parse(text) as { version?: unknown; peers?: unknown };
      if (data.version !== FILE_VERSION || !Array.isArray(data.peers))
        return { loaded: 0, error: 'unknown peers file version' };
      let n = 0;
      for (const p of data.peers.slice(0, MAX_PEERS) as Partial<PeerRecord>[]) {
        if (typeof p.key !== 'string' || !Array.isArray(p.addresses)) continue;
        const addrs = p.addresses.filter((a): a is string => typeof a === 'string' && a.length <= 100);
        const r = this.add(
          p.key,
          addrs,
          p.source === 'static' ? 'static' : 'cache',
          Math.min(now, Number(p.lastSeen) || 0),
        );
        if (r === undefined) continue;
        r.verified = p.verified === true;
        r.bannedUntil = Number.isFinite(p.bannedUntil) ? Number(p.bannedUntil) : 0;
        if (typeof p.banReason === 'string') r.banReason = p.banReason.slice(0, 200);
        n++;
      }
      return { loaded: n };
    } catch (e) {
      return { loaded: 0, error: `damaged peers file: ${(e as Error).message}` };
    }
  }
}

/**
 * bitmarkd's spread of outbound connections over the ring of keys: sort all known keys with ours,
 * and from our position i take i+1, i+3, i+n/8, …, i+7n/8, i−1, i−3 (distinct, not us).
 */
export function ringTargets(selfKey: string, keys: readonly string[], max: number): string[] {
  const ring = [...new Set([selfKey, ...keys])].sort();
  const n = ring.length;
  if (n <= 1) return [];
  const i = ring.indexOf(selfKey);
  const offsets = [1, 3, ...[1, 2, 3, 4, 5, 6, 7].map((k) => Math.floor((k * n) / 8)), -1, -3];
  const out: string[] = [];
  for (const o of offsets) {
    const k = ring[(((i + o) % n) + n) % n]!;
    if (k !== selfKey && !out.includes(k)) out.push(k);
    if (out.length >= max) break;
  }
  return out;
}

/** host:port (IPv4, [IPv6] or a host name) with a port in 1..65535, and not an unspecified address. */
export function isDialable(address: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(address);
  if (m === null) return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 && m[1] !== '0.0.0.0' && m[1] !== '[::]';
}
