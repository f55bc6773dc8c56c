/**
 * The reading path: an input object's bytes to validated rows or rejects with their reason and line. Every
 * reading path must pass the reader conformance suite (test/conformance).
 */
import type { SourceName } from './keys.ts';
import { type OpenChunks, type RawRecord, readRecordBatches } from './reader.ts';
import { type Checked, checkLogEvent, checkSongRecord, type LogEvent, type SongRecord } from './validate.ts';

/** One record's outcome. */
export type Ingested<T> = { line: number; ok: true; row: T } | { line: number; ok: false; reason: string; raw: string };

/** The validated row type of each source. */
export interface SourceRow {
  log_data: LogEvent;
  song_data: SongRecord;
}

const CHECKS: { [S in SourceName]: (value: unknown) => Checked<SourceRow[S]> } = {
  log_data: checkLogEvent,
  song_data: checkSongRecord,
};

/** Reads and validates one object of a source. */
export async function* ingest<S extends SourceName>(
  source: S,
  open: OpenChunks,
  maxRecordBytes: number,
): AsyncGenerator<Ingested<SourceRow[S]>> {
  for await (const batch of ingestBatches(source, open, maxRecordBytes)) yield* batch;
}

/** Reads and validates one object of a source, in batches of records in order (readRecordBatches). */
export async function* ingestBatches<S extends SourceName>(
  source: S,
  open: OpenChunks,
  maxRecordBytes: number,
): AsyncGenerator<Ingested<SourceRow[S]>[]> {
  const check = CHECKS[source];
  for await (const records of readRecordBatches(open, maxRecordBytes)) {
    const batch: Ingested<SourceRow[S]>[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as RawRecord;
      if ('reason' in record) {
        batch[i] = { line: record.line, ok: false, reason: record.reason, raw: record.raw };
        continue;
      }
      const checked = check(record.value);
      batch[i] = checked.ok
        ? { line: record.line, ok: true, row: checked.row }
        : { line: record.line, ok: false, reason: checked.reason, raw: record.raw() };
    }
    yield batch;
  }
}
