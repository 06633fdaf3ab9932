/**
 * bcoin v2.2.0 on demand, in a cache directory outside the repository (it is not a dependency of
 * the project: its native build would slow `npm ci`). Tried in order:
 * 1. an install already in the cache (`${XDG_CACHE_HOME:-~/.cache}/cairn-bench/bcoin`);
 * 2. a bcoin v2.2.0 source tree named by `--bcoin-src DIR` or CAIRN_BENCH_BCOIN_SRC (a checkout of
 *    the bcoin project at tag v2.2.0: it carries its dependencies in node_modules/), copied into the
 *    cache and built there with `npm rebuild` (node-gyp: bcrypto's libsecp256k1, bdb's LevelDB);
 * 3. `npm install --prefix CACHE bcoin@2.2.0` from the npm registry.
 * Each step prints what it does on stderr; when none gives a working bcoin 2.2.0 with its native
 * secp256k1, the bench refuses (BcoinUnavailable) saying how to provide one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const BCOIN_VERSION = '2.2.0';

export class BcoinUnavailable extends Error {}

export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'cairn-bench', 'bcoin');
}

/** What the bench loads: bcoin's directory (bin/node, lib/) and the library itself. */
export interface BcoinInstall {
  dir: string;
  version: string;
  // biome-ignore lint/suspicious/noExplicitAny: bcoin is untyped JavaScript
  lib: any;
  /** bcrypto's secp256k1 backend: 'native' (libsecp256k1 built by node-gyp) or 'js'. */
  secp256k1: string;
}

const log = (s: string) => console.error(`[bcoin] ${s}`);

function run(cmd: string, args: string[], cwd?: string): boolean {
  log(
    `$ ${cwd === undefined ? '' : `(cd ${cwd} && `}${cmd} ${args.join(' ')}${cwd === undefined ? '' : ')'}`,
  );
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) log(`${cmd} failed (exit ${r.status ?? r.signal ?? r.error?.message})`);
  return r.status === 0;
}

const versionAt = (dir: string): string | undefined => {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name?: string;
      version?: string;
    };
    return pkg.name === 'bcoin' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
};

/** Loads bcoin at `dir` and checks that its secp256k1 is the native one (the JS one is ~20× slower). */
function load(dir: string): BcoinInstall | string {
  const version = versionAt(dir);
  if (version !== BCOIN_VERSION) return `${dir}: bcoin ${version ?? '(none)'}, not ${BCOIN_VERSION}`;
  try {
    const req = createRequire(join(dir, 'package.json'));
    const secp = req('bcrypto/lib/secp256k1') as { native?: number };
    req('bdb'); // LevelDB binding
    const secp256k1 = secp.native === 2 ? 'native' : 'js';
    if (secp256k1 !== 'native') return `${dir}: bcrypto's native secp256k1 did not load (NODE_BACKEND=js?)`;
    return { dir, version, lib: req(dir), secp256k1 };
  } catch (err) {
    return `${dir}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

export function ensureBcoin(src = process.env.CAIRN_BENCH_BCOIN_SRC): BcoinInstall {
  const cache = cacheRoot();
  const fromSource = join(cache, `bcoin-${BCOIN_VERSION}`);
  const fromRegistry = join(cache, 'node_modules', 'bcoin');
  const reasons: string[] = [];
  for (const dir of [fromSource, fromRegistry]) {
    if (!existsSync(dir)) continue;
    const got = load(dir);
    if (typeof got !== 'string') {
      log(`using bcoin ${got.version} in ${dir} (secp256k1: ${got.secp256k1})`);
      return got;
    }
    reasons.push(got);
  }
  mkdirSync(cache, { recursive: true });
  if (src !== undefined) {
    const abs = resolve(src);
    const v = versionAt(abs);
    if (v !== BCOIN_VERSION) {
      reasons.push(`${abs}: bcoin ${v ?? '(no bcoin package.json)'}, not ${BCOIN_VERSION}`);
    } else {
      log(`copying the bcoin ${v} source tree ${abs} to ${fromSource}`);
      rmSync(fromSource, { recursive: true, force: true });
      cpSync(abs, fromSource, {
        recursive: true,
        filter: (p) => !p.endsWith('/.git'),
      });
      if (run('npm', ['rebuild', '--foreground-scripts'], fromSource)) {
        const got = load(fromSource);
        if (typeof got !== 'string') return got;
        reasons.push(got);
      } else reasons.push(`npm rebuild in ${fromSource} failed`);
    }
  }
  if (
    run('npm', [
      'install',
      '--prefix',
      cache,
      '--no-save',
      '--no-audit',
      '--no-fund',
      `bcoin@${BCOIN_VERSION}`,
    ])
  ) {
    const got = load(fromRegistry);
    if (typeof got !== 'string') return got;
    reasons.push(got);
  } else reasons.push(`npm install bcoin@${BCOIN_VERSION} failed (the npm registry's last bcoin is 1.0.2)`);
  throw new BcoinUnavailable(
    [
      `bcoin ${BCOIN_VERSION} is not available:`,
      ...reasons.map((r) => `  - ${r}`),
      `Provide its source: a checkout of the bcoin project (bcoin-org/bcoin) at tag v${BCOIN_VERSION},`,
      'which carries its dependencies in node_modules/, then run the bench with',
      '  --bcoin-src DIR   (or CAIRN_BENCH_BCOIN_SRC=DIR)',
      `It is copied to ${fromSource} and built there (node-gyp; a C/C++ toolchain and python3).`,
    ].join('\n'),
  );
}
