/** A tiny tmpfs to fill up (disk-full tests). Mounting needs root; `whyNoTmpfs` says when it cannot. */
import { execFileSync } from 'node:child_process';
import { tempDir } from './node.ts';

/** Why a tmpfs cannot be mounted here (the skip reason), or undefined when it can. */
export function whyNoTmpfs(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const probe = tempDir();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe.path], { stdio: 'pipe' });
    execFileSync('umount', [probe.path]);
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs here: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    probe.remove();
  }
}

export function mountTmpfs(path: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
}

/** Grows (or shrinks) a mounted tmpfs: "free some disk space". */
export function resizeTmpfs(path: string, size: string): void {
  execFileSync('mount', ['-o', `remount,size=${size}`, path]);
}

/** Lazy unmount; nothing when it is not mounted. */
export function unmount(path: string): void {
  try {
    execFileSync('umount', ['-l', path], { stdio: 'pipe' });
  } catch {
    /* not mounted */
  }
}
