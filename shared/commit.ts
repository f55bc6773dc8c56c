/**
 * Commit: gather the workers' statistics, check the run, publish the tables (each table's manifest is its
 * current pointer), remove files no manifest names, write the run report, and remove the run's scratch.
 */
import { TABLES, type TableName } from './config.ts';
import { DataQualityError } from './errors.ts';
import {
  runReportKey,
  SOURCES,
  type SourceName,
  scratchPrefix,
  statsPrefix,
  tableManifestKey,
  tablePrefix,
} from './keys.ts';
import type { MapStats, SourceCounts } from './map.ts';
import type { RunContext } from './plan.ts';
import type { ReducePhase, ReduceStats, TableFile } from './reduce.ts';
import { type ObjectStore, openStore } from './store.ts';

/** Per-stage figures of the run report. */
export interface StageReport {
  invocations: number;
  wallMs: number;
  rowsIn?: number;
  rowsOut?: number;
  shuffleBytes?: number;
}

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
  rejects: { total: number; byReason: Record<string, number> };
  tables: Record<TableName, { rows: number; files: number; bytes: number; partitions: string[] }>;
  stages: Record<'map' | ReducePhase, StageReport>;
}

/** Commits a run; throws DataQualityError (after writing a failed report and removing its files) when a check fails. */
export async function commitRun(run: RunContext): Promise<RunReport> {
  const store = openStore(run.target);
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
    rejects: { total: sources.song_data.rejected + sources.log_data.rejected, byReason },
    tables,
    stages: {
      map: stage(maps, (m) => ({ rowsIn: m.counts.read, rowsOut: m.counts.loaded, shuffleBytes: m.shuffleBytes })),
      dimensions: stage(
        reduces.filter((r) => r.phase === 'dimensions'),
        reduceFigures,
      ),
      facts: stage(
        reduces.filter((r) => r.phase === 'facts'),
        reduceFigures,
      ),
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
    await finish(store, run, { ...report, status: 'failed', error: message });
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
  return finish(store, run, report);
}

async function finish(store: ObjectStore, run: RunContext, report: RunReport): Promise<RunReport> {
  const done = { ...report, finishedAt: new Date().toISOString() };
  await store.put(runReportKey(run.runId), `${JSON.stringify(done, null, 2)}\n`);
  const scratch: string[] = [];
  for await (const o of store.list(scratchPrefix(run.runId))) scratch.push(o.key);
  await store.delete(scratch);
  return done;
}

function reduceFigures(r: ReduceStats): Omit<StageReport, 'invocations' | 'wallMs'> {
  const rowsOut = Object.values(r.tables).reduce((n, t) => n + t.rows, 0);
  return { rowsIn: r.rowsIn, rowsOut, shuffleBytes: r.shuffleBytes };
}

function stage<T extends { startedAt: string; finishedAt: string }>(
  items: T[],
  figures: (item: T) => Omit<StageReport, 'invocations' | 'wallMs'>,
): StageReport {
  const out: StageReport = { invocations: items.length, wallMs: 0, rowsIn: 0, rowsOut: 0, shuffleBytes: 0 };
  if (items.length === 0) return out;
  const start = Math.min(...items.map((i) => Date.parse(i.startedAt)));
  const end = Math.max(...items.map((i) => Date.parse(i.finishedAt)));
  out.wallMs = end - start;
  for (const i of items) {
    const f = figures(i);
    out.rowsIn = (out.rowsIn ?? 0) + (f.rowsIn ?? 0);
    out.rowsOut = (out.rowsOut ?? 0) + (f.rowsOut ?? 0);
    out.shuffleBytes = (out.shuffleBytes ?? 0) + (f.shuffleBytes ?? 0);
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
