/**
 * The devnet's status line (one per new best block) and its warnings, kept apart from the polling
 * so they can be tested with plain values.
 *
 *   block   712  00000a3c5f0e2b91…  node-1 712/712 · node-2 699/1419 BEHIND 13 · node-3 712/712  peers 2/2/2
 *
 * Each node shows blocks/headers (getblockchaininfo); `…` when it does not answer. A node whose
 * height stays more than `behindBlocks` under the best node's for longer than `behindMs` is flagged
 * `BEHIND <blocks>`: a block or two of lag for a moment is propagation, not a stuck node. A node's
 * non-empty `warnings` (e.g. the node's own stall watchdog) is printed once on a line of its own,
 * again when it changes, and its clearing is said too.
 */

/** What the devnet learns of one node per poll; undefined when it did not answer. */
export interface NodeStatus {
  readonly blocks: number;
  readonly headers: number;
  readonly bestblockhash: string;
  readonly peers: number;
  /** getblockchaininfo's warnings: a string in Bitcoin Core before v28, a list since. */
  readonly warnings?: string | readonly string[];
}

/** A node further below the best than this many blocks… */
export const BEHIND_BLOCKS = 3;
/** …for longer than this is flagged BEHIND. */
export const BEHIND_MS = 10_000;

export interface BehindOptions {
  readonly behindBlocks?: number;
  readonly behindMs?: number;
}

/** The warnings of one answer as one line of text ('' when there are none). */
export function warningText(w: NodeStatus['warnings']): string {
  if (w === undefined) return '';
  const parts = typeof w === 'string' ? [w] : [...w];
  return parts
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join('; ');
}

/**
 * Follows the nodes poll after poll: since when each one is behind the best, and its last
 * warnings. `update` returns what to print for that poll: the warning lines (possibly none) and,
 * when the best height grew, the block line.
 */
export class StatusTracker {
  readonly #names: readonly string[];
  readonly #behindBlocks: number;
  readonly #behindMs: number;
  /** Per node: when it was first seen more than behindBlocks under the best (ms), if it still is. */
  readonly #behindSince: (number | undefined)[];
  readonly #warnings: string[];
  #best = -1;
  #lastPeers = '';

  constructor(names: readonly string[], o: BehindOptions = {}) {
    this.#names = names;
    this.#behindBlocks = o.behindBlocks ?? BEHIND_BLOCKS;
    this.#behindMs = o.behindMs ?? BEHIND_MS;
    this.#behindSince = names.map(() => undefined);
    this.#warnings = names.map(() => '');
  }

  /**
   * How far each node is flagged behind at `now` (0: not flagged). A node that does not answer
   * keeps its clock running: it is shown as `…`, and flagged as soon as it answers again below.
   */
  #lag(infos: readonly (NodeStatus | undefined)[], top: number, now: number): number[] {
    return infos.map((x, i) => {
      if (x === undefined) return 0;
      const lag = top - x.blocks;
      if (lag <= this.#behindBlocks) {
        this.#behindSince[i] = undefined;
        return 0;
      }
      const since = this.#behindSince[i] ?? now;
      this.#behindSince[i] = since;
      return now - since > this.#behindMs ? lag : 0;
    });
  }

  update(infos: readonly (NodeStatus | undefined)[], now: number): string[] {
    const lines: string[] = [];
    for (const [i, x] of infos.entries()) {
      if (x === undefined) continue; // no answer: keep the last known warnings
      const text = warningText(x.warnings);
      if (text === this.#warnings[i]) continue;
      lines.push(
        text === ''
          ? `  ${this.#names[i]} warning cleared`
          : `  ! ${this.#names[i]} warning: ${text} (blocks ${x.blocks}, headers ${x.headers})`,
      );
      this.#warnings[i] = text;
    }
    const top = Math.max(-1, ...infos.map((x) => x?.blocks ?? -1));
    const lag = this.#lag(infos, top, now);
    const peers = infos.map((x) => x?.peers ?? '-').join('/');
    if (top > this.#best) {
      this.#best = top;
      lines.push(blockLine(this.#names, infos, lag));
    } else if (peers !== this.#lastPeers && infos.every((x) => x !== undefined)) {
      lines.push(`              peers ${peers}`);
    }
    this.#lastPeers = peers;
    return lines;
  }
}

/** `node-2 699/1419 BEHIND 720`, `node-1 712/712`, or `node-3 …` (no answer). */
export function nodeCell(name: string, x: NodeStatus | undefined, lag: number): string {
  if (x === undefined) return `${name} …`;
  return `${name} ${x.blocks}/${x.headers}${lag > 0 ? ` BEHIND ${lag}` : ''}`;
}

/** The line for a new best height; `lag[i]` > 0 flags node i as that many blocks behind. */
export function blockLine(
  names: readonly string[],
  infos: readonly (NodeStatus | undefined)[],
  lag: readonly number[],
): string {
  const top = Math.max(-1, ...infos.map((x) => x?.blocks ?? -1));
  const leader = infos.find((x) => x?.blocks === top);
  const hash = leader === undefined ? '' : `${leader.bestblockhash.slice(0, 16)}…`;
  const cells = names.map((n, i) => nodeCell(n, infos[i], lag[i] ?? 0)).join(' · ');
  const peers = infos.map((x) => x?.peers ?? '-').join('/');
  return `block ${String(top).padStart(5)}  ${hash}  ${cells}  peers ${peers}`;
}
