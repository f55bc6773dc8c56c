// The run report page of a real run (the public sample), opened from disk in headless Chromium: it loads with no
// errors and no requests beyond itself, shows the run's real numbers, and its charts have a rendered size.
// Needs /usr/bin/chromium (Debian's package); `npm run test:browser`, not `npm test`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { RunReport } from '../../shared/commit.ts';
import { renderRunReport } from '../../shared/report-html.ts';
import { PUBLIC_SAMPLE, runEtl, tempDir } from '../support/run.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('run report in headless Chromium', { timeout: 60_000 }, () => {
  const tmp = tempDir('report');
  let browser: Browser | undefined;
  let page: Page;
  let report: RunReport;
  let file: string;
  let html: string;
  let writtenByCommit = false;
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const requests: string[] = [];

  before(async () => {
    const run = await runEtl(PUBLIC_SAMPLE, tmp.dir);
    report = run.report as RunReport;
    file = join(tmp.dir, '_runs', `${report.runId}.html`);
    // Once Commit writes the page itself, test that file; until then write it as Commit will.
    writtenByCommit = existsSync(file);
    if (!writtenByCommit) writeFileSync(file, renderRunReport(report));
    html = readFileSync(file, 'utf8');

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  });

  after(async () => {
    await browser?.close();
    tmp.remove();
  });

  const text = async (selector: string): Promise<string> => ((await page.textContent(selector)) ?? '').trim();

  test('the page is exactly renderRunReport of the run report', () => {
    assert.equal(html, renderRunReport(report), writtenByCommit ? 'the page Commit wrote' : 'the page written here');
  });

  test('loads with no console errors, no page errors and no request but the file itself', () => {
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(requests, [pathToFileURL(file).href]);
    assert.equal(report.status, 'succeeded');
  });

  test('shows the run id, status and the real counts of the run', async () => {
    assert.equal(await page.title(), `Sparkify run ${report.runId}`);
    assert.equal(await text('[data-field="status"]'), 'succeeded');
    assert.equal(await text('tr[data-table="songplays"] [data-field="rows"]'), '6,820');
    assert.equal(await text('tr[data-table="users"] [data-field="rows"]'), '97');
    assert.equal(await text('tr[data-table="songs"] [data-field="rows"]'), '71');
    assert.equal(await text('tr[data-table="artists"] [data-field="rows"]'), '69');
    assert.equal(await text('tr[data-table="time"] [data-field="rows"]'), '6,813');
    assert.equal(await text('tr[data-source="log_data"] [data-field="read"]'), '8,056');
    assert.equal(await text('tr[data-source="log_data"] [data-field="rejected"]'), '0');
    assert.equal(await text('tr[data-source="song_data"] [data-field="read"]'), '71');
    const body = await page.innerText('body');
    assert.ok(body.includes('No records were rejected.'), 'the rejects section says there were none');
  });

  test('plays by hour: 24 bars whose counts are the report insights and sum to 6,820', async () => {
    const bars = await page.locator('svg[data-chart="plays-by-hour"] rect[data-hour]').all();
    assert.equal(bars.length, 24);
    const plays: number[] = [];
    for (const [h, bar] of bars.entries()) {
      assert.equal(await bar.getAttribute('data-hour'), String(h));
      plays.push(Number(await bar.getAttribute('data-plays')));
    }
    assert.deepEqual(plays, report.insights.playsByHour);
    assert.equal(
      plays.reduce((a, b) => a + b, 0),
      6820,
    );
    // The busiest hour's bar is drawn, and drawn taller than the quietest hour's.
    const busiest = plays.indexOf(Math.max(...plays));
    const quietest = plays.indexOf(Math.min(...plays));
    const tall = await bars[busiest]?.boundingBox();
    const short = await bars[quietest]?.boundingBox();
    assert.ok(
      tall && short && tall.height > short.height && short.height > 0,
      `bar heights ${tall?.height}/${short?.height}`,
    );
  });

  test('top songs: the one matched play, "Setanta matins" by Elena', async () => {
    assert.equal(await text('svg[data-chart="top-songs"] .song-title'), 'Setanta matins');
    assert.equal(await text('svg[data-chart="top-songs"] .song-artist'), 'Elena');
    assert.equal(await page.getAttribute('svg[data-chart="top-songs"] [data-rank="1"]', 'data-plays'), '1');
  });

  test('free vs paid: 1,229 free and 5,591 paid plays, 75 free and 22 paid users', async () => {
    const value = (level: string, metric: string) =>
      page.getAttribute(
        `svg[data-chart="free-vs-paid"] rect[data-level="${level}"][data-metric="${metric}"]`,
        'data-value',
      );
    assert.deepEqual(
      [
        await value('free', 'plays'),
        await value('paid', 'plays'),
        await value('free', 'users'),
        await value('paid', 'users'),
      ],
      ['1229', '5591', '75', '22'],
    );
    const label = (level: string, metric: string) =>
      text(`svg[data-chart="free-vs-paid"] text[data-level="${level}"][data-metric="${metric}"]`);
    assert.equal(await label('free', 'plays'), '1,229 (18.0%)');
    assert.equal(await label('paid', 'plays'), '5,591 (82.0%)');
    assert.deepEqual(report.insights.playsByLevel, { free: 1229, paid: 5591 });
  });

  test('every chart has a rendered size', async () => {
    const charts = await page.locator('svg[data-chart]').all();
    assert.equal(charts.length, 3);
    for (const chart of charts) {
      const name = await chart.getAttribute('data-chart');
      const box = await chart.boundingBox();
      assert.ok(box && box.width > 100 && box.height > 20, `${name} is drawn: ${JSON.stringify(box)}`);
    }
  });

  test('a full-page screenshot is a real PNG', async () => {
    const shot = join(tmp.dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(png.length > 20_000, `screenshot is ${png.length} bytes`);
  });
});
