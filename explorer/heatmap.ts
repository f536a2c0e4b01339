/**
 * An SVG heatmap with axis titles, tick labels (the tokens), a colour legend and a hover tooltip.
 * Colour scales are honest: 'seq' maps a fixed [vmin, vmax] (attention: [0, 1]) white → blue;
 * 'div' is symmetric around 0 (red < 0 < blue) so that white always means zero.
 */
const NS = 'http://www.w3.org/2000/svg';

/** What to draw. `values[r][c]`; rows go down the y axis. */
export interface HeatmapSpec {
  readonly values: readonly (readonly number[])[];
  readonly rowLabels: readonly string[];
  readonly colLabels: readonly string[];
  readonly xTitle: string;
  readonly yTitle: string;
  readonly scale: 'seq' | 'div';
  /** Scale range; 'seq' defaults to [min, max] of the values, 'div' to ±max|v|. */
  readonly vmin?: number;
  readonly vmax?: number;
  /** Cells drawn grey (e.g. future positions under a causal mask). */
  readonly masked?: (r: number, c: number) => boolean;
  /** Tooltip text of one cell. */
  readonly hover: (r: number, c: number, v: number) => string;
  /** Text inside a cell (large cells only). */
  readonly cellText?: (r: number, c: number, v: number) => string;
  readonly cell?: number;
  readonly cellW?: number;
  readonly legendTitle: string;
}

const BLUES = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];
const RDBU = ['#b2182b', '#d6604d', '#f4a582', '#fddbc7', '#f7f7f7', '#d1e5f0', '#92c5de', '#4393c3', '#2166ac'];

function hex(c: string): [number, number, number] {
  return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];
}

/** Colour of t ∈ [0, 1] on a list of stops. */
function ramp(stops: readonly string[], t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const a = hex(stops[i] as string);
  const b = hex(stops[i + 1] as string);
  const f = x - i;
  return `rgb(${a.map((v, k) => Math.round(v + ((b[k] as number) - v) * f)).join(',')})`;
}

/** Colour function and range of a spec. */
export function colourScale(spec: Pick<HeatmapSpec, 'values' | 'scale' | 'vmin' | 'vmax'>): { lo: number; hi: number; colour: (v: number) => string } {
  const flat = spec.values.flat().filter((v) => Number.isFinite(v));
  if (spec.scale === 'div') {
    const m = spec.vmax ?? Math.max(1e-9, ...flat.map((v) => Math.abs(v)));
    return { lo: -m, hi: m, colour: (v) => ramp(RDBU, (v + m) / (2 * m)) };
  }
  const lo = spec.vmin ?? Math.min(...flat);
  const hi = spec.vmax ?? Math.max(...flat);
  const span = hi - lo || 1;
  return { lo, hi, colour: (v) => ramp(BLUES, (v - lo) / span) };
}

/** Text colour readable on a cell colour. */
export function inkOn(rgb: string): string {
  const [r, g, b] = (rgb.match(/\d+/g) ?? ['0', '0', '0']).map(Number) as [number, number, number];
  return 0.299 * r + 0.587 * g + 0.114 * b < 140 ? '#fff' : '#111';
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The page's single tooltip element. */
function tooltip(): HTMLDivElement {
  let t = document.getElementById('tooltip') as HTMLDivElement | null;
  if (t === null) {
    t = document.createElement('div');
    t.id = 'tooltip';
    document.body.append(t);
  }
  return t;
}

/** Short label for an axis tick: visible whitespace, clipped. */
export function tickLabel(s: string, max = 10): string {
  const v = s.replace(/\n/g, '⏎').replace(/^ /, '·');
  return v.length > max ? `${v.slice(0, max - 1)}…` : v;
}

/** Format a legend number. */
function fmt(v: number): string {
  return Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : v.toFixed(2);
}

/** Draw the heatmap; returns the <svg> (cells carry data-r, data-c and data-v). */
export function heatmap(spec: HeatmapSpec): SVGSVGElement {
  const rows = spec.values.length;
  const cols = spec.values[0]?.length ?? 0;
  const ch = spec.cell ?? 20;
  const cw = spec.cellW ?? ch;
  const left = 24 + 7 * Math.min(12, Math.max(3, ...spec.rowLabels.map((l) => tickLabel(l).length)));
  const xLab = 6.5 * Math.min(12, Math.max(3, ...spec.colLabels.map((l) => tickLabel(l).length)));
  const gridW = cols * cw;
  const gridH = rows * ch;
  // The y-axis title runs along the axis when it fits, else it sits above the row labels.
  const yVertical = gridH >= spec.yTitle.length * 7 + 8;
  const top = yVertical ? 10 : 26;
  const legendX = left + gridW + 24;
  const width = legendX + Math.max(80, spec.legendTitle.length * 7 + 8);
  const height = Math.max(top + gridH + xLab + 40, 200);
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'heatmap', role: 'img' });
  const { lo, hi, colour } = colourScale(spec);
  const tip = tooltip();
  const g = el('g', { transform: `translate(${left},${top})` });
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = spec.values[r]?.[c] ?? NaN;
      const masked = spec.masked?.(r, c) === true;
      const fill = masked ? '#e5e5e5' : colour(v);
      const rect = el('rect', { x: c * cw, y: r * ch, width: cw - 1, height: ch - 1, fill, 'data-r': r, 'data-c': c, 'data-v': v });
      if (!masked) {
        rect.addEventListener('mousemove', (ev) => {
          tip.textContent = spec.hover(r, c, v);
          tip.style.display = 'block';
          tip.style.left = `${ev.pageX + 14}px`;
          tip.style.top = `${ev.pageY + 12}px`;
        });
        rect.addEventListener('mouseleave', () => {
          tip.style.display = 'none';
        });
      }
      g.append(rect);
      const text = masked ? undefined : spec.cellText?.(r, c, v);
      if (text !== undefined) {
        g.append(el('text', { x: c * cw + cw / 2, y: r * ch + ch / 2 + 4, 'text-anchor': 'middle', class: 'cell-text', fill: inkOn(fill), 'pointer-events': 'none' }, text));
      }
    }
  }
  spec.rowLabels.forEach((l, r) => g.append(el('text', { x: -5, y: r * ch + ch / 2 + 4, 'text-anchor': 'end', class: 'tick' }, tickLabel(l))));
  spec.colLabels.forEach((l, c) => {
    const x = c * cw + cw / 2;
    const y = gridH + 6;
    g.append(el('text', { x, y, transform: `rotate(-55 ${x} ${y})`, 'text-anchor': 'end', class: 'tick', dy: '0.7em' }, tickLabel(l)));
  });
  svg.append(g);
  svg.append(el('text', { x: left + gridW / 2, y: top + gridH + xLab + 24, 'text-anchor': 'middle', class: 'axis-title' }, spec.xTitle));
  const ym = top + gridH / 2;
  if (yVertical) svg.append(el('text', { x: 12, y: ym, transform: `rotate(-90 12 ${ym})`, 'text-anchor': 'middle', class: 'axis-title' }, spec.yTitle));
  else svg.append(el('text', { x: 4, y: 14, class: 'axis-title' }, `↓ ${spec.yTitle}`));
  // Legend: a vertical gradient from hi (top) to lo, with three ticks.
  const lh = Math.max(100, Math.min(220, gridH));
  const defs = el('defs', {});
  const grad = el('linearGradient', { id: `lg-${Math.random().toString(36).slice(2)}`, x1: 0, y1: 1, x2: 0, y2: 0 });
  for (let i = 0; i <= 10; i++) grad.append(el('stop', { offset: `${i * 10}%`, 'stop-color': colour(lo + ((hi - lo) * i) / 10) }));
  defs.append(grad);
  svg.append(defs);
  svg.append(el('text', { x: legendX, y: top + 4, class: 'legend-title' }, spec.legendTitle));
  svg.append(el('rect', { x: legendX, y: top + 14, width: 14, height: lh, fill: `url(#${grad.id})`, stroke: '#999' }));
  [hi, (lo + hi) / 2, lo].forEach((v, i) => {
    svg.append(el('text', { x: legendX + 19, y: top + 14 + (lh * i) / 2 + 4, class: 'tick' }, fmt(v)));
  });
  return svg;
}
