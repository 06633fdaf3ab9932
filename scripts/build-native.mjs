#!/usr/bin/env node
// `npm run build`: compiles native/memory.c into dist/native/cairn_memory.node (Node-API, no
// node-gyp: one C file, the headers Node ships in PREFIX/include/node, the system C compiler, $CC).
// Without a compiler or headers it says so and exits 0: cairnd then runs without releasing LMDB's
// map pages (storage.map_cache_mb) and logs why at start.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist', 'native', 'cairn_memory.node');
const prefix = dirname(dirname(process.execPath));
const includes = [
  join(prefix, 'include', 'node'),
  '/usr/include/node',
  '/usr/include/nodejs/src',
  '/usr/include/nodejs',
];
const include = includes.find((d) => existsSync(join(d, 'node_api.h')));
if (include === undefined) {
  console.warn(
    `cairn: native/memory.c not built: no node_api.h in ${includes.join(', ')} (install Node's headers, e.g. Debian's libnode-dev)`,
  );
  process.exit(0);
}
mkdirSync(dirname(out), { recursive: true });
const cc = process.env.CC || 'cc';
const args = [
  '-O2',
  '-Wall',
  '-shared',
  '-fPIC',
  `-I${include}`,
  '-o',
  out,
  join(root, 'native', 'memory.c'),
];
const run = spawnSync(cc, args, { stdio: 'inherit' });
if (run.error !== undefined || run.status !== 0) {
  console.warn(
    `cairn: native/memory.c not built: ${cc} ${run.error?.message ?? `exited ${run.status}`} (install a C compiler, e.g. Debian's gcc)`,
  );
  process.exit(0);
}
