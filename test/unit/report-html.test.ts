// Unit tests of shared/report-html.ts: the run report page holds the report's numbers where a reader looks for
// them, escapes every string, references nothing outside itself, and renders a run with no plays.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyStage, type RunReport } from '../../shared/commit.ts';
import { DEFAULT_SETTINGS } from '../../shared/config.ts';
import { emptyInsights } from '../../shared/insights.ts';
import { escapeHtml, renderRunReport } from '../../shared/report-html.ts';
import { noUsage } from '../../shared/store.ts';

const PLAYS_BY_HOUR = [
  155, 154, 117, 109, 136, 162, 183, 179, 207, 270, 312, 336, 308, 324, 432, 477, 542, 494, 498, 367, 360, 280, 217,
  201,
];

const NASTY = `<script>alert("x")</script> & 'q'`;

/** A report shaped like the public sample's, plus rejects whose text tries to break out of the page. */
function sampleReport(): RunReport {
  return {
    runId: '20261123T021121Z-5ad4ad',
    status: 'succeeded',
    published: true,
    inputs: {
      mode: 'incremental',
      keysGiven: null,
      seen: 101,
      new: 101,
      changed: 0,
      unchanged: 0,
      missing: [],
      objects: 101,
      bytes: 3_774_819,
      inputsFile: '_runs/20261123T021121Z-5ad4ad.inputs.jsonl',
    },
    recovery: { action: 'none' },
    checks: [],
    storage: Object.fromEntries(
      ['plan', 'map', 'dimensions', 'facts', 'commit', 'total'].map((s) => [s, noUsage()]),
    ) as RunReport['storage'],
    source: './data/R&D <raw>',
    target: 's3://my-lake/star',
    startedAt: '2026-11-23T02:11:21.757Z',
    finishedAt: '2026-11-23T02:11:25.377Z',
    // This run used the classic songs-by-year layout.
    settings: { ...DEFAULT_SETTINGS, partitions: { ...DEFAULT_SETTINGS.partitions, songs: ['year'] } },
    sources: {
      song_data: { objects: 71, bytes: 19_221, read: 73, loaded: 71, rejected: 2, rejectRate: 2 / 73 },
      log_data: { objects: 30, bytes: 3_755_598, read: 8_057, loaded: 8_056, rejected: 1, rejectRate: 1 / 8_057 },
    },
    rejects: {
      total: 3,
      byReason: { 'invalid JSON': 2, 'ts < 0': 1 },
      examples: {
        'invalid JSON': [
          { key: 'song_data/A/B/C/TRABCEI128F424C983.json', line: 1, raw: NASTY },
          { key: 'song_data/A/B/D/TRABDEF128F424C984.json', line: 1, raw: '{"song_id": ' },
        ],
        'ts < 0': [{ key: 'log_data/2018/11/2018-11-01-events.json', line: 12, raw: '{"ts":-1,"page":"NextSong"}' }],
      },
    },
    insights: {
      playsByHour: PLAYS_BY_HOUR,
      playsByLevel: { paid: 5_591, free: 1_229 },
      usersByLevel: { free: 75, paid: 22 },
      matchedPlays: 333,
      topSongs: [
        { song_id: 'SOBONKR12A58A7A7E0', title: "You're The One", artist: 'Dwight Yoakam', plays: 37 },
        { song_id: 'SOHTKMO12AB01843B0', title: 'Catch You Baby <Remix>', artist: 'Lonnie Gordon & Co', plays: 9 },
        { song_id: 'SOUNZHU12A8AE47481', title: "I CAN'T GET STARTED", artist: 'Ron Carter', plays: 9 },
      ],
    },
    tables: {
      songplays: {
        rows: 6_820,
        files: 4,
        bytes: 335_220,
        partitions: ['year=2018/month=11/'],
        published: [],
        added: 0,
        updated: 0,
        removed: 0,
      },
      users: { rows: 97, files: 1, bytes: 3_652, partitions: [''], published: [], added: 0, updated: 0, removed: 0 },
      songs: {
        rows: 71,
        files: 21,
        bytes: 35_781,
        partitions: ['year=1961/', 'year=1964/', 'year=1969/'],
        published: [],
        added: 0,
        updated: 0,
        removed: 0,
      },
      artists: { rows: 69, files: 1, bytes: 5_192, partitions: [''], published: [], added: 0, updated: 0, removed: 0 },
      time: {
        rows: 6_813,
        files: 4,
        bytes: 61_410,
        partitions: ['year=2018/month=11/'],
        published: [],
        added: 0,
        updated: 0,
        removed: 0,
      },
    },
    stages: {
      plan: { shards: 2, wallMs: 38 },
      map: {
        invocations: 2,
        workers: 2,
        wallMs: 1_210,
        busyMs: 1_210,
        objectsRead: 101,
        bytesRead: 3_774_819,
        rowsIn: 8_130,
        rowsOut: 8_127,
        shuffleBytes: 2_480_112,
      },
      dimensions: {
        invocations: 4,
        workers: 2,
        wallMs: 640,
        busyMs: 640,
        objectsRead: 20,
        bytesRead: 2_480_112,
        rowsIn: 14_947,
        rowsOut: 13_870,
        shuffleBytes: 1_310_904,
      },
      facts: {
        invocations: 4,
        workers: 2,
        wallMs: 702,
        busyMs: 702,
        objectsRead: 16,
        bytesRead: 1_310_904,
        rowsIn: 6_891,
        rowsOut: 6_820,
        shuffleBytes: 0,
      },
      commit: { wallMs: 57 },
    },
  };
}

/** The inner HTML of the first element matching `open` … `close`, or fails. */
function section(html: string, pattern: RegExp): string {
  const m = pattern.exec(html);
  assert.ok(m?.[1] !== undefined, `no match for ${pattern}`);
  return m[1];
}

/** The text of a cell `data-field="…"` inside a row, tags removed. */
function cell(row: string, field: string): string {
  const inner = section(row, new RegExp(`data-field="${field}"[^>]*>(.*?)</td>`));
  return inner.replace(/<[^>]*>/g, '').trim();
}

describe('escapeHtml', () => {
  test('escapes the five characters that matter and nothing else', () => {
    assert.equal(escapeHtml('<script>alert(1)</script>'), '&lt;script&gt;alert(1)&lt;/script&gt;');
    assert.equal(escapeHtml('R&D'), 'R&amp;D');
    assert.equal(escapeHtml(`"double" 'single'`), '&quot;double&quot; &#39;single&#39;');
    assert.equal(escapeHtml('&amp;'), '&amp;amp;');
    assert.equal(escapeHtml('plain text, naïve café 123'), 'plain text, naïve café 123');
  });
});

describe('renderRunReport', () => {
  const report = sampleReport();
  const html = renderRunReport(report);

  test('is one HTML5 document with an inline stylesheet, no script and nothing fetched', () => {
    assert.ok(html.startsWith('<!DOCTYPE html>\n<html lang="en">'), 'starts with the HTML5 doctype');
    assert.ok(html.trimEnd().endsWith('</html>'), 'ends with </html>');
    assert.match(html, /<style>[^<]+<\/style>/);
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /https?:\/\//i);
    assert.doesNotMatch(html, /\s(src|href|srcset|xlink:href)=/i);
    assert.doesNotMatch(html, /url\(|@import|<link|<img|<iframe|<object|<embed/i);
    assert.doesNotMatch(html, /NaN|Infinity|undefined/);
    assert.equal(renderRunReport(sampleReport()), html, 'the same report renders to the same bytes');
  });

  test('the header has the run id, status, source → target, times and total time', () => {
    assert.match(html, /<title>Sparkify run 20261123T021121Z-5ad4ad<\/title>/);
    assert.match(html, /<h1>Sparkify run <code data-field="run-id">20261123T021121Z-5ad4ad<\/code><\/h1>/);
    assert.match(html, /data-field="status">succeeded</);
    assert.doesNotMatch(html, /class="error"/);
    assert.match(
      html,
      /<code data-field="source">\.\/data\/R&amp;D &lt;raw&gt;<\/code> → <code data-field="target">s3:\/\/my-lake\/star</,
    );
    assert.match(html, /data-field="started">2026-11-23 02:11:21 UTC</);
    assert.match(html, /data-field="finished">2026-11-23 02:11:25 UTC</);
    assert.match(html, /data-field="total-ms" data-ms="3620">3\.62 s</);
  });

  test('the header comes first, then sources, tables, rejects, stages and the three charts', () => {
    const order = [
      '<h1>',
      'data-section="sources"',
      'data-section="tables"',
      'data-section="rejects"',
      'data-section="stages"',
      'data-chart="plays-by-hour"',
      'data-chart="top-songs"',
      'data-chart="free-vs-paid"',
    ].map((s) => html.indexOf(s));
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > (order[k - 1] ?? -1))),
      `sections out of order: ${order}`,
    );
  });

  test('load: mode, new/changed/unchanged objects, whether it published, any recovery', () => {
    const dd = (text: string, field: string): string =>
      section(text, new RegExp(`data-field="${field}"[^>]*>(.*?)</dd>`));
    const load = section(html, /<dl class="meta" data-section="load">(.*?)<\/dl>/s);
    assert.equal(dd(load, 'mode'), 'incremental');
    assert.deepEqual(
      ['new', 'changed', 'unchanged'].map((f) => section(load, new RegExp(`data-field="${f}">([^<]*)<`))),
      ['101', '0', '0'],
    );
    assert.equal(dd(load, 'published'), 'a new version');
    assert.doesNotMatch(load, /data-field="recovery"/);
    const recovered = renderRunReport({
      ...sampleReport(),
      published: false,
      inputs: { ...sampleReport().inputs, keysGiven: 2, new: 0, unchanged: 1, missing: ['log_data/<gone>.json'] },
      recovery: { action: 'rolled-back', runId: 'r<1>' },
    });
    const again = section(recovered, /<dl class="meta" data-section="load">(.*?)<\/dl>/s);
    assert.equal(dd(again, 'mode'), 'incremental (2 keys given, 1 not found)');
    assert.equal(dd(again, 'published'), 'nothing (nothing new or changed)');
    assert.match(again, /rolled-back the interrupted publish of run <code>r&lt;1&gt;<\/code>/);
  });

  test('storage and cost: requests with retries, and the estimate by service', () => {
    assert.doesNotMatch(html, /data-section="cost"/, 'no estimate, no section');
    const page = renderRunReport({
      ...sampleReport(),
      storage: { ...sampleReport().storage, total: { get: 1_234, put: 56, list: 7, delete: 1, retries: 3 } },
      cost: {
        region: 'us-east-1',
        lambdaGbSeconds: 12.34,
        lambdaRequests: 14,
        stateTransitions: 20,
        s3PutOrList: 63,
        s3Get: 1_234,
        usd: { lambda: 0.000167, stepFunctions: 0.0005, s3: 0.0008, total: 0.001467 },
      },
    });
    const section_ = section(page, /<dl class="meta" data-section="cost">(.*?)<\/dl>/s);
    assert.match(section_, /1,234 GET, 56 PUT, 7 LIST, 1 DELETE; 3 retried/);
    assert.match(
      section_,
      /about <strong>\$0\.0015<\/strong>: Lambda \$0\.0002 \(12\.3 GB-s, 14 requests\), Step Functions \$0\.0005 \(20 transitions\), S3 \$0\.0008/,
    );
  });

  test('quality checks: failed ones first, with their detail, escaped', () => {
    const page = renderRunReport({
      ...sampleReport(),
      status: 'failed',
      checks: [
        { name: 'users: unique non-null keys', passed: true, detail: '97 rows, 0 null keys, 0 duplicate keys' },
        { name: 'songplays.user_id in users', passed: false, detail: '6820 non-null references, 1 missing <x>' },
      ],
    });
    const rows = [...page.matchAll(/<tr data-check="([^"]*)">(.*?)<\/tr>/g)].map((m) => [
      m[1],
      cell(m[2] ?? '', 'passed'),
    ]);
    assert.deepEqual(rows, [
      ['songplays.user_id in users', 'failed'],
      ['users: unique non-null keys', 'passed'],
    ]);
    assert.match(page, /1 missing &lt;x&gt;/);
    assert.doesNotMatch(html, /data-section="checks"/, 'no checks, no section');
  });

  test('sources: objects, bytes, read, loaded, rejected and reject rate, with thousands separators', () => {
    const log = section(html, /<tr data-source="log_data">(.*?)<\/tr>/);
    assert.equal(cell(log, 'objects'), '30');
    assert.equal(cell(log, 'bytes'), '3,755,598 3.6 MiB');
    assert.equal(cell(log, 'read'), '8,057');
    assert.equal(cell(log, 'loaded'), '8,056');
    assert.equal(cell(log, 'rejected'), '1');
    assert.equal(cell(log, 'reject-rate'), '0.01%');
    const song = section(html, /<tr data-source="song_data">(.*?)<\/tr>/);
    assert.equal(cell(song, 'read'), '73');
    assert.equal(cell(song, 'reject-rate'), '2.74%');
    assert.match(html, /Reject limit per source: 5\.00%/);
  });

  test('tables: rows, files, bytes and partitions for all five tables', () => {
    const expected = {
      songplays: ['6,820', '4', '335,220 327.4 KiB', '1 by year, month'],
      users: ['97', '1', '3,652 3.6 KiB', '— unpartitioned'],
      songs: ['71', '21', '35,781 34.9 KiB', '3 by year'],
      artists: ['69', '1', '5,192 5.1 KiB', '— unpartitioned'],
      time: ['6,813', '4', '61,410 60.0 KiB', '1 by year, month'],
    };
    for (const [table, want] of Object.entries(expected)) {
      const row = section(html, new RegExp(`<tr data-table="${table}">(.*?)</tr>`));
      assert.deepEqual(
        ['rows', 'files', 'bytes', 'partitions'].map((f) => cell(row, f)),
        want,
        table,
      );
    }
  });

  test('rejects: counts by reason and their examples, every string escaped', () => {
    assert.match(html, /data-field="rejects-total">3 in all</);
    assert.equal(cell(section(html, /<tr data-reason="invalid JSON">(.*?)<\/tr>/), 'count'), '2');
    assert.equal(cell(section(html, /<tr data-reason="ts &lt; 0">(.*?)<\/tr>/), 'count'), '1');
    assert.ok(html.includes('<h3>ts &lt; 0 '), 'the reason heading is escaped');
    const examples = section(html, /<table class="data examples" data-examples="invalid JSON">(.*?)<\/table>/s);
    const rows = [...examples.matchAll(/<tr class="example">(.*?)<\/tr>/g)].map((m) => m[1] ?? '');
    assert.equal(rows.length, 2);
    assert.ok(
      rows[0]?.includes('<code>song_data/<wbr>A/<wbr>B/<wbr>C/<wbr>TRABCEI128F424C983.json</code>'),
      `the first example's key: ${rows[0]}`,
    );
    assert.ok(rows[0]?.includes('<td class="num">1</td>'), `the first example's line: ${rows[0]}`);
    assert.ok(
      rows[0]?.includes('<pre>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;</pre>'),
      `the first example's raw text, escaped: ${rows[0]}`,
    );
    assert.ok(!html.includes(NASTY), 'the raw text never appears unescaped');
    assert.ok(html.includes('<pre>{&quot;ts&quot;:-1,&quot;page&quot;:&quot;NextSong&quot;}</pre>'), 'ts example');
    assert.match(html, /<td class="num">12<\/td>/);
  });

  test('stages: every stage, with only the fields it has', () => {
    const map = section(html, /<tr data-stage="map">(.*?)<\/tr>/);
    assert.deepEqual(
      ['invocations', 'workers', 'wallMs', 'objectsRead', 'bytesRead', 'rowsIn', 'rowsOut', 'shuffleBytes'].map((f) =>
        cell(map, f),
      ),
      ['2', '2', '1,210', '101', '3,774,819 3.6 MiB', '8,130', '8,127', '2,480,112 2.4 MiB'],
    );
    assert.equal(cell(section(html, /<tr data-stage="facts">(.*?)<\/tr>/), 'rowsOut'), '6,820');
    const plan = section(html, /<tr data-stage="plan">(.*?)<\/tr>/);
    assert.match(plan, /plan <span class="unit">2 shards<\/span>/);
    assert.equal(cell(plan, 'wallMs'), '38');
    assert.doesNotMatch(plan, /data-field="(invocations|rowsIn|shuffleBytes)"/);
    const commit = section(html, /<tr data-stage="commit">(.*?)<\/tr>/);
    assert.equal(cell(commit, 'wallMs'), '57');
    assert.equal([...commit.matchAll(/class="num blank">—</g)].length, 7);
  });

  test('plays by hour: 24 bars, one per hour, with their counts', () => {
    const chart = section(html, /(<svg data-chart="plays-by-hour".*?<\/svg>)/s);
    const bars = [...chart.matchAll(/<rect data-hour="(\d+)" data-plays="(\d+)"[^>]*><title>([^<]*)<\/title>/g)];
    assert.deepEqual(
      bars.map((m) => Number(m[1])),
      Array.from({ length: 24 }, (_, h) => h),
    );
    assert.deepEqual(
      bars.map((m) => Number(m[2])),
      PLAYS_BY_HOUR,
    );
    assert.equal(bars[16]?.[3], '16:00–16:59 UTC: 542 plays');
    assert.match(chart, /data-total="6820"/);
    // The tallest bar is the busiest hour, and labels show every count.
    const heights = [...chart.matchAll(/data-hour="\d+"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.equal(heights.indexOf(Math.max(...heights)), 16);
    const labels = [...chart.matchAll(/<text class="value"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    assert.deepEqual(
      labels,
      PLAYS_BY_HOUR.map((n) => n.toLocaleString('en-US')),
    );
    assert.match(html, /<figcaption>6,820 plays; hour of day in UTC\.<\/figcaption>/);
  });

  test('top songs: in order, with title, artist and plays, escaped', () => {
    const chart = section(html, /(<svg data-chart="top-songs".*?<\/svg>)/s);
    const rows = [...chart.matchAll(/data-song-id="([^"]+)" data-plays="(\d+)"/g)].map((m) => [m[1], Number(m[2])]);
    assert.deepEqual(rows, [
      ['SOBONKR12A58A7A7E0', 37],
      ['SOHTKMO12AB01843B0', 9],
      ['SOUNZHU12A8AE47481', 9],
    ]);
    const titles = [...chart.matchAll(/class="song-title"[^>]*>([^<]*)</g)].map((m) => m[1]);
    assert.deepEqual(titles, ['You&#39;re The One', 'Catch You Baby &lt;Remix&gt;', 'I CAN&#39;T GET STARTED']);
    const artists = [...chart.matchAll(/class="song-artist"[^>]*>([^<]*)</g)].map((m) => m[1]);
    assert.deepEqual(artists, ['Dwight Yoakam', 'Lonnie Gordon &amp; Co', 'Ron Carter']);
    assert.match(chart, /<title>You&#39;re The One — Dwight Yoakam: 37 plays<\/title>/);
    assert.match(html, /333 of 6,820 plays matched a song/);
  });

  test('free vs paid: plays and users by level, free first, with numbers and shares', () => {
    const chart = section(html, /(<svg data-chart="free-vs-paid".*?<\/svg>)/s);
    const bars = [...chart.matchAll(/<rect data-level="(\w+)" data-metric="(\w+)" data-value="(\d+)"/g)].map((m) =>
      m.slice(1).join(' '),
    );
    assert.deepEqual(bars, ['free plays 1229', 'paid plays 5591', 'free users 75', 'paid users 22']);
    const labels = [...chart.matchAll(/<text class="value end" data-level="\w+" data-metric="\w+"[^>]*>([^<]*)</g)].map(
      (m) => m[1],
    );
    assert.deepEqual(labels, ['1,229 (18.0%)', '5,591 (82.0%)', '75 (77.3%)', '22 (22.7%)']);
    assert.match(chart, />Plays <tspan class="muted">6,820<\/tspan>/);
    assert.match(chart, />Users <tspan class="muted">97<\/tspan>/);
  });

  test('a failed run shows its status and its error, escaped', () => {
    const failed = renderRunReport({
      ...sampleReport(),
      status: 'failed',
      error: 'reject limit 5.00% exceeded: song_data rejected 2 of 3 records (66.67%); see <_rejects/>',
    });
    assert.match(failed, /class="status bad" data-field="status">failed</);
    assert.match(
      failed,
      /<p class="error" data-field="error">reject limit 5\.00% exceeded: song_data rejected 2 of 3 records \(66\.67%\); see &lt;_rejects\/&gt;<\/p>/,
    );
  });
});

describe('renderRunReport with no plays', () => {
  const zero = { objects: 0, bytes: 0, read: 0, loaded: 0, rejected: 0, rejectRate: 0 };
  const none = { rows: 0, files: 0, bytes: 0, partitions: [], published: [], added: 0, updated: 0, removed: 0 };
  const stage = emptyStage();
  const html = renderRunReport({
    ...sampleReport(),
    sources: { song_data: zero, log_data: zero },
    rejects: { total: 0, byReason: {}, examples: {} },
    insights: emptyInsights(),
    tables: { songplays: none, users: none, songs: none, artists: none, time: none },
    stages: { plan: { shards: 0, wallMs: 3 }, map: stage, dimensions: stage, facts: stage, commit: { wallMs: 1 } },
  });

  test('draws 24 flat bars and says there were no plays, without dividing by zero', () => {
    assert.doesNotMatch(html, /NaN|Infinity|undefined/);
    const bars = [...html.matchAll(/<rect data-hour="(\d+)" data-plays="(\d+)"[^>]*height="([\d.]+)"/g)];
    assert.equal(bars.length, 24);
    assert.ok(
      bars.every((m) => m[2] === '0' && m[3] === '0'),
      'every bar is zero plays and zero height',
    );
    assert.match(html, /No plays in this run\./);
    assert.match(html, /data-chart-empty="top-songs">No play matched a song\./);
    assert.doesNotMatch(html, /0 of 0 plays matched/);
    assert.match(html, /data-chart-empty="free-vs-paid">No plays or users in this run\./);
    assert.match(html, /No records were rejected\./);
    assert.equal(cell(section(html, /<tr data-source="log_data">(.*?)<\/tr>/), 'reject-rate'), '0.00%');
    assert.doesNotMatch(html, /<script|https?:\/\//i);
  });

  test('a report without insights (written before they existed) renders the same way', () => {
    const old = { ...sampleReport() } as Partial<RunReport>;
    delete old.insights;
    const page = renderRunReport(old as RunReport);
    assert.equal([...page.matchAll(/<rect data-hour="\d+" data-plays="0"/g)].length, 24);
    assert.doesNotMatch(page, /NaN|Infinity|undefined/);
  });
});
