/**
 * The run as an SVG (no dependencies, pure): per best-chain block, the time to reach 50 / 90 /
 * 100 % of nodes; per transaction, the time to 90 %; and the machine's CPU over the run, so a
 * propagation spike can be read against the machine being busy.
 */
import type { CpuSample } from './collect.ts';

export interface PlotInput {
  readonly title: string;
  readonly startMs: number;
  readonly endMs: number;
  /** t = first seen (ms epoch); times in ms, null = not reached. */
  readonly blocks: readonly { t: number; to50: number | null; to90: number | null; to100: number | null }[];
  readonly txs: readonly { t: number; to90: number | null }[];
  readonly cpu: readonly CpuSample[];
  readonly churn: readonly { t: number }[];
}

const W = 900;
const PANEL = 200;
const LEFT = 70;
const GAP = 50;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= v)!;
}

export function plotSvg(p: PlotInput): string {
  const span = Math.max(1, p.endMs - p.startMs);
  const x = (t: number) => LEFT + ((t - p.startMs) / span) * (W - LEFT - 20);
  const out: string[] = [];
  let top = 40;
  const panel = (title: string, yMax: number, unit: string, draw: (y: (v: number) => number) => void) => {
    const y = (v: number) => top + PANEL - (Math.min(v, yMax) / yMax) * PANEL;
    out.push(`<text x="${LEFT}" y="${top - 8}" font-size="13">${esc(title)}</text>`);
    out.push(
      `<rect x="${LEFT}" y="${top}" width="${W - LEFT - 20}" height="${PANEL}" fill="none" stroke="#999"/>`,
    );
    for (let i = 0; i <= 4; i++) {
      const v = (yMax * i) / 4;
      out.push(`<line x1="${LEFT}" x2="${W - 20}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
      out.push(
        `<text x="${LEFT - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${Math.round(v)}${unit}</text>`,
      );
    }
    for (const c of p.churn)
      out.push(`<line x1="${x(c.t)}" x2="${x(c.t)}" y1="${top}" y2="${top + PANEL}" stroke="#f4c7a1"/>`);
    draw(y);
    top += PANEL + GAP;
  };
  const dot = (cx: number, cy: number, color: string, r = 2.5) =>
    out.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r}" fill="${color}"/>`);
  const colors = { to50: '#2b8cbe', to90: '#e6550d', to100: '#756bb1' } as const;
  const bMax = niceMax(Math.max(100, ...p.blocks.flatMap((b) => [b.to50 ?? 0, b.to90 ?? 0, b.to100 ?? 0])));
  panel(
    'block propagation (ms from first node): ● 50%  ● 90%  ● 100% of nodes; orange lines: churn',
    bMax,
    '',
    (y) => {
      for (const b of p.blocks)
        for (const k of ['to50', 'to90', 'to100'] as const) {
          const v = b[k];
          if (v === null) dot(x(b.t), y(bMax), '#d62728', 2);
          else dot(x(b.t), y(v), colors[k]);
        }
    },
  );
  const tMax = niceMax(Math.max(100, ...p.txs.map((t) => t.to90 ?? 0)));
  panel('transaction propagation to 90% of nodes (ms from sendrawtransaction)', tMax, '', (y) => {
    const step = Math.max(1, Math.floor(p.txs.length / 3000)); // a readable file: at most ~3000 dots
    for (let i = 0; i < p.txs.length; i += step) {
      const t = p.txs[i]!;
      dot(x(t.t), y(t.to90 ?? tMax), t.to90 === null ? '#d62728' : '#31a354', 1.5);
    }
  });
  panel('machine CPU busy (all processes), %; dashed: 95%', 100, '%', (y) => {
    const pts = p.cpu.map((c) => `${x(c.t).toFixed(1)},${y(c.busy * 100).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="#444"/>`);
    out.push(
      `<line x1="${LEFT}" x2="${W - 20}" y1="${y(95)}" y2="${y(95)}" stroke="#d62728" stroke-dasharray="4 3"/>`,
    );
  });
  const secs = Math.round(span / 1000);
  out.push(`<text x="${LEFT}" y="${top - GAP + 18}" font-size="10">0 s</text>`);
  out.push(`<text x="${W - 20}" y="${top - GAP + 18}" font-size="10" text-anchor="end">${secs} s</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${top}" font-family="sans-serif">`,
    `<title>${esc(p.title)}</title>`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${LEFT}" y="20" font-size="15" font-weight="bold">${esc(p.title)}</text>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
