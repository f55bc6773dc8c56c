/**
 * Compaction: rewrites each table partition whose file count is not what its size needs (too many small files, or
 * files far over the target) into files of about the target size, and publishes them as a run does (lease, commit
 * record, pointers flip, old files removed). Rows do not change, so the lake's state and digests stay as they are.
 */
import { decodeParquet, encodeParquet, type Row } from './columnar.ts';
import { DEFAULT_FILE_BYTES, TABLES, type TableName } from './config.ts';
import { compactedFileKey, newRunId, partitionOf, runReportKey, tablePrefix, writtenBy } from './keys.ts';
import { acquireLease, releaseLease } from './lease.ts';
import {
  currentVersion,
  type LakeVersion,
  pendingPublish,
  publish,
  recoverPublish,
  type TableFile,
} from './publish.ts';
import { TABLE_COLUMNS } from './schemas.ts';
import { openStore } from './store.ts';

/** What compaction did, per table. */
export interface CompactionReport {
  runId: string;
  kind: 'compaction';
  target: string;
  fileBytes: number;
  tables: Record<TableName, { partitionsRewritten: number; filesBefore: number; filesAfter: number; bytes: number }>;
  startedAt: string;
  finishedAt: string;
}

/** Compacts the lake at `target`; refused with LakeBusyError while a run holds the lake. */
export async function compactLake(
  target: string,
  options: { fileBytes?: number; now?: Date } = {},
): Promise<CompactionReport> {
  const fileBytes = options.fileBytes ?? DEFAULT_FILE_BYTES;
  const now = options.now ?? new Date();
  const runId = newRunId(now);
  const store = openStore(target);
  await acquireLease(store, runId, now);
  try {
    await recoverPublish(store);
    const current = await currentVersion(store);
    const next: LakeVersion = { tables: { ...current.tables }, state: current.state };
    const tables = {} as CompactionReport['tables'];
    for (const t of TABLES) {
      const manifest = current.tables[t];
      const files = manifest?.files ?? [];
      const entry = { partitionsRewritten: 0, filesBefore: files.length, filesAfter: 0, bytes: 0 };
      const out: TableFile[] = [];
      for (const [partition, group] of byPartition(t, files)) {
        const bytes = group.reduce((n, f) => n + f.bytes, 0);
        const wanted = Math.max(1, Math.ceil(bytes / fileBytes));
        if (group.length === wanted) {
          out.push(...group);
          continue;
        }
        entry.partitionsRewritten++;
        out.push(...(await rewrite(t, partition, group, wanted, runId, store)));
      }
      entry.filesAfter = out.length;
      entry.bytes = out.reduce((n, f) => n + f.bytes, 0);
      tables[t] = entry;
      if (manifest) next.tables[t] = { ...manifest, files: out.sort((a, b) => (a.key < b.key ? -1 : 1)) };
    }
    await publish(store, runId, next);
    const report: CompactionReport = {
      runId,
      kind: 'compaction',
      target,
      fileBytes,
      tables,
      startedAt: now.toISOString(),
      finishedAt: new Date().toISOString(),
    };
    await store.put(runReportKey(runId), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } catch (error) {
    // Unpublished: the files this compaction wrote go (an interrupted publish is recovered by the next run).
    if (!(await pendingPublish(store))) {
      const mine: string[] = [];
      for (const t of TABLES)
        for await (const o of store.list(tablePrefix(t))) if (writtenBy(o.key, runId)) mine.push(o.key);
      await store.delete(mine);
    }
    throw error;
  } finally {
    await releaseLease(store, runId);
  }

  async function rewrite(
    table: TableName,
    partition: string,
    group: readonly TableFile[],
    count: number,
    id: string,
    lake: ReturnType<typeof openStore>,
  ): Promise<TableFile[]> {
    const rows: Row[] = [];
    for (const f of group) for (const r of decodeParquet(await lake.get(f.key))) rows.push(r);
    // Partition columns live in the path, not in the files (docs/contract.md).
    const inPath = new Set([...partition.matchAll(/([^/=]+)=[^/]*\//g)].map((m) => m[1] as string));
    const columns = TABLE_COLUMNS[table].filter((c) => !inPath.has(c.name));
    const key = (columns[0] as { name: string }).name;
    rows.sort((a, b) => ((a[key] as string | number) < (b[key] as string | number) ? -1 : 1));
    const per = Math.ceil(rows.length / count);
    const written: TableFile[] = [];
    for (let n = 0; n * per < rows.length; n++) {
      const slice = rows.slice(n * per, (n + 1) * per);
      const body = encodeParquet(columns, slice);
      const fileKey = compactedFileKey(table, partition, id, n);
      await lake.put(fileKey, body);
      written.push({ key: fileKey, rows: slice.length, bytes: body.length });
    }
    return written;
  }
}

/** A table's files grouped by partition path (`year=2018/month=11/`, or '' when unpartitioned). */
function byPartition(table: TableName, files: readonly TableFile[]): Map<string, TableFile[]> {
  const groups = new Map<string, TableFile[]>();
  for (const f of files) {
    const partition = partitionOf(table, f.key);
    groups.set(partition, [...(groups.get(partition) ?? []), f]);
  }
  return groups;
}
