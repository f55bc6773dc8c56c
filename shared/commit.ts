/**
 * Commit: gather the workers' statistics, run the quality gate, add what was read to the ledger, publish the new
 * version (./publish.ts), write the run report, give the lease up and remove the run's scratch. `abortRun` is the
 * same for a run that failed at any stage: it removes what the run wrote, records why, and gives the lease up.
 */
import * as arrow from 'apache-arrow';
import { mapLimited, STORAGE_CONCURRENCY } from './concurrency.ts';
import { TABLES, type TableName } from './config.ts';
import { type CostEstimate, estimateCost } from './cost.ts';
import { type CaughtFailure, DataQualityError, failureError, failureMessage } from './errors.ts';
import { type Fingerprinted, FingerprintTable, fingerprintColumn } from './fingerprints.ts';
import { type Insights, mergeInsights } from './insights.ts';
import {
  partitionOf,
  planStatsKey,
  REJECTS_PREFIX,
  rejectsKey,
  runInputsKey,
  runInputsReportKey,
  runPageKey,
  runReportKey,
  SOURCES,
  type SourceName,
  scratchPrefix,
  stateDigestPrefix,
  stateVersionPrefix,
  statsPrefix,
  tablePrefix,
  writtenBy,
} from './keys.ts';
import { releaseLease } from './lease.ts';
import { type LedgerEntry, readLedger, writeLedger } from './ledger.ts';
import { EXAMPLES_PER_REASON, type FailedShard, type MapStats, type RejectExample, type SourceCounts } from './map.ts';
import type { InputObject, InputSummary, PlanStats, RunContext } from './plan.ts';
import {
  currentVersion,
  type LakeVersion,
  type PublishStep,
  pendingPublish,
  publish,
  type Recovery,
  readJson,
  recoverPublish,
  type TableFile,
  type TableManifest,
} from './publish.ts';
import type { ReducePhase, ReduceStats } from './reduce.ts';
import { renderRunReport } from './report-html.ts';
import { DIGEST_FORMAT } from './schemas.ts';
import { addUsage, noUsage, type ObjectStore, openStore, type StoreUsage } from './store.ts';

/** Per-stage figures of the run report. */
export interface StageReport {
  invocations: number;
  /** Distinct workers (process/thread, or Lambda sandbox) that ran the stage's invocations. */
  workers: number;
  wallMs: number;
  /** The invocations' times added up (what Lambda bills), as against wallMs, first start to last end. */
  busyMs: number;
  objectsRead: number;
  bytesRead: number;
  rowsIn: number;
  rowsOut: number;
  shuffleBytes: number;
}

/** The figures one invocation adds to its stage. */
type Figures = Omit<StageReport, 'invocations' | 'workers' | 'wallMs' | 'busyMs'>;

/** One check of the quality gate. */
export interface QualityCheck {
  name: string;
  passed: boolean;
  detail: string;
}

/** A table as the report shows it: the version published (or kept) and how it differs from the one before. */
export interface TableReport {
  rows: number;
  files: number;
  bytes: number;
  partitions: string[];
  /** The files the table's manifest names after this run. */
  published: string[];
  added: number;
  updated: number;
  removed: number;
}

/** The run report written to `_runs/<runId>.json`. */
export interface RunReport {
  runId: string;
  status: 'succeeded' | 'failed';
  /** Whether this run published a new version (false: nothing new to load, or the run failed). */
  published: boolean;
  error?: string;
  source: string;
  target: string;
  startedAt: string;
  finishedAt: string;
  settings: RunContext['settings'];
  /** How the run chose its input; the objects it read are listed in `inputsFile`. */
  inputs: InputSummary & { objects: number; bytes: number; inputsFile: string };
  /** What Plan found left by an interrupted publish, and did about it. */
  recovery: Recovery;
  sources: Record<SourceName, SourceCounts & { rejectRate: number }>;
  rejects: { total: number; byReason: Record<string, number>; examples: Record<string, RejectExample[]> };
  checks: QualityCheck[];
  /** Map shards that failed after their retries, when tolerated (`toleratedShardFailures`). */
  failedShards?: { shardId: string; objects: number; error: string }[];
  /** Aggregates for the reports: plays by hour and level, users by level, top songs. */
  insights: Insights;
  tables: Record<TableName, TableReport>;
  /** Storage requests per stage and in all (on disk: the calls S3 would bill), with the S3 client's retries. */
  storage: Record<'plan' | 'map' | ReducePhase | 'commit' | 'total', StoreUsage>;
  /** What the run would cost on AWS, from its own counts (shared/cost.ts). */
  cost?: CostEstimate;
  stages: { plan: { shards: number; wallMs: number } } & Record<'map' | ReducePhase, StageReport> & {
      commit: { wallMs: number };
    };
}

/** Commits a run; throws DataQualityError (after writing a failed report and removing its files) when a check fails. */
export async function commitRun(
  run: RunContext,
  options: { onPublish?: (step: PublishStep) => void } = {},
): Promise<RunReport> {
  const committing = Date.now();
  const store = openStore(run.target);
  const gathered = await gather(store, run);
  const { report, files } = gathered;
  const current = await currentVersion(store);

  if (gathered.planned.shards === 0) {
    // Nothing new or changed: the published version stays, and so does the ledger.
    report.tables = tablesReport(current);
    return finish(store, run, report, committing);
  }

  const next: LakeVersion = {
    tables: {} as LakeVersion['tables'],
    state: { runId: run.runId, buckets: run.settings.buckets, digest: DIGEST_FORMAT },
  };
  for (const t of TABLES) next.tables[t] = { table: t, runId: run.runId, files: files[t] };
  report.tables = tablesReport(next);
  report.checks = await checkAndDiff(store, run, report, current);
  if (gathered.failed.length > 0) {
    const share = gathered.failed.length / gathered.planned.shards;
    report.checks.push({
      name: 'map: failed shards',
      passed: share <= run.settings.toleratedShardFailures,
      detail: `${gathered.failed.length} of ${gathered.planned.shards} shards failed (${pct(share)}, tolerated ${pct(run.settings.toleratedShardFailures)}); their objects are read again by the next run`,
    });
  }

  const failed = report.checks.filter((c) => !c.passed);
  if (failed.length > 0) {
    const message = `quality gate failed, nothing was published: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`;
    await removeRunFiles(store, run.runId);
    await finish(store, run, { ...report, status: 'failed', error: message, published: false }, committing);
    throw new DataQualityError(message);
  }

  // A failed shard's objects: one file-level reject each, and out of the ledger so that the next run reads them.
  const unread = new Set<string>();
  for (const f of gathered.failed) {
    for (const key of f.keys) {
      unread.add(key);
      const line = { source: f.source, key, line: 0, reason: FAILED_SHARD_REASON, raw: f.error.slice(0, 1000) };
      await store.put(rejectsKey(key), `${JSON.stringify(line)}\n`);
    }
  }
  // Every file of the new version exists before the publish starts: the ledger is the last of them.
  const reading = (await readInputs(store, run.runId)).filter((o) => !unread.has(o.key));
  const ledger = run.baseline ? await readLedger(store, run.baseline) : new Map<string, LedgerEntry>();
  for (const o of reading) ledger.set(o.key, { key: o.key, etag: o.etag, size: o.size, runId: o.runId });
  // Their earlier records left the state with this run (it read them again), so their old entries go too.
  for (const key of unread) ledger.delete(key);
  await writeLedger(store, run.runId, ledger.values());
  await store.put(runInputsReportKey(run.runId), reading.map((o) => `${JSON.stringify(o)}\n`).join(''));

  await publish(store, run.runId, next, options.onPublish);
  await removeStaleRejects(store, run, reading, gathered.maps, unread);
  return finish(store, run, { ...report, published: true }, committing);
}

/**
 * The Abort of a failed run (the state machine's Catch): finishes or rolls back its publish if one was under way,
 * otherwise removes every file the run wrote; writes the failed report, gives the lease up, and throws the
 * original error again so the execution fails with its name. Resolves only when the publish had already flipped
 * every pointer and was finished here: then the run did succeed.
 */
export async function abortRun(run: RunContext, failure: CaughtFailure): Promise<RunReport> {
  const started = Date.now();
  const store = openStore(run.target);
  const { report } = await gather(store, run);
  const pending = await pendingPublish(store);
  if (pending?.runId === run.runId) {
    const recovery = await recoverPublish(store);
    if (recovery.action === 'finished') {
      report.tables = tablesReport(await currentVersion(store));
      return finish(store, run, { ...report, published: true, recovery }, started);
    }
  }
  await removeRunFiles(store, run.runId);
  // The quality gate wrote its own failed report, with the checks: Abort keeps it.
  const gated = await readJson<RunReport>(store, runReportKey(run.runId));
  const failed: RunReport =
    gated?.status === 'failed'
      ? gated
      : { ...report, status: 'failed', published: false, error: `${failure.Error}: ${failureMessage(failure)}` };
  await finish(store, run, failed, started);
  throw failureError(failure);
}

/** Everything the run wrote into the lake that no pointer names: its table files and its state version. */
async function removeRunFiles(store: ObjectStore, runId: string): Promise<void> {
  const mine: string[] = [];
  for (const t of TABLES)
    for await (const o of store.list(tablePrefix(t))) if (writtenBy(o.key, runId)) mine.push(o.key);
  for await (const o of store.list(stateVersionPrefix(runId))) mine.push(o.key);
  await store.delete(mine);
}

/** Rejects files of objects read that have no rejects now (a full run: of every object not rejected now). */
async function removeStaleRejects(
  store: ObjectStore,
  run: RunContext,
  reading: readonly InputObject[],
  maps: readonly MapStats[],
  unread: ReadonlySet<string>,
): Promise<void> {
  const rejected = new Set([...maps.flatMap((m) => m.rejectedKeys), ...unread].map(rejectsKey));
  const stale: string[] = [];
  if (run.mode === 'full') {
    for await (const o of store.list(REJECTS_PREFIX)) if (!rejected.has(o.key)) stale.push(o.key);
  } else {
    // Changed objects, and new ones that a failed shard left a file-level reject for: as many deletes as objects
    // read (S3 takes 1,000 keys a request), never a listing of the whole lake's rejects.
    for (const o of reading) if (!rejected.has(rejectsKey(o.key))) stale.push(rejectsKey(o.key));
  }
  await store.delete(stale);
}

interface Gathered {
  report: RunReport;
  planned: PlanStats;
  maps: MapStats[];
  failed: FailedShard[];
  files: Record<TableName, TableFile[]>;
}

/** Reads what Plan and the workers left and drafts the report. */
async function gather(store: ObjectStore, run: RunContext): Promise<Gathered> {
  const [plannedOrNull, maps, reduces, failed] = await Promise.all([
    readJson<PlanStats>(store, planStatsKey(run.runId)),
    readJsonObjects<MapStats>(store, statsPrefix(run.runId, 'map')),
    readJsonObjects<ReduceStats>(store, statsPrefix(run.runId, 'reduce')),
    readJsonObjects<FailedShard>(store, statsPrefix(run.runId, 'failed')),
  ]);
  const planned = plannedOrNull ?? emptyPlan(run);

  const sources = {} as RunReport['sources'];
  const byReason: Record<string, number> = {};
  for (const name of SOURCES) {
    const c: SourceCounts = { objects: 0, bytes: 0, read: 0, loaded: 0, rejected: 0 };
    for (const m of maps.filter((s) => s.source === name)) {
      for (const k of Object.keys(c) as (keyof SourceCounts)[]) c[k] += m.counts[k];
    }
    // An object of a failed shard is one file-level reject: nothing of it was loaded.
    for (const f of failed.filter((s) => s.source === name)) {
      c.objects += f.keys.length;
      c.read += f.keys.length;
      c.rejected += f.keys.length;
    }
    sources[name] = { ...c, rejectRate: c.read === 0 ? 0 : c.rejected / c.read };
  }
  for (const m of maps) for (const [r, n] of Object.entries(m.rejectReasons)) byReason[r] = (byReason[r] ?? 0) + n;
  const unread = failed.reduce((n, f) => n + f.keys.length, 0);
  if (unread > 0) byReason[FAILED_SHARD_REASON] = unread;

  const files = Object.fromEntries(TABLES.map((t) => [t, [] as TableFile[]])) as Record<TableName, TableFile[]>;
  for (const r of reduces) {
    for (const [table, t] of Object.entries(r.tables) as [TableName, { files: TableFile[] }][])
      files[table].push(...t.files);
  }
  for (const t of TABLES) files[t].sort((a, b) => (a.key < b.key ? -1 : 1));

  const report: RunReport = {
    runId: run.runId,
    status: 'succeeded',
    published: false,
    source: run.source,
    target: run.target,
    startedAt: run.startedAt,
    finishedAt: '',
    settings: run.settings,
    inputs: {
      ...planned.selection,
      objects: planned.inputs.song_data.objects + planned.inputs.log_data.objects,
      bytes: planned.inputs.song_data.bytes + planned.inputs.log_data.bytes,
      inputsFile: runInputsReportKey(run.runId),
    },
    recovery: planned.recovery,
    sources,
    rejects: { total: sources.song_data.rejected + sources.log_data.rejected, byReason, examples: examples(maps) },
    checks: [],
    insights: mergeInsights(reduces.flatMap((r) => (r.insights ? [r.insights] : []))),
    tables: Object.fromEntries(TABLES.map((t) => [t, tableReport(files[t], t)])) as RunReport['tables'],
    storage: {
      plan: addUsage(planned.storage),
      map: addUsage(...maps.map((m) => m.storage)),
      dimensions: addUsage(...reduces.filter((r) => r.phase === 'dimensions').map((r) => r.storage)),
      facts: addUsage(...reduces.filter((r) => r.phase === 'facts').map((r) => r.storage)),
      commit: noUsage(),
      total: noUsage(),
    },
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
  report.failedShards = failed.map((f) => ({ shardId: f.shardId, objects: f.keys.length, error: f.error }));
  return { report, planned, maps, failed, files };
}

/** Plan's statistics when Plan never wrote them (a run that failed before). */
function emptyPlan(run: RunContext): PlanStats {
  const none = { objects: 0, bytes: 0 };
  return {
    shards: 0,
    inputs: { song_data: none, log_data: none },
    selection: { mode: run.mode, keysGiven: null, seen: 0, new: 0, changed: 0, unchanged: 0, missing: [] },
    recovery: { action: 'none' },
    storage: noUsage(),
    startedAt: run.startedAt,
    finishedAt: run.startedAt,
  };
}

function tableReport(files: readonly TableFile[], t: TableName): TableReport {
  return {
    rows: files.reduce((n, f) => n + f.rows, 0),
    files: files.length,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    partitions: [...new Set(files.map((f) => partitionOf(t, f.key)))],
    published: files.map((f) => f.key),
    added: 0,
    updated: 0,
    removed: 0,
  };
}

function tablesReport(version: LakeVersion): RunReport['tables'] {
  return Object.fromEntries(
    TABLES.map((t) => [t, tableReport((version.tables[t] as TableManifest | null)?.files ?? [], t)]),
  ) as RunReport['tables'];
}

/**
 * One digest file (shared/schemas.ts DIGEST_COLUMNS): each column's fingerprints, and the key text of a row for
 * the rare check that needs it (fingerprints shared by different keys).
 */
export interface Digest {
  key: Fingerprinted;
  /** Each row's fingerprint (format 2; all null in a digest of format 1). */
  row: Fingerprinted;
  /** Format 1's row hashes, fingerprinted (null where a digest of format 2 has none). */
  hash: Fingerprinted;
  start_time: Fingerprinted;
  user_id: Fingerprinted;
  song_id: Fingerprinted;
  artist_id: Fingerprinted;
  keyText: (row: number) => string | null;
}
const DIGEST_FIELDS = ['key', 'hash', 'start_time', 'user_id', 'song_id', 'artist_id'] as const;

/** The dimensions first: their keys are what the songplays reference. */
const GATE_ORDER: readonly TableName[] = ['users', 'songs', 'artists', 'time', 'songplays'];

/** A digest file's bytes (Arrow IPC) as fingerprints, without a JS string per value. */
export function digestOf(bytes: Uint8Array): Digest {
  const table = arrow.tableFromIPC(bytes);
  const column = (name: string) => fingerprintColumn(table.getChild(name)?.data ?? []);
  const fields = Object.fromEntries(DIGEST_FIELDS.map((f) => [f, column(f)])) as Omit<Digest, 'keyText' | 'row'>;
  const keys = table.getChild('key');
  return {
    ...fields,
    row: rowFingerprints(table),
    keyText: (row) => (keys?.get(row) as string | null | undefined) ?? null,
  };
}

/** The rows' fingerprints of a digest (format 2's row_hi and row_lo); all null in a digest of format 1. */
function rowFingerprints(table: arrow.Table): Fingerprinted {
  const length = table.numRows;
  const halves = (name: string): Int32Array => {
    const out = new Int32Array(length);
    let at = 0;
    for (const data of table.getChild(name)?.data ?? []) {
      out.set((data.values as Int32Array).subarray(data.offset, data.offset + data.length), at);
      at += data.length;
    }
    return out;
  };
  const present = table.getChild('row_hi') !== null;
  return {
    length,
    hi: present ? halves('row_hi') : new Int32Array(length),
    lo: present ? halves('row_lo') : new Int32Array(length),
    nulls: new Uint8Array(length).fill(present ? 0 : 1),
  };
}

/** The digests of one table in one state version, read one file at a time. */
async function* readDigests(store: ObjectStore, runId: string, table: TableName): AsyncGenerator<Digest> {
  const keys: string[] = [];
  for await (const o of store.list(stateDigestPrefix(runId, table))) keys.push(o.key);
  for (const key of keys) yield digestOf(await store.get(key));
}

/**
 * The quality gate and rows added, updated and removed per table (against the version published before), from
 * the digests, one file at a time and one table at a time: Commit keeps only the fingerprints of keys (and of one
 * table's earlier keys and row hashes), never the digests themselves.
 */
async function checkAndDiff(
  store: ObjectStore,
  run: RunContext,
  report: RunReport,
  current: LakeVersion,
): Promise<QualityCheck[]> {
  // Sized for the rows each side has: grown from small, their rehashing was a seventh of the commit's profile at large.
  const gate = new QualityGate(Object.fromEntries(TABLES.map((t) => [t, report.tables[t].rows])));
  // Rows are compared by the hash of the earlier version's format: this run wrote format 1's too when it is 1.
  const legacy = current.state !== null && current.state.digest !== DIGEST_FORMAT;
  const rowHash = (d: Digest): Fingerprinted => (legacy ? d.hash : d.row);
  for (const t of GATE_ORDER) {
    const published = current.state ? (current.tables[t]?.files ?? []).reduce((n, f) => n + f.rows, 0) : 0;
    const before = new FingerprintTable(published, true);
    if (current.state) {
      for await (const d of readDigests(store, current.state.runId, t)) {
        const hash = rowHash(d);
        for (let i = 0; i < d.key.length; i++) {
          if (d.key.nulls[i] === 1) continue;
          const slot = before.add(d.key.hi[i] as number, d.key.lo[i] as number);
          before.valueHi[slot] = hash.hi[i] as number;
          before.valueLo[slot] = hash.lo[i] as number;
        }
      }
    }
    const entry = report.tables[t];
    let seen = 0;
    for await (const d of readDigests(store, run.runId, t)) {
      gate.add(t, d);
      const hash = rowHash(d);
      for (let i = 0; i < d.key.length; i++) {
        const slot = d.key.nulls[i] === 1 ? -1 : before.find(d.key.hi[i] as number, d.key.lo[i] as number);
        if (slot < 0) entry.added++;
        else if (before.marked[slot] === 0) {
          before.marked[slot] = 1;
          seen++;
          if (hash.nulls[i] === 1) {
            throw new Error(`${t}: a digest of this run lacks the row hash the published version's digests compare by`);
          }
          if (before.valueHi[slot] !== hash.hi[i] || before.valueLo[slot] !== hash.lo[i]) entry.updated++;
        } else entry.added++;
      }
    }
    entry.removed = before.size - seen;
    // Keys whose fingerprints met: their texts tell whether they are really the same (a second read, only then).
    if (gate.needsTexts(t)) for await (const d of readDigests(store, run.runId, t)) gate.addTexts(t, d);
  }
  return gate.checks(run, report);
}

type Reference = Exclude<keyof Digest, 'key' | 'hash' | 'keyText'>;
const REFERENCES: [Reference, TableName, string][] = [
  ['start_time', 'time', 'songplays.start_time in time'],
  ['user_id', 'users', 'songplays.user_id in users'],
  ['song_id', 'songs', 'songplays.song_id in songs'],
  ['artist_id', 'artists', 'songplays.artist_id in artists'],
];

/** What the gate keeps of one table. */
interface GateTable {
  rows: number;
  nulls: number;
  keys: FingerprintTable;
  /** Fingerprints that more than one row's key has, and (once read) the texts behind each. */
  shared: FingerprintTable | undefined;
  texts: Map<string, Set<string>> | undefined;
}

/**
 * The quality gate: unique non-null keys, referential integrity of songplays, reject rates. Fed digests a file at
 * a time, the referenced tables before songplays. Keys are compared by 64-bit fingerprint; where two rows' keys
 * share one, their texts decide (`needsTexts`), so a duplicate is never reported falsely. A reference is taken as
 * present when its fingerprint is: a dangling one could pass only by matching an existing key's fingerprint.
 */
export class QualityGate {
  private readonly tables = new Map<TableName, GateTable>();
  private readonly references = new Map<Reference, { count: number; missing: number }>();

  /** `rows`: how many rows each table is expected to have, to size its key table (a guess, not a limit). */
  constructor(private readonly rows: Partial<Record<TableName, number>> = {}) {}

  private table(name: TableName): GateTable {
    let t = this.tables.get(name);
    if (!t) {
      t = { rows: 0, nulls: 0, keys: new FingerprintTable(this.rows[name]), shared: undefined, texts: undefined };
      this.tables.set(name, t);
    }
    return t;
  }

  add(table: TableName, digest: Digest): void {
    const t = this.table(table);
    const { key } = digest;
    t.rows += key.length;
    for (let i = 0; i < key.length; i++) {
      if (key.nulls[i] === 1) {
        t.nulls++;
        continue;
      }
      t.keys.add(key.hi[i] as number, key.lo[i] as number);
      if (!t.keys.added) {
        t.shared ??= new FingerprintTable(16);
        t.shared.add(key.hi[i] as number, key.lo[i] as number);
      }
    }
    if (table !== 'songplays') return;
    for (const [column, referenced] of REFERENCES) {
      const keys = this.tables.get(referenced)?.keys;
      const r = this.references.get(column) ?? { count: 0, missing: 0 };
      const values = digest[column];
      for (let i = 0; i < values.length; i++) {
        if (values.nulls[i] === 1) continue;
        r.count++;
        if (!keys || keys.find(values.hi[i] as number, values.lo[i] as number) < 0) r.missing++;
      }
      this.references.set(column, r);
    }
  }

  /** Whether some keys of the table share a fingerprint: then every digest of it goes to addTexts as well. */
  needsTexts(table: TableName): boolean {
    return this.tables.get(table)?.shared !== undefined;
  }

  /** The texts of the keys whose fingerprints are shared. */
  addTexts(table: TableName, digest: Digest): void {
    const t = this.table(table);
    const shared = t.shared;
    if (!shared) return;
    t.texts ??= new Map();
    const { key } = digest;
    for (let i = 0; i < key.length; i++) {
      if (key.nulls[i] === 1 || shared.find(key.hi[i] as number, key.lo[i] as number) < 0) continue;
      const id = `${key.hi[i]}:${key.lo[i]}`;
      const texts = t.texts.get(id) ?? new Set<string>();
      texts.add(digest.keyText(i) as string);
      t.texts.set(id, texts);
    }
  }

  checks(run: RunContext, report: RunReport): QualityCheck[] {
    const checks: QualityCheck[] = [];
    for (const table of TABLES) {
      const t = this.tables.get(table);
      const rows = t?.rows ?? 0;
      const nulls = t?.nulls ?? 0;
      // Distinct keys: one per fingerprint, except where a shared fingerprint turned out to stand for several.
      let distinct = t?.keys.size ?? 0;
      for (const texts of t?.texts?.values() ?? []) distinct += texts.size - 1;
      const duplicates = rows - nulls - distinct;
      checks.push({
        name: `${table}: unique non-null keys`,
        passed: nulls === 0 && duplicates === 0,
        detail: `${rows} rows, ${nulls} null keys, ${duplicates} duplicate keys`,
      });
    }
    for (const [column, , name] of REFERENCES) {
      const r = this.references.get(column) ?? { count: 0, missing: 0 };
      checks.push({
        name,
        passed: r.missing === 0,
        detail: `${r.count} non-null references, ${r.missing} missing`,
      });
    }
    for (const s of SOURCES) {
      const c = report.sources[s];
      checks.push({
        name: `${s}: reject rate`,
        passed: c.rejectRate <= run.settings.rejectLimit,
        detail: `${c.rejected} of ${c.read} records rejected (${pct(c.rejectRate)}, limit ${pct(run.settings.rejectLimit)}); see _rejects/ under ${run.target}`,
      });
    }
    return checks;
  }
}

/** The quality gate over whole tables' digests, one per table (the referenced tables are added first). */
export function qualityChecks(run: RunContext, report: RunReport, digests: Record<TableName, Digest>): QualityCheck[] {
  const gate = new QualityGate();
  for (const t of GATE_ORDER) {
    gate.add(t, digests[t]);
    if (gate.needsTexts(t)) gate.addTexts(t, digests[t]);
  }
  return gate.checks(run, report);
}

async function finish(store: ObjectStore, run: RunContext, report: RunReport, committing: number): Promise<RunReport> {
  const done = { ...report, finishedAt: new Date().toISOString() };
  done.stages.commit.wallMs = Date.now() - committing;
  if (done.storage) {
    // Commit's own requests up to here: the report and the clean-up after it are not counted.
    done.storage = { ...done.storage, commit: { ...store.usage } };
    const { plan, map, dimensions, facts, commit } = done.storage;
    done.storage.total = addUsage(plan, map, dimensions, facts, commit);
    const st = done.stages;
    done.cost = estimateCost({
      busyMs: {
        plan: st.plan.wallMs,
        map: st.map.busyMs,
        reduce: st.dimensions.busyMs + st.facts.busyMs,
        commit: st.commit.wallMs,
      },
      invocations: {
        plan: 1,
        map: st.map.invocations,
        reduce: st.dimensions.invocations + st.facts.invocations,
        commit: 1,
      },
      mapBatches: st.map.invocations,
      reduceItems: st.dimensions.invocations + st.facts.invocations,
      storage: done.storage.total,
    });
  }
  await store.put(runReportKey(run.runId), `${JSON.stringify(done, null, 2)}\n`);
  await store.put(runPageKey(run.runId), renderRunReport(done));
  await releaseLease(store, run.runId);
  const scratch: string[] = [];
  for await (const o of store.list(scratchPrefix(run.runId))) scratch.push(o.key);
  await store.delete(scratch);
  return done;
}

async function readInputs(store: ObjectStore, runId: string): Promise<InputObject[]> {
  return (await readJson<InputObject[]>(store, runInputsKey(runId))) ?? [];
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

/** A stage that ran nothing. */
export const emptyStage = (): StageReport => ({
  invocations: 0,
  workers: 0,
  wallMs: 0,
  busyMs: 0,
  objectsRead: 0,
  bytesRead: 0,
  rowsIn: 0,
  rowsOut: 0,
  shuffleBytes: 0,
});

function stage<T extends { startedAt: string; finishedAt: string; worker: string }>(
  items: T[],
  figures: (item: T) => Figures,
): StageReport {
  const out: StageReport = {
    ...emptyStage(),
    invocations: items.length,
    workers: new Set(items.map((i) => i.worker)).size,
  };
  if (items.length === 0) return out;
  out.wallMs =
    Math.max(...items.map((i) => Date.parse(i.finishedAt))) - Math.min(...items.map((i) => Date.parse(i.startedAt)));
  out.busyMs = items.reduce((n, i) => n + Date.parse(i.finishedAt) - Date.parse(i.startedAt), 0);
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

/** The reject reason of an object a failed map shard did not read. */
export const FAILED_SHARD_REASON = 'object not read: its map shard failed';

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

async function readJsonObjects<T>(store: ObjectStore, prefix: string): Promise<T[]> {
  const out: T[] = [];
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  for (const body of await mapLimited(keys, STORAGE_CONCURRENCY, (key) => store.get(key))) {
    out.push(JSON.parse(Buffer.from(body).toString('utf8')) as T);
  }
  return out;
}
