/**
 * docs/benchmarks.svg from a report: a hand-written SVG with two panels — each goal as a bar
 * of "share of the goal reached" (1 = met), and the main throughputs on a log scale.
 */
import type { Report } from './report.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) =>
  n >= 1000 ? Math.round(n).toLocaleString('en-US') : n >= 100 ? n.toFixed(0) : Number(n.toPrecision(3)).toString();

export function renderChart(report: Report): string {
  const width = 900;
  const labelW = 330;
  const barW = width - labelW - 150;
  const rowH = 22;
  const parts: string[] = [];
  let y = 30;
  parts.push(
    `<text x="12" y="${y}" font-size="16" font-weight="bold">Gatekeeper benchmark — ${esc(report.date.slice(0, 10))}, ${esc(report.mode)} run, ${report.machine.cores} cores, Node ${esc(report.machine.node)}, PostgreSQL ${esc(report.postgres?.version ?? '?')}</text>`,
  );
  y += 28;
  parts.push(
    `<text x="12" y="${y}" font-size="13" font-weight="bold">Goals of issues 6 and 11: share of each goal reached (1.0 = met; bars capped at 2.0)</text>`,
  );
  y += 12;
  const goals = report.goals.filter((g) => g.score !== null);
  const scale = (v: number) => (Math.min(v, 2) / 2) * barW;
  const top = y;
  for (const g of goals) {
    const score = g.score!;
    const color = g.met ? '#2e7d32' : '#e65100';
    parts.push(`<text x="${labelW - 8}" y="${y + 15}" font-size="12" text-anchor="end">${esc(g.name)}</text>`);
    parts.push(
      `<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, scale(score)).toFixed(1)}" height="${rowH - 8}" fill="${color}"/>`,
    );
    // Goal values are rounded already (ratios to 3 digits, memory to 0.1 MiB): show them as they are.
    const value = g.value === null ? '–' : g.value >= 1000 ? fmt(g.value) : String(g.value);
    parts.push(
      `<text x="${labelW + scale(score) + 6}" y="${y + 15}" font-size="11">${esc(`${value} (goal ${g.target})`)}</text>`,
    );
    y += rowH;
  }
  const one = labelW + scale(1);
  parts.push(`<line x1="${one}" y1="${top}" x2="${one}" y2="${y}" stroke="#333" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${one}" y="${y + 12}" font-size="10" text-anchor="middle">goal</text>`);
  y += 36;

  parts.push(
    `<text x="12" y="${y}" font-size="13" font-weight="bold">Throughput, median of runs (log scale; requests or hashes per second)</text>`,
  );
  y += 12;
  const keys = [
    'bare.me',
    'gk.me',
    'ba.session-cache',
    'ba.session',
    'gk.refresh',
    'workers.n.me',
    'raw.verify.node-rs.LOW',
    'gk.login.LOW',
    'raw.verify.node-rs.MEDIUM',
    'gk.login.MEDIUM',
    'raw.hash.node-rs.MEDIUM',
    'gk.register.MEDIUM',
    'raw.scrypt.verify',
    'ba.signin',
  ];
  const cells = keys
    .map((k) => report.cells[k])
    .filter((c): c is NonNullable<typeof c> => c !== undefined && Number.isFinite(c.rate.median));
  const maxRate = Math.max(10, ...cells.map((c) => c.rate.median));
  const decades = Math.ceil(Math.log10(maxRate));
  const logX = (v: number) => (Math.log10(Math.max(1, v)) / decades) * barW;
  const top2 = y;
  for (const c of cells) {
    const color =
      c.key.startsWith('raw.') || c.key.startsWith('bare.')
        ? '#78909c'
        : c.key.startsWith('ba.')
          ? '#6a1b9a'
          : '#1565c0';
    parts.push(`<text x="${labelW - 8}" y="${y + 15}" font-size="12" text-anchor="end">${esc(c.label)}</text>`);
    parts.push(
      `<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, logX(c.rate.median)).toFixed(1)}" height="${rowH - 8}" fill="${color}"/>`,
    );
    parts.push(
      `<text x="${labelW + logX(c.rate.median) + 6}" y="${y + 15}" font-size="11">${esc(`${fmt(c.rate.median)} ${c.unit}`)}</text>`,
    );
    y += rowH;
  }
  for (let d = 0; d <= decades; d += 1) {
    const x = labelW + (d / decades) * barW;
    parts.push(`<line x1="${x}" y1="${top2}" x2="${x}" y2="${y}" stroke="#ccc"/>`);
    parts.push(`<text x="${x}" y="${y + 12}" font-size="10" text-anchor="middle">${fmt(10 ** d)}</text>`);
  }
  y += 30;
  parts.push(
    `<text x="12" y="${y}" font-size="11" fill="#555">blue: Gatekeeper · purple: Better Auth · grey: baselines (raw hashing in a plain Node process, bare Fastify) — from bench/results/latest.json</text>`,
  );
  y += 16;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}
