/**
 * Transactions we asked a peer to push, for a short while: a transaction announced by several
 * peers at about the same time is asked of the first only (each used to push it to us). If that
 * push never comes, the transaction still arrives with its block (a short id the compact rebuild
 * asks for), or from a later announcement once the claim lapses.
 */
import { hashToHex } from '../../../shared/core/bytes.ts';

export class AskedTxs {
  /** Txid (hex) → until when (ms) it counts as asked for; insertion order = age. */
  readonly #until = new Map<string, number>();

  constructor(
    readonly ttlMs = 2_000,
    readonly max = 50_000,
  ) {}

  /** True if nobody was asked for `txid` within the last `ttlMs` (and it now counts as asked). */
  claim(txid: Uint8Array, nowMs: number): boolean {
    const k = hashToHex(txid);
    if ((this.#until.get(k) ?? 0) > nowMs) return false;
    this.#until.delete(k);
    this.#until.set(k, nowMs + this.ttlMs);
    if (this.#until.size > this.max) this.#until.delete(this.#until.keys().next().value!);
    return true;
  }

  get size(): number {
    return this.#until.size;
  }
}
