/**
 * Commit: gather the workers' statistics, check the run, publish the tables (each table's manifest is its
 * current pointer), remove files no manifest names, write the run report, and remove the run's scratch.
 */
import { TABLES, type TableName } from './config.ts';
import { DataQualityError } from './errors.ts';
import { type Insights, mergeInsights } from './insights.ts';
import {
  planStatsKey,
  runPageKey,
  runReportKey,
  SOURCES,
  type SourceName,
  scratchPrefix,
  statsPrefix,
  tableManifestKey,
  tablePrefix,
} from './keys.ts';
import { EXAMPLES_PER_REASON, type MapStats, type RejectExample, type SourceCounts } from './map.ts';
import type { PlanStats, RunContext } from './plan.ts';
import type { ReducePhase, ReduceStats, TableFile } from './reduce.ts';
import { renderRunReport } from './report-html.ts';
import { type ObjectStore, openStore } from './store.ts';

/** Per-stage figures of the run report. */
export interface StageReport {
  invocations: number;
  /** Distinct workers (process/thread, or Lambda sandbox) that ran the stage's invocations. */
  workers: number;
  wallMs: number;
  objectsRead: number;
  bytesRead: number;
  rowsIn: number;
  rowsOut: number;
  shuffleBytes: number;
}

/** The figures one invocation adds to its stage. */
type Figures = Omit<StageReport, 'invocations' | 'workers' | 'wallMs'>;

/** The run report written to `_runs/<runId>.json`. */
export interface RunReport {
  runId: string;
  status: 'succeeded' | 'failed';
  error?: string;
  source: string;
  target: string;
  startedAt: string;
  finishedAt: string;
  settings: RunContext['settings'];
  sources: Record<SourceName, SourceCounts & { rejectRate: number }>;
  rejects: { total: number; byReason: Record<string, number>; examples: Record<string, RejectExample[]> };
  /** Aggregates for the reports: plays by hour and level, users by level, top songs. */
  insights: Insights;
  tables: Record<TableName, { rows: number; files: number; bytes: number; partitions: string[] }>;
  stages: { plan: { shards: number; wallMs: number } } & Record<'map' | ReducePhase, StageReport> & {
      commit: { wallMs: number };
    };
}

/** Commits a run; throws DataQualityError (after writing a failed report and removing its files) when a check fails. */
export async function commitRun(run: RunContext): Promise<RunReport> {
  const committing = Date.now();
  const store = openStore(run.target);
  const planned = JSON.parse(Buffer.from(await store.get(planStatsKey(run.runId))).toString('utf8')) as PlanStats;
  const maps = await readJsonObjects<MapStats>(store, statsPrefix(run.runId, 'map'));
  const reduces = await readJsonObjects<ReduceStats>(store, statsPrefix(run.runId, 'reduce'));

  const sources = {} as RunReport['sources'];
  const byReason: Record<string, number> = {};
  for (const name of SOURCES) {
    const c: SourceCounts = { objects: 0, bytes: 0, read: 0, loaded: 0, rejected: 0 };
    for (const m of maps.filter((s) => s.source === name)) {
      for (const k of Object.keys(c) as (keyof SourceCounts)[]) c[k] += m.counts[k];
    }
    sources[name] = { ...c, rejectRate: c.read === 0 ? 0 : c.rejected / c.read };
  }
  for (const m of maps) for (const [r, n] of Object.entries(m.rejectReasons)) byReason[r] = (byReason[r] ?? 0) + n;

  const files = Object.fromEntries(TABLES.map((t) => [t, [] as TableFile[]])) as Record<TableName, TableFile[]>;
  for (const r of reduces) {
    for (const [table, t] of Object.entries(r.tables) as [TableName, { files: TableFile[] }][])
      files[table].push(...t.files);
  }
  const tables = {} as RunReport['tables'];
  for (const t of TABLES) {
    const list = files[t].sort((a, b) => (a.key < b.key ? -1 : 1));
    tables[t] = {
      rows: list.reduce((n, f) => n + f.rows, 0),
      files: list.length,
      bytes: list.reduce((n, f) => n + f.bytes, 0),
      partitions: [...new Set(list.map((f) => f.key.slice(tablePrefix(t).length, f.key.lastIndexOf('/') + 1)))],
    };
  }

  const report: RunReport = {
    runId: run.runId,
    status: 'succeeded',
    source: run.source,
    target: run.target,
    startedAt: run.startedAt,
    finishedAt: '',
    settings: run.settings,
    sources,
    rejects: { total: sources.song_data.rejected + sources.log_data.rejected, byReason, examples: examples(maps) },
    insights: mergeInsights(reduces.flatMap((r) => (r.insights ? [r.insights] : []))),
    tables,
    stages: {
      plan: { shards: planned.shards, wallMs: Date.parse(planned.finishedAt) - Date.parse(planned.startedAt) },
      map: stage(maps, (m) => ({
        objectsRead: m.counts.objects,
        bytesRead: m.counts.bytes,
        rowsIn: m.counts.read,
        rowsOut: m.counts.loaded,
        shuffleBytes: m.shuffleBytes,
      })),
      dimensions: stage(
        reduces.filter((r) => r.phase === 'dimensions'),
        reduceFigures,
      ),
      facts: stage(
        reduces.filter((r) => r.phase === 'facts'),
        reduceFigures,
      ),
      commit: { wallMs: 0 },
    },
  };

  const over = SOURCES.filter((s) => sources[s].rejectRate > run.settings.rejectLimit);
  if (over.length > 0) {
    const detail = over
      .map((s) => `${s} rejected ${sources[s].rejected} of ${sources[s].read} records (${pct(sources[s].rejectRate)})`)
      .join('; ');
    const message = `reject limit ${pct(run.settings.rejectLimit)} exceeded: ${detail}; see _rejects/ under ${run.target}`;
    // Nothing is published: this run's files go, the tables' current files stay.
    await store.delete(Object.values(files).flatMap((list) => list.map((f) => f.key)));
    await finish(store, run, { ...report, status: 'failed', error: message }, committing);
    throw new DataQualityError(message);
  }

  for (const t of TABLES) {
    const keep = new Set(files[t].map((f) => f.key));
    await store.put(tableManifestKey(t), JSON.stringify({ table: t, runId: run.runId, files: files[t] }, null, 2));
    // The manifest flipped; now the glob over the table is made exact again.
    const stale: string[] = [];
    for await (const o of store.list(tablePrefix(t))) if (!keep.has(o.key)) stale.push(o.key);
    await store.delete(stale);
  }
  return finish(store, run, report, committing);
}

async function finish(store: ObjectStore, run: RunContext, report: RunReport, committing: number): Promise<RunReport> {
  const done = { ...report, finishedAt: new Date().toISOString() };
  done.stages.commit.wallMs = Date.now() - committing;
  await store.put(runReportKey(run.runId), `${JSON.stringify(done, null, 2)}\n`);
  await store.put(runPageKey(run.runId), renderRunReport(done));
  const scratch: string[] = [];
  for await (const o of store.list(scratchPrefix(run.runId))) scratch.push(o.key);
  await store.delete(scratch);
  return done;
}

function reduceFigures(r: ReduceStats): Figures {
  return {
    objectsRead: r.objectsRead,
    bytesRead: r.bytesRead,
    rowsIn: r.rowsIn,
    rowsOut: r.rowsOut,
    shuffleBytes: r.shuffleBytes,
  };
}

function stage<T extends { startedAt: string; finishedAt: string; worker: string }>(
  items: T[],
  figures: (item: T) => Figures,
): StageReport {
  const out: StageReport = {
    invocations: items.length,
    workers: new Set(items.map((i) => i.worker)).size,
    wallMs: 0,
    objectsRead: 0,
    bytesRead: 0,
    rowsIn: 0,
    rowsOut: 0,
    shuffleBytes: 0,
  };
  if (items.length === 0) return out;
  out.wallMs =
    Math.max(...items.map((i) => Date.parse(i.finishedAt))) - Math.min(...items.map((i) => Date.parse(i.startedAt)));
  for (const item of items) {
    const f = figures(item);
    for (const k of Object.keys(f) as (keyof Figures)[]) out[k] += f[k];
  }
  return out;
}

/** The first examples of each reject reason, in key and line order. */
function examples(maps: readonly MapStats[]): Record<string, RejectExample[]> {
  const out: Record<string, RejectExample[]> = {};
  for (const m of maps) {
    for (const [r, list] of Object.entries(m.rejectExamples)) out[r] = [...(out[r] ?? []), ...list];
  }
  for (const r of Object.keys(out)) {
    out[r] = (out[r] ?? [])
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.line - b.line))
      .slice(0, EXAMPLES_PER_REASON);
  }
  return out;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

async function readJsonObjects<T>(store: ObjectStore, prefix: string): Promise<T[]> {
  const out: T[] = [];
  for await (const o of store.list(prefix))
    out.push(JSON.parse(Buffer.from(await store.get(o.key)).toString('utf8')) as T);
  return out;
}
