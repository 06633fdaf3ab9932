/**
 * Compares two V8 heap snapshots (.heapsnapshot, e.g. from bench/memory-load.ts with
 * CAIRN_BENCH_MEMORY_SNAPSHOTS=DIR): objects per class (count and self size) in each and the growth,
 * then the largest objects of the second by retained size (dominator tree) with the path that
 * holds them.
 *
 * Usage: npx tsx bench/heap-compare.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top N]
 *        npx tsx bench/heap-compare.ts AFTER.heapsnapshot --retainers CLASS   (who holds CLASS)
 *        npx tsx bench/heap-compare.ts AFTER.heapsnapshot --expand CLASS      (what the largest CLASS holds)
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  readonly nodeCount: number;
  /** per node: type name, class name, self size, first edge index */
  readonly type: string[];
  readonly name: string[];
  readonly selfSize: Float64Array;
  readonly firstEdge: Uint32Array;
  readonly edgeType: string[];
  readonly edgeName: string[];
  readonly edgeTo: Uint32Array;
}

function load(path: string): Snapshot {
  const j = JSON.parse(readFileSync(path, 'utf8')) as {
    snapshot: {
      meta: {
        node_fields: string[];
        node_types: [string[]];
        edge_fields: string[];
        edge_types: [string[]];
      };
    };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const m = j.snapshot.meta;
  const nf = m.node_fields.length;
  const ef = m.edge_fields.length;
  const [nType, nName, nSize, nEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
    m.node_fields.indexOf(f),
  ) as [number, number, number, number];
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => m.edge_fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const nodeTypes = m.node_types[0];
  const edgeTypes = m.edge_types[0];
  const count = j.nodes.length / nf;
  const type: string[] = new Array(count);
  const name: string[] = new Array(count);
  const selfSize = new Float64Array(count);
  const firstEdge = new Uint32Array(count + 1);
  let e = 0;
  for (let i = 0; i < count; i++) {
    type[i] = nodeTypes[j.nodes[i * nf + nType]!]!;
    name[i] = j.strings[j.nodes[i * nf + nName]!]!;
    selfSize[i] = j.nodes[i * nf + nSize]!;
    firstEdge[i] = e;
    e += j.nodes[i * nf + nEdges]!;
  }
  firstEdge[count] = e;
  const edgeCount = j.edges.length / ef;
  const edgeType: string[] = new Array(edgeCount);
  const edgeName: string[] = new Array(edgeCount);
  const edgeTo = new Uint32Array(edgeCount);
  for (let k = 0; k < edgeCount; k++) {
    const t = edgeTypes[j.edges[k * ef + eType]!]!;
    const n = j.edges[k * ef + eName]!;
    edgeType[k] = t;
    edgeName[k] = t === 'element' || t === 'hidden' ? `[${n}]` : j.strings[n]!;
    edgeTo[k] = j.edges[k * ef + eTo]! / nf;
  }
  return { nodeCount: count, type, name, selfSize, firstEdge, edgeType, edgeName, edgeTo };
}

/** DevTools-like class of a node. */
function classOf(s: Snapshot, i: number): string {
  const t = s.type[i]!;
  switch (t) {
    case 'object':
    case 'native':
      return s.name[i]!;
    case 'closure':
      return '(closure)';
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'code':
      return '(compiled code)';
    case 'hidden':
    case 'object shape':
      return '(system)';
    case 'array':
      return `(array${s.name[i] ? ` ${s.name[i]}` : ''})`;
    default:
      return `(${t})`;
  }
}

function byClass(s: Snapshot): Map<string, { count: number; size: number }> {
  const m = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < s.nodeCount; i++) {
    const k = classOf(s, i);
    const c = m.get(k) ?? { count: 0, size: 0 };
    c.count++;
    c.size += s.selfSize[i]!;
    m.set(k, c);
  }
  return m;
}

/** Immediate dominators (Cooper, Harvey, Kennedy) over strong edges from node 0, and retained sizes. */
function dominators(s: Snapshot): { idom: Int32Array; retained: Float64Array; order: Uint32Array } {
  const n = s.nodeCount;
  const strong = (k: number) => s.edgeType[k] !== 'weak';
  // postorder by an iterative DFS
  const post = new Int32Array(n).fill(-1);
  const order = new Uint32Array(n);
  let count = 0;
  const visited = new Uint8Array(n);
  const stack: number[] = [0];
  const edgeAt: number[] = [s.firstEdge[0]!];
  visited[0] = 1;
  while (stack.length > 0) {
    const v = stack[stack.length - 1]!;
    const k = edgeAt[edgeAt.length - 1]!;
    if (k < s.firstEdge[v + 1]!) {
      edgeAt[edgeAt.length - 1] = k + 1;
      const w = s.edgeTo[k]!;
      if (strong(k) && visited[w] === 0) {
        visited[w] = 1;
        stack.push(w);
        edgeAt.push(s.firstEdge[w]!);
      }
    } else {
      stack.pop();
      edgeAt.pop();
      post[v] = count;
      order[count++] = v;
    }
  }
  // predecessors (strong edges between reachable nodes)
  const predCount = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) {
    if (post[v] === -1) continue;
    for (let k = s.firstEdge[v]!; k < s.firstEdge[v + 1]!; k++)
      if (strong(k) && post[s.edgeTo[k]!] !== -1) predCount[s.edgeTo[k]! + 1]!++;
  }
  for (let v = 0; v < n; v++) predCount[v + 1]! += predCount[v]!;
  const preds = new Uint32Array(predCount[n]!);
  const fill = predCount.slice(0, n);
  for (let v = 0; v < n; v++) {
    if (post[v] === -1) continue;
    for (let k = s.firstEdge[v]!; k < s.firstEdge[v + 1]!; k++) {
      const w = s.edgeTo[k]!;
      if (strong(k) && post[w] !== -1) preds[fill[w]!++] = v;
    }
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (post[a]! < post[b]!) a = idom[a]!;
      while (post[b]! < post[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let p = count - 2; p >= 0; p--) {
      const v = order[p]!;
      let d = -1;
      for (let q = predCount[v]!; q < predCount[v + 1]!; q++) {
        const u = preds[q]!;
        if (idom[u] === -1) continue;
        d = d === -1 ? u : intersect(u, d);
      }
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(n);
  for (let p = 0; p < count; p++) {
    const v = order[p]!;
    retained[v]! += s.selfSize[v]!;
    if (v !== 0 && idom[v]! >= 0) retained[idom[v]!]! += retained[v]!;
  }
  return { idom, retained, order: order.slice(0, count) };
}

/** The edge from `from` to `to` (its name), for paths. */
function edgeName(s: Snapshot, from: number, to: number): string {
  for (let k = s.firstEdge[from]!; k < s.firstEdge[from + 1]!; k++)
    if (s.edgeTo[k] === to) return s.edgeName[k]!;
  return '?';
}

/** Strong edges into each node: [from, edge index] pairs. */
function retainers(s: Snapshot): Map<number, [number, number][]> {
  const r = new Map<number, [number, number][]>();
  for (let v = 0; v < s.nodeCount; v++)
    for (let k = s.firstEdge[v]!; k < s.firstEdge[v + 1]!; k++) {
      if (s.edgeType[k] === 'weak') continue;
      const to = s.edgeTo[k]!;
      const l = r.get(to);
      if (l === undefined) r.set(to, [[v, k]]);
      else l.push([v, k]);
    }
  return r;
}

/**
 * Who holds `v`: up to 8 hops of retainers, each time the one with the largest retained size (the
 * owner rather than a passing reference), never revisiting a node.
 */
function holdPath(
  s: Snapshot,
  into: Map<number, [number, number][]>,
  retained: Float64Array,
  v: number,
): string {
  const parts: string[] = [];
  const seen = new Set([v]);
  let x = v;
  for (let depth = 0; depth < 8; depth++) {
    const next = (into.get(x) ?? [])
      .filter(([from]) => !seen.has(from))
      .sort((a, b) => retained[b[0]]! - retained[a[0]]!)[0];
    if (next === undefined || next[0] === 0) break;
    const [from, k] = next;
    parts.push(`${classOf(s, from)}.${s.edgeName[k]}`);
    if (s.type[from] === 'synthetic') break;
    seen.add(from);
    x = from;
  }
  return parts.length === 0 ? '(root)' : parts.join(' ← ');
}

const mb = (n: number) => (n / 1024 / 1024).toFixed(2);
const args = process.argv.slice(2);
const files = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const topArg = args.indexOf('--top');
const top = topArg >= 0 ? Number(args[topArg + 1]) : 25;
const retainersArg = args.indexOf('--retainers');

const expandArg = args.indexOf('--expand');

if (expandArg >= 0) {
  // the dominator subtree of the largest object of CLASS, children over 100 KB, 4 levels deep
  const cls = args[expandArg + 1]!;
  const s = load(files[0]!);
  const { idom, retained } = dominators(s);
  const children = new Map<number, number[]>();
  for (let v = 1; v < s.nodeCount; v++) {
    if (idom[v]! < 0 || retained[v]! < 100 * 1024) continue;
    const l = children.get(idom[v]!) ?? [];
    l.push(v);
    children.set(idom[v]!, l);
  }
  let root = -1;
  for (let v = 0; v < s.nodeCount; v++)
    if (classOf(s, v) === cls && (root < 0 || retained[v]! > retained[root]!)) root = v;
  const show = (v: number, depth: number, via: string) => {
    console.log(`${'  '.repeat(depth)}${mb(retained[v]!).padStart(8)} MB  ${via}${classOf(s, v)}`);
    if (depth >= 4) return;
    for (const c of (children.get(v) ?? []).sort((p, q) => retained[q]! - retained[p]!).slice(0, 12))
      show(c, depth + 1, `${edgeName(s, v, c)}: `);
  };
  if (root < 0) console.log(`no ${cls} in ${files[0]}`);
  else show(root, 0, '');
} else if (retainersArg >= 0) {
  const cls = args[retainersArg + 1]!;
  const s = load(files[0]!);
  const holders = new Map<string, number>();
  for (let v = 0; v < s.nodeCount; v++) {
    for (let k = s.firstEdge[v]!; k < s.firstEdge[v + 1]!; k++) {
      if (s.edgeType[k] === 'weak' || classOf(s, s.edgeTo[k]!) !== cls) continue;
      const key = `${classOf(s, v)} --${s.edgeType[k] === 'element' ? '[i]' : s.edgeName[k]}-->`;
      holders.set(key, (holders.get(key) ?? 0) + 1);
    }
  }
  console.log(`retainers of ${cls} in ${files[0]}:`);
  for (const [k, c] of [...holders].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${String(c).padStart(8)}  ${k}`);
} else {
  const [beforePath, afterPath] = files;
  if (beforePath === undefined || afterPath === undefined) {
    console.error('usage: heap-compare.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top N]');
    process.exit(64);
  }
  const before = load(beforePath);
  const after = load(afterPath);
  const total = (s: Snapshot) => s.selfSize.reduce((a, b) => a + b, 0);
  console.log(
    `live heap: ${mb(total(before))} MB (${before.nodeCount} objects) → ${mb(total(after))} MB (${after.nodeCount} objects)`,
  );
  const a = byClass(before);
  const b = byClass(after);
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((k) => {
    const x = a.get(k) ?? { count: 0, size: 0 };
    const y = b.get(k) ?? { count: 0, size: 0 };
    return { k, count0: x.count, count1: y.count, size0: x.size, size1: y.size, d: y.size - x.size };
  });
  rows.sort((p, q) => Math.abs(q.d) - Math.abs(p.d));
  console.log(
    '\nclass                                     count before → after        self MB before → after   growth MB',
  );
  for (const r of rows.slice(0, top))
    console.log(
      `${r.k.slice(0, 40).padEnd(40)}  ${String(r.count0).padStart(9)} → ${String(r.count1).padEnd(9)}  ${mb(r.size0).padStart(9)} → ${mb(r.size1).padEnd(9)}  ${mb(r.d).padStart(8)}`,
    );
  const { idom, retained } = dominators(after);
  const into = retainers(after);
  const big: number[] = [];
  for (let v = 1; v < after.nodeCount; v++)
    if (retained[v]! > 256 * 1024 && after.type[v] !== 'synthetic') big.push(v);
  // the largest objects not inside another listed one
  big.sort((p, q) => retained[q]! - retained[p]!);
  const listed = new Set<number>();
  console.log(`\nlargest retained objects in ${afterPath} (not counting those inside a larger one listed):`);
  for (const v of big) {
    if (listed.size >= top) break;
    let inside = false;
    for (let x = idom[v]!; x > 0; x = idom[x]!)
      if (listed.has(x)) {
        inside = true;
        break;
      }
    if (inside) continue;
    listed.add(v);
    console.log(
      `${mb(retained[v]!).padStart(8)} MB  ${classOf(after, v)}  held by ${holdPath(after, into, retained, v)}`,
    );
  }
}
