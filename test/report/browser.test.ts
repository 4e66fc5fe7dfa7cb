/**
 * The report in a real browser: Debian's headless Chromium driven by puppeteer-core (which downloads no
 * browser). The page must render without a console error or a request, hold one heatmap per flagged
 * instance with its marks where the data and the model put them, and show hostile strings as text. A
 * screenshot is kept in test/artifacts/ (not committed). Chromium missing is a failure, never a skip.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesSource } from '#shared/cli/read-input.ts';
import { runReport } from '#shared/cli/report-command.ts';
import { runPipeline } from '#shared/local/pipeline.ts';
import type { ReportModel } from '#shared/report/model.ts';
import { renderReport } from '#shared/report/render.ts';
import { HEATMAP, localPlace } from '#shared/report/svg.ts';
import { fixtureModel, HOSTILE } from '#test/support/report-fixture.ts';

/** The page's globals as far as the checks below use them: the project compiles without the DOM library. */
interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}
interface BrowserElement {
  readonly attributes: ArrayLike<{ readonly name: string }>;
  readonly parentElement: BrowserElement | null;
  getAttribute(name: string): string | null;
  getBBox(): Box;
  querySelector(selector: string): BrowserElement | null;
  querySelectorAll(selector: string): ArrayLike<BrowserElement>;
}
declare const document: BrowserElement & { readonly body: { readonly textContent: string } };

const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test/artifacts');
const CHROMIUM = process.env.CRAWLGUARD_CHROMIUM ?? '/usr/bin/chromium';
const SLOT_PX = HEATMAP.plotWidth / 288;
/** Where a minute of the day must be drawn: the plot's left edge plus its share of the plot's width. */
const heatmapX = (minute: number) => HEATMAP.plotX + (minute / 1440) * HEATMAP.plotWidth;

/** What happened while a page loaded and rendered: anything here is a defect. */
interface Trouble {
  readonly console: string[];
  readonly errors: string[];
  readonly requests: string[];
  readonly dialogs: string[];
}

let launched: Promise<Browser> | undefined;

/**
 * The browser, launched once. Chromium missing or failing to start rejects, and every test that needs it
 * fails with the reason (a failing beforeAll would only mark them skipped).
 */
function chromium(): Promise<Browser> {
  launched ??= existsSync(CHROMIUM)
    ? puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        // Chromium refuses to run its sandbox as root (CI runs as root).
        args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      })
    : Promise.reject(
        new Error(
          `headless Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium, as .ci/run does) or set CRAWLGUARD_CHROMIUM to its path`,
        ),
      );
  return launched;
}

afterAll(async () => {
  await (await launched?.catch(() => undefined))?.close();
});

/** Opens an HTML file and records every console message, page error, request and dialog. */
async function open(path: string): Promise<{ page: Page; trouble: Trouble }> {
  const page = await (await chromium()).newPage();
  const url = pathToFileURL(path).href;
  const trouble: Trouble = { console: [], errors: [], requests: [], dialogs: [] };
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn')
      trouble.console.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => trouble.errors.push(String(error)));
  page.on('request', (request) => {
    if (request.url() !== url) trouble.requests.push(request.url());
  });
  page.on('dialog', async (dialog) => {
    trouble.dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.setViewport({ width: 1200, height: 900 });
  await page.goto(url, { waitUntil: 'load' });
  return { page, trouble };
}

/** Geometry of one heatmap as Chromium laid it out (SVG user units). */
interface Drawn {
  readonly windows: {
    readonly x: number;
    readonly width: number;
    readonly start: number;
    readonly end: number;
  }[];
  /** Cells of at least half the peak: where the crawl is. */
  readonly hot: { readonly x: number; readonly width: number; readonly y: number }[];
  readonly fix: { readonly x: number; readonly y: number; readonly day: string | null } | null;
}

function drawnHeatmap(page: Page, index: number): Promise<Drawn> {
  return page.evaluate((at) => {
    const svg = document.querySelectorAll('svg[data-instance-id]')[at] as BrowserElement;
    const fixLine = svg.querySelector('[data-mark-part="fix-time"]');
    return {
      windows: Array.from(svg.querySelectorAll('[data-mark="window"]'), (rect) => ({
        x: rect.getBBox().x,
        width: rect.getBBox().width,
        start: Number(rect.getAttribute('data-start-minute')),
        end: Number(rect.getAttribute('data-end-minute')),
      })),
      hot: Array.from(svg.querySelectorAll('rect[data-shade]'))
        .filter((rect) => Number(rect.getAttribute('data-shade')) >= 3)
        .map((rect) => ({ x: rect.getBBox().x, width: rect.getBBox().width, y: rect.getBBox().y })),
      fix:
        fixLine === null
          ? null
          : {
              x: fixLine.getBBox().x,
              y: fixLine.getBBox().y,
              day: fixLine.parentElement?.getAttribute('data-day') ?? null,
            },
    };
  }, index);
}

describe('the report in headless Chromium', () => {
  const model = fixtureModel();
  const flagged = model.instances.filter((instance) => instance.flagged);
  let opened: Promise<{ page: Page; trouble: Trouble }> | undefined;
  /** The fixture's page, rendered and opened once for the tests below. */
  const rendered = () => {
    opened ??= (async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, 'report.html');
      writeFileSync(path, renderReport(model));
      return open(path);
    })();
    return opened;
  };

  it('renders without a console error, a script error, a dialog or any request', async () => {
    const { trouble } = await rendered();

    expect(trouble).toEqual({ console: [], errors: [], requests: [], dialogs: [] });
  });

  it('holds one heatmap per flagged instance, named by its instance id', async () => {
    const { page } = await rendered();
    const ids = await page.$$eval('svg[data-instance-id]', (svgs) =>
      svgs.map((svg) => svg.getAttribute('data-instance-id')),
    );

    expect(ids).toEqual(flagged.map((instance) => instance.instanceId));
    expect(ids).toContain(HOSTILE.label);
  });

  it('outlines each detected window where the model puts it, and the crawl cells fall inside it', async () => {
    const { page } = await rendered();
    for (const [index, instance] of flagged.entries()) {
      const windows = instance.networkOut?.windows ?? [];
      const drawn = await drawnHeatmap(page, index);
      const spans = windows.flatMap((w) =>
        w.endMinute > w.startMinute
          ? [[w.startMinute, w.endMinute]]
          : [
              [w.startMinute, 1440],
              [0, w.endMinute],
            ],
      );

      expect(drawn.windows.map((w) => [w.x, w.x + w.width])).toEqual(
        spans.map(([from, to]) => [
          expect.closeTo(heatmapX(from as number), 1),
          expect.closeTo(heatmapX(to as number), 1),
        ]),
      );
      if (windows.length === 0) continue;
      expect(drawn.hot.length).toBeGreaterThan(0);
      const inside = (cell: { x: number; width: number }) =>
        drawn.windows.some((w) => cell.x >= w.x - SLOT_PX && cell.x + cell.width <= w.x + w.width + SLOT_PX);
      expect(
        drawn.hot.filter((cell) => !inside(cell)),
        instance.instanceId,
      ).toEqual([]);
    }
  });

  it('marks the fix on its day and time of day, with the crawl before it and none after', async () => {
    const { page } = await rendered();
    const index = flagged.findIndex((instance) => instance.fix !== null);
    const instance = flagged[index];
    const patchedAt = instance?.fix?.patchedAt ?? '';
    const place = localPlace(patchedAt, instance?.networkOut?.timeZone ?? 'UTC');
    const row = instance?.networkOut?.heatmap?.rows.findIndex((r) => r.day === place?.day) ?? -1;

    const drawn = await drawnHeatmap(page, index);

    expect(row).toBeGreaterThan(0);
    expect(drawn.fix).toEqual({
      x: expect.closeTo(heatmapX(place?.minute ?? Number.NaN), 1),
      y: expect.closeTo(HEATMAP.plotTop + row * HEATMAP.rowHeight, 1),
      day: place?.day,
    });
    const fixY = drawn.fix?.y ?? 0;
    const rowsWithCrawl = new Set(
      drawn.hot.map((cell) => Math.round((cell.y - HEATMAP.plotTop) / HEATMAP.rowHeight)),
    );
    // The fix came at 10:00, after that day's 06:25 crawl: crawls on every row up to the fix's, none after.
    expect([...rowsWithCrawl].sort((a, b) => a - b)).toEqual(Array.from({ length: row + 1 }, (_, i) => i));
    expect(drawn.hot.every((cell) => cell.y <= fixY)).toBe(true);
  });

  it('draws the memory trend and puts the projected crossing on the threshold line', async () => {
    const { page } = await rendered();
    const index = flagged.findIndex((instance) => instance.fix !== null);
    const memory = await page.evaluate((at) => {
      const section = document.querySelectorAll('section.instance')[at] as BrowserElement;
      const chart = section.querySelector('svg[data-chart="memory"]') as BrowserElement;
      // An SVGRect's fields are getters: copy them, or the page hands back {}.
      const box = (selector: string) => {
        const found = chart.querySelector(selector)?.getBBox();
        return found === undefined
          ? null
          : { x: found.x, y: found.y, width: found.width, height: found.height };
      };
      return {
        trend: box('[data-mark="trend"]'),
        threshold: box('[data-mark="threshold"]'),
        crossing: box('[data-mark="crossing"]'),
        restart: box('[data-mark="restart"]'),
      };
    }, index);

    expect(memory.trend?.width).toBeGreaterThan(100);
    expect(memory.threshold).not.toBeNull();
    expect(memory.restart).not.toBeNull();
    const crossingY = (memory.crossing?.y ?? 0) + (memory.crossing?.height ?? 0) / 2;
    expect(crossingY).toBeCloseTo(memory.threshold?.y ?? Number.NaN, 0);
    // The restart (the fix) comes after the trend's segment began.
    expect(memory.restart?.x).toBeGreaterThan(memory.trend?.x ?? Number.POSITIVE_INFINITY);
  });

  it('shows hostile labels, names and tags as text: no element, no handler, nothing run', async () => {
    const { page, trouble } = await rendered();
    const found = await page.evaluate(() => ({
      elements: document.querySelectorAll('script, img, iframe, object, embed, b, link').length,
      handlers: Array.from(document.querySelectorAll('*')).filter((element) =>
        Array.from(element.attributes).some((attribute) => attribute.name.startsWith('on')),
      ).length,
      text: document.body.textContent,
    }));

    expect(found.elements).toBe(0);
    expect(found.handlers).toBe(0);
    expect(found.text).toContain(HOSTILE.name);
    expect(found.text).toContain(HOSTILE.key);
    expect(found.text).toContain('\\u202eevil\\u202c & <b>bold</b> \\u001b[2J');
    expect(trouble.dialogs).toEqual([]);
  });

  it('keeps a screenshot of the whole page as an artifact', async () => {
    const { page } = await rendered();
    const path = join(ARTIFACTS, 'report.png');

    await page.screenshot({ path, fullPage: true });

    const png = readFileSync(path);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1200);
    console.log(`screenshot: ${path}`);
  });
});

describe('the report of events/metrics/ in headless Chromium', () => {
  it('renders cleanly with one heatmap per flagged instance', async () => {
    const report = join(ARTIFACTS, 'metrics-report.html');
    const written = new Map<string, string>();
    mkdirSync(ARTIFACTS, { recursive: true });
    const code = runReport(
      [
        '--network-out',
        join(ROOT, 'events/metrics/network-out.json'),
        '--memory',
        join(ROOT, 'events/metrics/memory.json'),
        '--report',
        report,
        '--model',
        join(ARTIFACTS, 'metrics-report.json'),
      ],
      {
        cwd: ROOT,
        now: () => new Date('2026-11-20T12:00:00Z'),
        openFile: (path) => bytesSource(readFileSync(path)),
        writeFiles: (files) => {
          for (const file of files) {
            writeFileSync(file.path, file.content);
            written.set(file.path, file.content);
          }
        },
        stdout: () => {},
        stderr: (text) => {
          throw new Error(text);
        },
      },
    );
    const model = JSON.parse(written.get(join(ARTIFACTS, 'metrics-report.json')) ?? '') as ReportModel;

    const { page, trouble } = await open(report);
    const ids = await page.$$eval('svg[data-instance-id]', (svgs) =>
      svgs.map((svg) => svg.getAttribute('data-instance-id')),
    );

    expect(code).toBe(0);
    expect(trouble).toEqual({ console: [], errors: [], requests: [], dialogs: [] });
    expect(ids).toEqual(
      model.instances.filter((instance) => instance.flagged).map((instance) => instance.instanceId),
    );
    expect(ids).toHaveLength(model.fleet.flagged);
    await page.close();
  }, 60_000);
});

describe("npm start's report in headless Chromium", () => {
  it('renders the demo fleet with no console error or request: a heatmap per flagged instance, the fix marked on each fixed one; screenshot kept', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const run = await runPipeline({ seed: 1 });
    const path = join(ARTIFACTS, 'crawlguard-report.html');
    writeFileSync(path, renderReport(run.model));
    const flagged = run.model.instances.filter((instance) => instance.flagged);

    const { page, trouble } = await open(path);
    const drawn = await page.$$eval('svg[data-instance-id]', (svgs) =>
      svgs.map((svg) => ({
        id: svg.getAttribute('data-instance-id'),
        fix: svg.querySelector('[data-mark-part="fix-time"]') !== null,
      })),
    );

    expect(trouble).toEqual({ console: [], errors: [], requests: [], dialogs: [] });
    expect(drawn.map((d) => d.id)).toEqual(flagged.map((instance) => instance.instanceId));
    const fixed = new Set(
      flagged.filter((i) => i.fix !== null && i.networkOut !== null).map((i) => i.instanceId),
    );
    expect(fixed.size).toBeGreaterThanOrEqual(8);
    expect(drawn.filter((d) => d.fix).map((d) => d.id)).toEqual([...fixed]);
    const screenshot = join(ARTIFACTS, 'crawlguard-report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe('PNG');
    await page.close();
  }, 180_000);
});
