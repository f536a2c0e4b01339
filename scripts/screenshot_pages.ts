/**
 * Screenshot every HTML page under a folder in headless Chromium (playwright-core): each page is
 * opened offline from disk, its Plotly figures are awaited (`#plot-N svg.main-svg`), console
 * errors, page errors and any non-file request are recorded, and a full-page PNG is written.
 * Prints one line per page (errors, title, page, screenshot), or with --json one JSON object.
 * Exits 1 when a page has errors or a figure that did not render, 2 for bad arguments.
 * Run: npx tsx scripts/screenshot_pages.ts [folder=results] [--out results/screenshots] [--json]
 *      [--timeout-ms 30000] [--chromium /usr/bin/chromium]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

/** What was seen on one page. */
interface PageReport {
  /** Page path, relative to the folder searched. */
  readonly page: string;
  /** The document's `<title>`. */
  readonly title: string;
  /** Plot divs on the page, and how many rendered an SVG. */
  readonly plots: number;
  readonly rendered: number;
  /** Console errors, page errors, remote or failed requests, plots that did not render. */
  readonly errors: number;
  readonly messages: readonly string[];
  /** The PNG written. */
  readonly screenshot: string;
}

/** Every `.html` file under `dir`, sorted, skipping `skip` (the screenshot folder) and node_modules. */
function htmlFiles(dir: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (p === skip || name === 'node_modules') continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.html')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Open one page, wait for its plots, record problems, write the screenshot. */
async function shoot(browser: Browser, path: string, root: string, outDir: string, timeoutMs: number): Promise<PageReport> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const messages: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') messages.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => messages.push(`request failed: ${r.url()}`));
  page.on('request', (r) => {
    if (!/^(file|data|blob):/.test(r.url())) messages.push(`remote request: ${r.url()}`);
  });
  const rel = relative(root, path);
  const screenshot = join(outDir, `${rel.replace(/\.html$/, '').split(/[\\/]/).join('__')}.png`);
  try {
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load', timeout: timeoutMs });
    const plots = await page.locator('div.plot').count();
    let rendered = 0;
    for (let i = 0; i < plots; i++) {
      try {
        await page.waitForSelector(`#plot-${i} svg.main-svg`, { timeout: timeoutMs });
        rendered++;
      } catch {
        messages.push(`plot-${i} did not render within ${timeoutMs} ms`);
      }
    }
    await page.waitForTimeout(250); // let Plotly finish its layout pass before the picture
    await page.screenshot({ path: screenshot, fullPage: true });
    return { page: rel, title: await page.title(), plots, rendered, errors: messages.length, messages, screenshot };
  } finally {
    await page.close();
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      'timeout-ms': { type: 'string', default: '30000' },
      chromium: { type: 'string', default: process.env['CHROMIUM'] ?? '/usr/bin/chromium' },
    },
  });
  const root = resolve(positionals[0] ?? 'results');
  const outDir = resolve(values.out ?? join(root, 'screenshots'));
  const timeoutMs = Number(values['timeout-ms']);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    process.stderr.write(`screenshot_pages: no folder '${root}'\n`);
    return 2;
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    process.stderr.write(`screenshot_pages: --timeout-ms must be a positive integer, got '${values['timeout-ms']}'\n`);
    return 2;
  }
  if (!existsSync(values.chromium)) {
    process.stderr.write(`screenshot_pages: no Chromium at ${values.chromium} (apt-get install chromium, or --chromium <path>)\n`);
    return 2;
  }
  const pages = htmlFiles(root, outDir);
  mkdirSync(outDir, { recursive: true });
  const browser = await chromium.launch({ executablePath: values.chromium, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const reports: PageReport[] = [];
  try {
    for (const p of pages) {
      const r = await shoot(browser, p, root, outDir, timeoutMs);
      reports.push(r);
      if (!values.json) process.stdout.write(`${r.errors === 0 ? 'ok ' : `${r.errors} errors`}  ${r.title}  ${r.page} (${r.rendered}/${r.plots} plots, ${(statSync(p).size / 1024).toFixed(0)} KiB) → ${relative(process.cwd(), r.screenshot)}\n${r.messages.map((m) => `    ${m}\n`).join('')}`);
    }
  } finally {
    await browser.close();
  }
  const errors = reports.reduce((a, r) => a + r.errors, 0);
  const untitled = reports.filter((r) => r.title.trim() === '' || r.title === 'tfjs-lens').map((r) => r.page);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ folder: root, screenshots: outDir, count: reports.length, errors, untitled, pages: reports })}\n`);
  } else {
    process.stdout.write(`${reports.length} pages, ${errors} errors${untitled.length === 0 ? '' : `, untitled: ${untitled.join(', ')}`}; screenshots in ${relative(process.cwd(), outDir)}/\n`);
  }
  // A page's own HTML must name no remote script either (checked here too, for pages that failed to load).
  const remote = pages.filter((p) => /<script[^>]+src\s*=\s*["']?https?:/i.test(readFileSync(p, 'utf8')));
  if (remote.length > 0) process.stderr.write(`screenshot_pages: remote scripts in ${remote.map((p) => relative(root, p)).join(', ')}\n`);
  return errors === 0 && untitled.length === 0 && remote.length === 0 ? 0 : 1;
}

process.exitCode = await main();
