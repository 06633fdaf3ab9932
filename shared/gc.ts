/**
 * V8's full garbage collection as a function, on any thread (the node's main thread and the verify
 * workers), without starting node with --expose-gc.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * V8's full collection as a function, without starting node with --expose-gc: the flag is set for
 * a moment and the `gc` of a fresh context taken (as jest's leak detector does). Undefined if this
 * V8 refuses.
 */
export function loadGc(): (() => void) | undefined {
  const global = (globalThis as { gc?: () => void }).gc;
  if (typeof global === 'function') return global;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
