import { benchChain } from './bench/chain.ts';

const w = Number(process.argv[2] ?? 1);
const r = await benchChain(200, 1000, w);
console.log(`workers=${w}`, r.map((x) => `${x.name} ${x.ops.toFixed(2)}`).join(' | '));
