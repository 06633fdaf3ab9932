/**
 * The dependency rules of docs/architecture.md, checked on the source: the consensus core imports
 * nothing of the project outside itself and does no I/O; shared/ never imports services/; no
 * module imports one of another service.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map(
    (m) => m[1]!,
  );
  specs.push(...[...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!));
  specs.push(...[...text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!));
  return specs;
}

const rel = (f: string) => relative(root, f);
const target = (file: string, spec: string) => rel(resolve(dirname(file), spec));

describe('architecture rules', () => {
  it('the consensus core imports only itself, node:crypto/node:buffer and pure libraries', () => {
    const allowedExternal = new Set(['node:crypto', 'node:buffer', '@scure/base']);
    const bad: string[] = [];
    for (const f of sources(join(root, 'shared/core'))) {
      for (const s of imports(f)) {
        if (s.startsWith('.')) {
          if (!target(f, s).startsWith('shared/core/')) bad.push(`${rel(f)} -> ${s}`);
        } else if (!allowedExternal.has(s)) {
          bad.push(`${rel(f)} -> ${s}`);
        }
      }
    }
    assert.deepEqual(bad, []);
  });

  it('the core reads no clock, environment or randomness', () => {
    const bad: string[] = [];
    for (const f of sources(join(root, 'shared/core'))) {
      const text = readFileSync(f, 'utf8');
      for (const pattern of [
        /Date\.now\(/,
        /new Date\(/,
        /process\./,
        /Math\.random\(/,
        /randomBytes\(/,
        /performance\.now\(/,
      ]) {
        if (pattern.test(text)) bad.push(`${rel(f)}: ${pattern}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('shared/ never imports services/, and services do not import each other', () => {
    const bad: string[] = [];
    for (const f of sources(join(root, 'shared'))) {
      for (const s of imports(f))
        if (s.startsWith('.') && target(f, s).startsWith('services/')) bad.push(`${rel(f)} -> ${s}`);
    }
    for (const f of sources(join(root, 'services'))) {
      const own = rel(f).split('/')[1];
      for (const s of imports(f)) {
        const t = target(f, s);
        if (s.startsWith('.') && t.startsWith('services/') && t.split('/')[1] !== own)
          bad.push(`${rel(f)} -> ${s}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('there are no import cycles in shared/', () => {
    const graph = new Map<string, string[]>();
    for (const f of sources(join(root, 'shared'))) {
      graph.set(
        rel(f),
        imports(f)
          .filter((s) => s.startsWith('.'))
          .map((s) => target(f, s)),
      );
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (n: string, path: string[]) => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(n)), n].join(' -> '));
        return;
      }
      state.set(n, 'visiting');
      for (const m of graph.get(n) ?? []) visit(m, [...path, n]);
      state.set(n, 'done');
    };
    for (const n of graph.keys()) visit(n, []);
    assert.deepEqual(cycles, []);
  });
});
