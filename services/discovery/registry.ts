/**
 * The registry of `cairn-discovery`: which nodes of the service's network are reachable where.
 * No sockets and no files: the clock and the randomness are injected, so tests drive expiry and
 * sampling directly.
 *
 * An entry is keyed by the node's CURVE public key (Z85) and holds up to MAX_ADDRESSES dialable
 * addresses, the node's height and when it registered. It lives `expirySeconds` after its last
 * registration; a node renews well before that. Registrations are rate-limited per key (a token
 * bucket per key, the bucket map bounded), addresses are checked (address.ts), the registry is
 * bounded (`maxEntries`: when full, only renewals are accepted). Queries return a uniformly random
 * subset (at most MAX_PEERS_PER_REPLY) of the entries that have not expired.
 */
import { randomInt } from 'node:crypto';
import { addressProblem } from '../../shared/discovery/address.ts';
import { MAX_ADDRESSES, MAX_PEERS_PER_REPLY, type RefusalReason } from '../../shared/discovery/messages.ts';
import { isZ85Key } from '../../shared/identity/z85.ts';
import { TokenBucket } from '../../shared/token-bucket.ts';

export interface Entry {
  /** CURVE public key, Z85. */
  readonly key: string;
  addresses: string[];
  height: number;
  /** Seconds since the epoch. */
  firstSeen: number;
  lastSeen: number;
  expires: number;
}

export interface RegistryOptions {
  readonly expirySeconds: number;
  readonly maxEntries: number;
  /** Accept loopback/private/link-local addresses (always true on network `local`). */
  readonly allowPrivate: boolean;
  /** Registrations per minute per key; bursts up to `registerBurst`. */
  readonly registerPerMinute: number;
  readonly registerBurst: number;
  /** Only these keys may register (undefined: any key). */
  readonly allow?: ReadonlySet<string>;
}

export interface RegistryModules {
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** A uniform integer in [0, n). */
  readonly random?: (n: number) => number;
}

export type RegisterResult =
  | { ok: true; joined: boolean; entry: Entry; expiresIn: number; changed: boolean }
  | { ok: false; reason: RefusalReason; message: string };

const MAX_BUCKETS = 10_000;

export class Registry {
  readonly #o: RegistryOptions;
  readonly #now: () => number;
  readonly #random: (n: number) => number;
  readonly #entries = new Map<string, Entry>();
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(opts: RegistryOptions, modules: RegistryModules) {
    this.#o = opts;
    this.#now = modules.now;
    this.#random = modules.random ?? ((n) => randomInt(n));
  }

  get size(): number {
    return this.#entries.size;
  }

  get expirySeconds(): number {
    return this.#o.expirySeconds;
  }

  get(key: string): Entry | undefined {
    return this.#entries.get(key);
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** Checks the addresses; returns them deduplicated, or why they are refused. */
  checkAddresses(
    addresses: readonly string[],
  ): { ok: true; addresses: string[] } | { ok: false; reason: RefusalReason; message: string } {
    if (addresses.length === 0)
      return { ok: false, reason: 'no-addresses', message: 'a registration needs an address' };
    if (addresses.length > MAX_ADDRESSES)
      return {
        ok: false,
        reason: 'too-many-addresses',
        message: `${addresses.length} addresses (at most ${MAX_ADDRESSES})`,
      };
    const out: string[] = [];
    for (const a of addresses) {
      const problem = addressProblem(a, { allowPrivate: this.#o.allowPrivate });
      if (problem !== undefined) {
        const shown = JSON.stringify(a.slice(0, 60));
        const why =
          problem === 'unparsable'
            ? 'is not host:port with a port in 1-65535'
            : problem === 'unroutable'
              ? 'cannot be dialled (unspecified, multicast or reserved)'
              : 'is a loopback/private address, not accepted on this network';
        return { ok: false, reason: 'bad-address', message: `${shown} ${why}` };
      }
      if (!out.includes(a)) out.push(a);
    }
    return { ok: true, addresses: out };
  }

  /**
   * Registers or renews `key` (already proven by the caller). Refusals: not-allowed, rate-limited,
   * no-addresses, too-many-addresses, bad-address, full.
   */
  register(key: string, addresses: readonly string[], height: number): RegisterResult {
    if (!isZ85Key(key)) return { ok: false, reason: 'malformed', message: 'not a CURVE key' };
    if (this.#o.allow !== undefined && !this.#o.allow.has(key))
      return { ok: false, reason: 'not-allowed', message: 'this key is not on the service’s allow-list' };
    const nowMs = this.#now();
    if (!this.#bucket(key, nowMs).take(1, nowMs))
      return {
        ok: false,
        reason: 'rate-limited',
        message: `more than ${this.#o.registerPerMinute} registrations a minute from this key`,
      };
    const checked = this.checkAddresses(addresses);
    if (!checked.ok) return checked;
    const now = Math.floor(nowMs / 1000);
    let entry = this.#entries.get(key);
    const joined = entry === undefined || entry.expires <= now;
    if (entry === undefined) {
      if (this.#entries.size >= this.#o.maxEntries) this.expire();
      if (this.#entries.size >= this.#o.maxEntries)
        return { ok: false, reason: 'full', message: `the registry holds ${this.#o.maxEntries} nodes` };
      entry = { key, addresses: [], height: 0, firstSeen: now, lastSeen: now, expires: 0 };
      this.#entries.set(key, entry);
    }
    const changed = joined || entry.addresses.join(' ') !== checked.addresses.join(' ');
    if (joined) entry.firstSeen = now;
    entry.addresses = checked.addresses;
    entry.height = height;
    entry.lastSeen = now;
    entry.expires = now + this.#o.expirySeconds;
    return { ok: true, joined, entry, expiresIn: this.#o.expirySeconds, changed };
  }

  #bucket(key: string, nowMs: number): TokenBucket {
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= MAX_BUCKETS) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = new TokenBucket(this.#o.registerPerMinute / 60, this.#o.registerBurst, nowMs);
    } else {
      this.#buckets.delete(key); // re-insert: the map stays ordered by last use
    }
    this.#buckets.set(key, b);
    return b;
  }

  /** Removes `key`'s entry; true when there was one. */
  leave(key: string): boolean {
    return this.#entries.delete(key);
  }

  /** Removes and returns the entries whose time is up. */
  expire(): Entry[] {
    const now = this.#seconds();
    const gone: Entry[] = [];
    for (const e of this.#entries.values())
      if (e.expires <= now) {
        gone.push(e);
        this.#entries.delete(e.key);
      }
    return gone;
  }

  /** A uniformly random subset of at most min(max, 32) entries that have not expired. */
  query(max: number): Entry[] {
    const now = this.#seconds();
    const fresh = [...this.#entries.values()].filter((e) => e.expires > now);
    const n = Math.min(Math.max(0, max), MAX_PEERS_PER_REPLY, fresh.length);
    for (let i = 0; i < n; i++) {
      const j = i + this.#random(fresh.length - i);
      [fresh[i], fresh[j]] = [fresh[j]!, fresh[i]!];
    }
    return fresh.slice(0, n);
  }

  /** Every entry (copies), for the state file. */
  snapshot(): Entry[] {
    return [...this.#entries.values()].map((e) => ({ ...e, addresses: [...e.addresses] }));
  }

  /**
   * Puts saved entries back: only well-formed ones that have not expired and pass today's address
   * rules, up to `maxEntries`. Returns how many were restored.
   */
  restore(entries: readonly unknown[]): number {
    const now = this.#seconds();
    let n = 0;
    for (const raw of entries) {
      if (this.#entries.size >= this.#o.maxEntries) break;
      const e = raw as Partial<Entry>;
      if (typeof e !== 'object' || e === null || typeof e.key !== 'string' || !isZ85Key(e.key)) continue;
      if (!Array.isArray(e.addresses) || !e.addresses.every((a) => typeof a === 'string')) continue;
      const nums = [e.height, e.firstSeen, e.lastSeen, e.expires];
      if (!nums.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) continue;
      if ((e.expires as number) <= now) continue;
      if (this.#o.allow !== undefined && !this.#o.allow.has(e.key)) continue;
      const checked = this.checkAddresses(e.addresses);
      if (!checked.ok) continue;
      this.#entries.set(e.key, {
        key: e.key,
        addresses: checked.addresses,
        height: e.height as number,
        firstSeen: e.firstSeen as number,
        lastSeen: e.lastSeen as number,
        // never longer than one expiry from now (a clock that jumped back, a hand-edited file)
        expires: Math.min(e.expires as number, now + this.#o.expirySeconds),
      });
      n++;
    }
    return n;
  }
}
