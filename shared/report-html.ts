/**
 * A run report as one self-contained HTML page. It must open from disk years later, offline, on any machine:
 * so no script, no external CSS, fonts or images, and charts are inline SVG drawn here. Every string that comes
 * from the report (keys, raw rejected text, error messages) is HTML-escaped. The output is a pure function of the
 * report (no clock, no locale), so the same report always renders to the same bytes.
 */
import type { RunReport, StageReport } from './commit.ts';
import { TABLES } from './config.ts';
import { emptyInsights, type Insights } from './insights.ts';
import { SOURCES } from './keys.ts';
import type { InputSummary } from './plan.ts';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Renders a run report as a self-contained HTML5 document. */
export function renderRunReport(report: RunReport): string {
  // Reports written before insights existed have none; they render as an empty run.
  const insights = report.insights ?? emptyInsights();
  const title = `Sparkify run ${report.runId}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${header(report)}
${loadSection(report)}
${sourcesSection(report)}
${tablesSection(report)}
${checksSection(report)}
${rejectsSection(report)}
${stagesSection(report)}
${costSection(report)}
<h2>Plays by hour (UTC)</h2>
${playsByHourChart(insights)}
<h2>Top songs</h2>
${topSongsChart(insights)}
<h2>Free vs paid</h2>
${levelsChart(insights)}
</main>
</body>
</html>
`;
}

// ---- formatting: fixed en-US and UTC so the page never depends on where it was rendered

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

const num = (n: number): string => (Number.isFinite(n) ? integer.format(n) : '—');
const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '—');

/** Bytes in a readable unit, shown next to the exact count. */
function size(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return '';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const bytesCell = (field: string, bytes: number): string => {
  const unit = size(bytes);
  return `<td class="num" data-field="${field}">${num(bytes)}${unit ? ` <span class="unit">${unit}</span>` : ''}</td>`;
};

/** `2026-11-23T02:11:21.757Z` → `2026-11-23 02:11:21 UTC`; anything else is shown as it is. */
function when(iso: string): string {
  const t = Date.parse(iso);
  if (!iso || Number.isNaN(t)) return iso ? escapeHtml(iso) : '—';
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${num(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

// ---- sections

function header(r: RunReport): string {
  const ms = Date.parse(r.finishedAt) - Date.parse(r.startedAt);
  const error =
    r.status === 'failed' && r.error ? `<p class="error" data-field="error">${escapeHtml(r.error)}</p>\n` : '';
  return `<header>
<h1>Sparkify run <code data-field="run-id">${escapeHtml(r.runId)}</code></h1>
<p><span class="status ${r.status === 'succeeded' ? 'ok' : 'bad'}" data-field="status">${escapeHtml(r.status)}</span></p>
${error}<dl class="meta">
<dt>Source → target</dt><dd><code data-field="source">${escapeHtml(r.source)}</code> → <code data-field="target">${escapeHtml(r.target)}</code></dd>
<dt>Started</dt><dd data-field="started">${when(r.startedAt)}</dd>
<dt>Finished</dt><dd data-field="finished">${when(r.finishedAt)}</dd>
<dt>Total time</dt><dd data-field="total-ms" data-ms="${Number.isFinite(ms) ? ms : ''}">${duration(ms)}</dd>
</dl>
</header>`;
}

/** Why an incremental run became a full one, in words (this report and the CLI's summary). */
export const rebucketedText = (r: NonNullable<InputSummary['rebucketed']>): string =>
  `the lake outgrew its state's ${r.from} buckets (${Math.round(r.loadedBytes / 2 ** 20)} MiB loaded): state rebuilt with ${r.to}`;

/** How the run chose its input, whether it published, and any recovery (reports before the ledger have none). */
function loadSection(r: RunReport): string {
  const i = r.inputs;
  if (!i) return '';
  const given =
    i.keysGiven === null
      ? ''
      : ` (${num(i.keysGiven)} keys given${i.missing.length > 0 ? `, ${num(i.missing.length)} not found` : ''})`;
  const published = r.published
    ? 'a new version'
    : r.status === 'succeeded'
      ? 'nothing (nothing new or changed)'
      : 'nothing';
  const recovery =
    r.recovery && r.recovery.action !== 'none'
      ? `<dt>Recovery</dt><dd data-field="recovery">${escapeHtml(r.recovery.action)} the interrupted publish of run <code>${escapeHtml(r.recovery.runId)}</code></dd>\n`
      : '';
  return `<h2>Load</h2>
<dl class="meta" data-section="load">
<dt>Mode</dt><dd data-field="mode">${escapeHtml(i.mode)}${given}${i.rebucketed ? `: ${escapeHtml(rebucketedText(i.rebucketed))}` : ''}</dd>
<dt>Objects</dt><dd data-field="objects-seen"><span data-field="new">${num(i.new)}</span> new, <span data-field="changed">${num(i.changed)}</span> changed, <span data-field="unchanged">${num(i.unchanged)}</span> unchanged (listed in <code>${escapeHtml(i.inputsFile)}</code>)</dd>
<dt>Published</dt><dd data-field="published">${published}</dd>
${recovery}</dl>`;
}

/** The quality gate's checks, failed ones first. */
function checksSection(r: RunReport): string {
  const checks = [...(r.checks ?? [])].sort((a, b) => Number(a.passed) - Number(b.passed));
  if (checks.length === 0) return '';
  const rows = checks
    .map(
      (c) =>
        `<tr data-check="${escapeHtml(c.name)}"><th scope="row">${escapeHtml(c.name)}</th><td class="${c.passed ? 'ok' : 'over'}" data-field="passed">${c.passed ? 'passed' : 'failed'}</td><td>${escapeHtml(c.detail)}</td></tr>`,
    )
    .join('\n');
  return `<h2>Quality checks</h2>
<table class="data" data-section="checks">
<thead><tr><th>check</th><th>result</th><th>detail</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

function sourcesSection(r: RunReport): string {
  const limit = r.settings?.rejectLimit;
  const rows = SOURCES.map((name) => {
    const s = r.sources[name];
    // A source over the limit is what failed the run: make it stand out.
    const over = limit !== undefined && s.rejectRate > limit;
    return `<tr data-source="${name}"><th scope="row">${name}</th><td class="num" data-field="objects">${num(s.objects)}</td>${bytesCell('bytes', s.bytes)}<td class="num" data-field="read">${num(s.read)}</td><td class="num" data-field="loaded">${num(s.loaded)}</td><td class="num" data-field="rejected">${num(s.rejected)}</td><td class="num${over ? ' over' : ''}" data-field="reject-rate">${pct(s.rejectRate)}</td></tr>`;
  }).join('\n');
  const note = limit === undefined ? '' : `<p class="note">Reject limit per source: ${pct(limit)}.</p>\n`;
  return `<h2>Sources</h2>
<table class="data" data-section="sources">
<thead><tr><th>source</th><th class="num">objects</th><th class="num">bytes</th><th class="num">records read</th><th class="num">loaded</th><th class="num">rejected</th><th class="num">reject rate</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${note}`;
}

function tablesSection(r: RunReport): string {
  const rows = TABLES.map((name) => {
    const t = r.tables[name];
    const columns = r.settings?.partitions?.[name] ?? [];
    // An unpartitioned table reports one partition named "" (its root): that is not a partition to count.
    const partitioned = t.partitions.some((p) => p !== '');
    const parts = partitioned
      ? `${num(t.partitions.length)}${columns.length > 0 ? ` <span class="unit">by ${escapeHtml(columns.join(', '))}</span>` : ''}`
      : '— <span class="unit">unpartitioned</span>';
    return `<tr data-table="${name}"><th scope="row">${name}</th><td class="num" data-field="rows">${num(t.rows)}</td><td class="num" data-field="files">${num(t.files)}</td>${bytesCell('bytes', t.bytes)}<td class="num" data-field="partitions" data-count="${partitioned ? t.partitions.length : 0}">${parts}</td><td class="num" data-field="added">${num(t.added ?? 0)}</td><td class="num" data-field="updated">${num(t.updated ?? 0)}</td><td class="num" data-field="removed">${num(t.removed ?? 0)}</td></tr>`;
  }).join('\n');
  return `<h2>Tables</h2>
<table class="data" data-section="tables">
<thead><tr><th>table</th><th class="num">rows</th><th class="num">files</th><th class="num">bytes</th><th class="num">partitions</th><th class="num">added</th><th class="num">updated</th><th class="num">removed</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

function rejectsSection(r: RunReport): string {
  const reasons = Object.entries(r.rejects.byReason).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (reasons.length === 0 && r.rejects.total === 0)
    return `<h2>Rejects</h2>\n<p class="note" data-section="rejects">No records were rejected.</p>`;
  const summary = reasons
    .map(
      ([reason, n]) =>
        `<tr data-reason="${escapeHtml(reason)}"><th scope="row">${escapeHtml(reason)}</th><td class="num" data-field="count">${num(n)}</td></tr>`,
    )
    .join('\n');
  const details = reasons
    .map(([reason]) => {
      const list = r.rejects.examples[reason] ?? [];
      if (list.length === 0) return '';
      const rows = list
        .map(
          (e) =>
            `<tr class="example"><td><code>${breakable(e.key)}</code></td><td class="num">${num(e.line)}</td><td><pre>${escapeHtml(e.raw)}</pre></td></tr>`,
        )
        .join('\n');
      return `<h3>${escapeHtml(reason)} <span class="unit">first ${num(list.length)} of ${num(r.rejects.byReason[reason] ?? list.length)}</span></h3>
<table class="data examples" data-examples="${escapeHtml(reason)}">
<colgroup><col class="key"><col class="line"><col></colgroup>
<thead><tr><th>key</th><th class="num">line</th><th>raw text</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
    })
    .join('\n');
  return `<h2>Rejects <span class="unit" data-field="rejects-total">${num(r.rejects.total)} in all</span></h2>
<table class="data narrow" data-section="rejects">
<thead><tr><th>reason</th><th class="num">records</th></tr></thead>
<tbody>
${summary}
</tbody>
</table>
${details}`;
}

const STAGES = ['plan', 'map', 'dimensions', 'facts', 'commit'] as const;
const STAGE_FIELDS: [keyof StageReport, string, boolean][] = [
  ['invocations', 'invocations', false],
  ['workers', 'workers', false],
  ['wallMs', 'wall ms', false],
  ['objectsRead', 'objects read', false],
  ['bytesRead', 'bytes read', true],
  ['rowsIn', 'rows in', false],
  ['rowsOut', 'rows out', false],
  ['shuffleBytes', 'shuffle bytes', true],
];

function stagesSection(r: RunReport): string {
  const rows = STAGES.map((name) => {
    // Plan and commit carry only some of the fields; the rest stay blank rather than a made-up zero.
    const s = r.stages[name] as Partial<StageReport> & { shards?: number };
    const label = s.shards === undefined ? name : `${name} <span class="unit">${num(s.shards)} shards</span>`;
    const cells = STAGE_FIELDS.map(([field, , isBytes]) => {
      const v = s[field];
      if (typeof v !== 'number') return `<td class="num blank">—</td>`;
      return isBytes ? bytesCell(field, v) : `<td class="num" data-field="${field}">${num(v)}</td>`;
    }).join('');
    return `<tr data-stage="${name}"><th scope="row">${label}</th>${cells}</tr>`;
  }).join('\n');
  return `<h2>Stages</h2>
<table class="data" data-section="stages">
<thead><tr><th>stage</th>${STAGE_FIELDS.map(([, head]) => `<th class="num">${head}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

/** Storage requests and the AWS cost estimate (reports before they existed have neither). */
function costSection(r: RunReport): string {
  const u = r.storage?.total;
  const c = r.cost;
  if (!u || !c) return '';
  const usd = (x: number): string => `$${x.toFixed(4)}`;
  return `<h2>Storage and cost</h2>
<dl class="meta" data-section="cost">
<dt>Storage requests</dt><dd data-field="requests">${num(u.get)} GET, ${num(u.put)} PUT, ${num(u.list)} LIST, ${num(u.delete)} DELETE; ${num(u.retries)} retried</dd>
<dt>On AWS (${escapeHtml(c.region)})</dt><dd data-field="cost">about <strong>${usd(c.usd.total)}</strong>: Lambda ${usd(c.usd.lambda)} (${c.lambdaGbSeconds.toFixed(1)} GB-s, ${num(c.lambdaRequests)} requests), Step Functions ${usd(c.usd.stepFunctions)} (${num(c.stateTransitions)} transitions), S3 ${usd(c.usd.s3)} (${num(c.s3Get)} GET, ${num(c.s3PutOrList)} PUT or LIST)</dd>
</dl>`;
}

// ---- charts: inline SVG sized by viewBox, so they scale with the page and need nothing else

const CHART_W = 760;

function playsByHourChart(ins: Insights): string {
  const plays = Array.from({ length: 24 }, (_, h) => ins.playsByHour[h] ?? 0);
  const total = plays.reduce((a, b) => a + b, 0);
  const max = Math.max(1, ...plays); // 1, so an empty run draws flat bars instead of dividing by zero
  const top = 22;
  const plotH = 180;
  const left = 8;
  const step = (CHART_W - 2 * left) / 24;
  const barW = step * 0.74;
  const base = top + plotH;
  // Exact counts do not fit above thin bars once they reach five digits; the exact figure stays in <title>.
  const label = (n: number): string => (max >= 10_000 ? compact.format(n) : num(n));
  const bars = plays
    .map((n, h) => {
      const height = (n / max) * plotH;
      const x = left + h * step + (step - barW) / 2;
      const cx = x + barW / 2;
      const hh = String(h).padStart(2, '0');
      return `<g class="bar"><rect data-hour="${h}" data-plays="${n}" x="${f(x)}" y="${f(base - height)}" width="${f(barW)}" height="${f(height)}"><title>${hh}:00–${hh}:59 UTC: ${num(n)} plays</title></rect><text class="${max >= 10_000 ? 'value small' : 'value'}" x="${f(cx)}" y="${f(base - height - 5)}">${label(n)}</text><text class="axis" x="${f(cx)}" y="${base + 16}">${h}</text></g>`;
    })
    .join('\n');
  const empty = total === 0 ? `<p class="note">No plays in this run.</p>\n` : '';
  return `${empty}<figure>
<svg data-chart="plays-by-hour" data-total="${total}" viewBox="0 0 ${CHART_W} ${base + 26}" width="${CHART_W}" height="${base + 26}" role="img" aria-label="Plays by hour of day, UTC">
<line class="baseline" x1="${left}" x2="${CHART_W - left}" y1="${base}" y2="${base}"/>
${bars}
</svg>
<figcaption>${num(total)} plays; hour of day in UTC.</figcaption>
</figure>`;
}

function topSongsChart(ins: Insights): string {
  const songs = ins.topSongs;
  const matched = `<figcaption>${num(ins.matchedPlays)} of ${num(sum(ins.playsByLevel))} plays matched a song in song_data; only those count here.</figcaption>`;
  if (songs.length === 0) {
    // With no plays at all, "0 of 0 matched" says nothing the empty note does not.
    const caption = sum(ins.playsByLevel) > 0 ? `\n${matched}` : '';
    return `<figure>\n<p class="note" data-chart-empty="top-songs">No play matched a song.</p>${caption}\n</figure>`;
  }
  const rowH = 40;
  const labelW = 350;
  const barMax = CHART_W - labelW - 80;
  const max = Math.max(1, ...songs.map((s) => s.plays));
  const rows = songs
    .map((s, i) => {
      const y = i * rowH;
      const w = Math.max(s.plays > 0 ? 2 : 0, (s.plays / max) * barMax);
      return `<g class="song" data-rank="${i + 1}" data-song-id="${escapeHtml(s.song_id)}" data-plays="${s.plays}"><title>${escapeHtml(s.title)} — ${escapeHtml(s.artist)}: ${num(s.plays)} plays</title><text class="rank" x="0" y="${y + 17}">${i + 1}.</text><text class="song-title" x="24" y="${y + 17}">${escapeHtml(clip(s.title || '(untitled)', 36))}</text><text class="song-artist" x="24" y="${y + 33}">${escapeHtml(clip(s.artist || '(unknown artist)', 44))}</text><rect x="${labelW}" y="${y + 9}" width="${f(w)}" height="20"/><text class="value end" x="${f(labelW + w + 6)}" y="${y + 24}">${num(s.plays)}</text></g>`;
    })
    .join('\n');
  const h = songs.length * rowH;
  return `<figure>
<svg data-chart="top-songs" viewBox="0 0 ${CHART_W} ${h}" width="${CHART_W}" height="${h}" role="img" aria-label="Top songs by plays">
${rows}
</svg>
${matched}
</figure>`;
}

function levelsChart(ins: Insights): string {
  // free and paid first, in that order; any other level the data holds after them.
  const known = ['free', 'paid'];
  const levels = [...new Set([...Object.keys(ins.playsByLevel), ...Object.keys(ins.usersByLevel)])].sort(
    (a, b) => rank(known, a) - rank(known, b) || (a < b ? -1 : 1),
  );
  if (levels.length === 0) return `<p class="note" data-chart-empty="free-vs-paid">No plays or users in this run.</p>`;
  const rowH = 34;
  const panelW = (CHART_W - 40) / 2;
  const labelW = 60;
  const barMax = panelW - labelW - 110;
  const panel = (metric: 'plays' | 'users', counts: Record<string, number>, x0: number): string => {
    const total = sum(counts);
    const max = Math.max(1, ...levels.map((l) => counts[l] ?? 0));
    const bars = levels
      .map((level, i) => {
        const n = counts[level] ?? 0;
        const y = 30 + i * rowH;
        const w = (n / max) * barMax;
        const share = total > 0 ? ` (${((n / total) * 100).toFixed(1)}%)` : '';
        return `<g class="level level-${known.includes(level) ? level : 'other'}"><text class="axis start" x="${x0}" y="${y + 19}">${escapeHtml(level)}</text><rect data-level="${escapeHtml(level)}" data-metric="${metric}" data-value="${n}" x="${f(x0 + labelW)}" y="${y + 4}" width="${f(w)}" height="20"><title>${escapeHtml(level)}: ${num(n)} ${metric}${share}</title></rect><text class="value end" data-level="${escapeHtml(level)}" data-metric="${metric}" x="${f(x0 + labelW + w + 6)}" y="${y + 19}">${num(n)}${share}</text></g>`;
      })
      .join('\n');
    return `<text class="panel-title" x="${x0}" y="16">${metric === 'plays' ? 'Plays' : 'Users'} <tspan class="muted">${num(total)}</tspan></text>\n${bars}`;
  };
  const h = 30 + levels.length * rowH + 6;
  return `<figure>
<svg data-chart="free-vs-paid" viewBox="0 0 ${CHART_W} ${h}" width="${CHART_W}" height="${h}" role="img" aria-label="Plays and users by level">
${panel('plays', ins.playsByLevel, 0)}
${panel('users', ins.usersByLevel, panelW + 40)}
</svg>
<figcaption>Plays by the level of the user at the time of the play; users by their latest level.</figcaption>
</figure>`;
}

/** Long keys wrap at their slashes rather than mid-name. */
const breakable = (key: string): string => escapeHtml(key).replaceAll('/', '/<wbr>');
const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
const rank = (order: readonly string[], x: string): number => (order.includes(x) ? order.indexOf(x) : order.length);
/** Two decimals are plenty for a pixel, and keep the markup short. */
const f = (x: number): string => String(Math.round(x * 100) / 100);
/** SVG text does not wrap: long names are cut, and the full one is in the row's <title>. */
const clip = (s: string, n: number): string => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

const STYLE = `
:root { --fg: #1f2933; --muted: #66788a; --line: #e4e9ee; --accent: #3b6ea5; --paid: #2c5282; --free: #90b4dc; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f5f8; color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 28px 36px 48px; background: #fff; min-height: 100vh; }
h1 { font-size: 22px; margin: 0 0 6px; }
h1 code { font-size: 20px; }
h2 { font-size: 17px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 18px 0 6px; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.status { display: inline-block; padding: 2px 10px; border-radius: 10px; font-weight: 600; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
.status.ok { background: #e3f4e8; color: #1e6b34; }
.status.bad { background: #fde7e7; color: #9b1c1c; }
.error { background: #fff5f5; border-left: 4px solid #c53030; padding: 8px 12px; margin: 8px 0; color: #742a2a; white-space: pre-wrap; overflow-wrap: anywhere; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 12px 0 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table.data { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
table.narrow { width: auto; min-width: 320px; }
table.data th, table.data td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
table.data thead th { font-size: 12px; font-weight: 600; color: var(--muted); border-bottom: 2px solid var(--line); white-space: nowrap; }
table.data tbody th { font-weight: 600; white-space: nowrap; }
.num { text-align: right !important; white-space: nowrap; }
.unit, .note, figcaption { color: var(--muted); font-size: 12px; font-weight: normal; }
.blank { color: #b7c2cc; }
.over { color: #c53030; font-weight: 600; }
table.examples { table-layout: fixed; }
table.examples col.key { width: 240px; }
table.examples col.line { width: 64px; }
table.examples td:first-child { overflow-wrap: anywhere; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 9em; overflow: auto; background: #f7f8fa; padding: 4px 6px; border-radius: 3px; }
figure { margin: 8px 0 0; }
figure svg { display: block; width: 100%; height: auto; max-width: ${CHART_W}px; }
figcaption { margin-top: 6px; }
svg text { font-family: inherit; fill: var(--fg); }
svg .bar rect, svg .song rect { fill: var(--accent); }
svg .bar rect:hover, svg .song:hover rect { fill: #244f7d; }
svg .value { font-size: 10.5px; text-anchor: middle; fill: #3c4b5a; font-variant-numeric: tabular-nums; }
svg .value.small { font-size: 9px; }
svg .song .value, svg .level .value { font-size: 12.5px; }
svg .axis { font-size: 11px; text-anchor: middle; fill: var(--muted); }
svg .start { text-anchor: start; fill: var(--fg); font-size: 13px; }
svg .end { text-anchor: start; }
svg .baseline { stroke: #aab6c2; stroke-width: 1; }
svg .rank { font-size: 12px; fill: var(--muted); }
svg .song-title { font-size: 13px; font-weight: 600; }
svg .song-artist { font-size: 12px; fill: var(--muted); }
svg .panel-title { font-size: 13px; font-weight: 600; }
svg .muted { fill: var(--muted); font-weight: normal; }
svg .level-free rect { fill: var(--free); }
svg .level-paid rect { fill: var(--paid); }
svg .level-other rect { fill: #a0aec0; }
@media print { body { background: #fff; } main { padding: 0; } }
`;
