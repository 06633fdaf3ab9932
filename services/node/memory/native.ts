/**
 * The native memory calls (native/memory.c, built by `npm run build` into dist/native/): releasing
 * pages of LMDB's map from this process's RSS, and glibc's malloc_trim. Optional: a node built
 * without a C compiler runs without them, and says why once at start.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeMemory {
  /** madvise(MADV_DONTNEED) over the range: 0, or the errno. */
  releaseRange(start: bigint, length: bigint): number;
  /** malloc_trim(0): true when memory went back to the kernel. */
  trimHeap(): boolean;
  /** glibc's malloc_info XML (Core's getmemoryinfo "mallocinfo"); null without glibc. */
  mallocInfo(): string | null;
}

const FILE = 'cairn_memory.node';
// from the sources (services/node/memory) the build is under dist/; from dist/services/node/memory beside it
const CANDIDATES = [`../../../dist/native/${FILE}`, `../../../native/${FILE}`].map((p) =>
  fileURLToPath(new URL(p, import.meta.url)),
);

let loaded: NativeMemory | string | undefined;

/** The addon, or why it is not there (a sentence for the log). Loaded once. */
export function loadNativeMemory(): NativeMemory | string {
  if (loaded !== undefined) return loaded;
  const path = CANDIDATES.find((p) => existsSync(p));
  if (path === undefined) {
    loaded = `the native memory addon is not built (${FILE}: run \`npm run build\` with a C compiler and Node's headers)`;
    return loaded;
  }
  try {
    const mod = createRequire(import.meta.url)(path) as Partial<NativeMemory>;
    if (
      typeof mod.releaseRange !== 'function' ||
      typeof mod.trimHeap !== 'function' ||
      typeof mod.mallocInfo !== 'function'
    )
      throw new Error('releaseRange, trimHeap or mallocInfo missing: rebuild it with `npm run build`');
    loaded = mod as NativeMemory;
  } catch (e) {
    loaded = `the native memory addon ${path} did not load: ${(e as Error).message}`;
  }
  return loaded;
}
