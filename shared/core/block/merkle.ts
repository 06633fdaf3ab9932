/**
 * Merkle root over tx ids. Internal nodes are tagged hashes, so no tx id can pass for a node; an
 * odd node is carried up unchanged rather than paired with itself, so no two different tx lists
 * share a root (Bitcoin's duplicate-last rule allowed that: CVE-2012-2459).
 */
import { TAG_MERKLE } from '../hash.ts';

export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) {
    return new Uint8Array(32);
  }
  let level: Uint8Array[] = leaves.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = new Array(Math.ceil(level.length / 2));
    for (let i = 0; i + 1 < level.length; i += 2) {
      next[i >> 1] = TAG_MERKLE.digest(level[i]!, level[i + 1]!);
    }
    if (level.length % 2 === 1) {
      next[next.length - 1] = level[level.length - 1]!;
    }
    level = next;
  }
  return Uint8Array.from(level[0]!);
}
