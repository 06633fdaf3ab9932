/**
 * Rebuilding a block from its compact form (BIP152's PartiallyDownloadedBlock): prefilled
 * transactions go to their slots, the others are looked up by short id in the mempool, the rest
 * are asked for. A short id that two mempool transactions share leaves its slot empty (we ask for
 * it); two equal short ids in the block itself, or a rebuilt block whose merkle root does not
 * match, mean the compact form cannot be trusted to rebuild: the receiver asks for the whole
 * block, and the sender is not punished (collisions happen by chance, about once in 2^48/n² blocks).
 */
import { encodeBlock } from '../../../shared/core/block/codec.ts';
import { merkleRoot } from '../../../shared/core/block/merkle.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { equalBytes } from '../../../shared/core/bytes.ts';
import { DecodeError } from '../../../shared/core/errors.ts';
import { sha256d } from '../../../shared/core/hash.ts';
import { MAX_BLOCK_SIZE } from '../../../shared/core/limits.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { type CompactBlock, shortId, shortIdKey } from './compact-block.ts';

/** Why a compact block cannot be rebuilt: the receiver then wants the full block. */
export type RebuildFailure = 'short-id-collision' | 'merkle-mismatch' | 'too-large';

const EMPTY = 0;
const FILLED = 1;
/** Two mempool transactions matched this slot's short id: neither is trusted, the tx is asked for. */
const AMBIGUOUS = 2;

export class PartialBlock {
  readonly hash: Uint8Array;
  readonly compact: CompactBlock;
  readonly #txs: (DecodedTx | undefined)[];
  readonly #state: Uint8Array;
  /** Short id → slot; undefined when the block itself lists one short id twice. */
  readonly #slots: Map<number, number> | undefined;
  /** Transactions found in the mempool (for the figures: how much the compact form saved). */
  fromMempool = 0;

  constructor(compact: CompactBlock) {
    this.compact = compact;
    this.hash = sha256d(compact.rawHeader);
    const n = compact.shortIds.length + compact.prefilled.length;
    this.#txs = new Array(n);
    this.#state = new Uint8Array(n);
    for (const p of compact.prefilled) {
      this.#txs[p.index] = p.tx;
      this.#state[p.index] = FILLED;
    }
    const slots = new Map<number, number>();
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (this.#state[i] === FILLED) continue;
      const id = compact.shortIds[k++]!;
      if (slots.has(id)) {
        this.#slots = undefined;
        return;
      }
      slots.set(id, i);
    }
    this.#slots = slots;
  }

  /** The block lists one short id twice: no mempool can tell those two apart. */
  get collided(): boolean {
    return this.#slots === undefined;
  }

  /**
   * Fills the slots whose short id matches exactly one of these transactions. `idOf` is the short
   * id function (tests pass a narrower one to make collisions happen).
   */
  fillFrom(candidates: Iterable<DecodedTx>, idOf = shortIdOf(this.compact)): void {
    const slots = this.#slots;
    if (slots === undefined || slots.size === 0) return;
    for (const tx of candidates) {
      const i = slots.get(idOf(tx.txid));
      if (i === undefined) continue;
      const s = this.#state[i];
      if (s === EMPTY) {
        this.#txs[i] = tx;
        this.#state[i] = FILLED;
        this.fromMempool++;
      } else if (s === FILLED && !equalBytes(this.#txs[i]!.txid, tx.txid)) {
        this.#txs[i] = undefined;
        this.#state[i] = AMBIGUOUS;
        this.fromMempool--;
      }
    }
  }

  /** Block indexes still without a transaction, ascending. */
  missing(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#txs.length; i++) if (this.#txs[i] === undefined) out.push(i);
    return out;
  }

  /**
   * Puts the transactions a peer sent (`blocktxn`) into the slots asked for, in order. A count that
   * does not match what was asked is a protocol violation (DecodeError: scored as malformed).
   */
  fillMissing(asked: readonly number[], txs: readonly DecodedTx[]): void {
    if (asked.length !== txs.length)
      throw new DecodeError(
        'decode-bad-value',
        'blocktxn.txs',
        `${txs.length} sent, ${asked.length} asked for`,
      );
    asked.forEach((i, k) => {
      this.#txs[i] = txs[k];
      this.#state[i] = FILLED;
    });
  }

  /** The rebuilt block once every slot is filled, or why it cannot be trusted. */
  build(): DecodedBlock | RebuildFailure {
    if (this.collided) return 'short-id-collision';
    const txs = this.#txs as DecodedTx[];
    if (txs.some((t) => t === undefined)) throw new Error('PartialBlock.build before every slot is filled');
    if (!equalBytes(merkleRoot(txs.map((t) => t.txid)), this.compact.header.merkleRoot))
      return 'merkle-mismatch';
    const size = txs.reduce((s, t) => s + t.raw.length, this.compact.rawHeader.length + 9);
    if (size > MAX_BLOCK_SIZE) return 'too-large';
    const raw = encodeBlock(this.compact.header, txs);
    return { header: this.compact.header, hash: this.hash, raw, txs };
  }
}

function shortIdOf(c: CompactBlock): (txid: Uint8Array) => number {
  const key = shortIdKey(c.rawHeader, c.nonce);
  return (txid) => shortId(key, txid);
}
