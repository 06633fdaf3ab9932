#!/usr/bin/env node
// `npm run build`: tsc compiles only TypeScript; the explorer's page files go beside the compiled
// code (dist/services/node/explorer/page/), where services/node/explorer/page-assets.ts reads them.
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
cpSync(`${root}services/node/explorer/page`, `${root}dist/services/node/explorer/page`, { recursive: true });
