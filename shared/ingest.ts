/**
 * The reading path: an input object's bytes to validated rows or rejects with their reason and line. Every
 * reading path must pass the reader conformance suite (test/conformance).
 */
import type { SourceName } from './keys.ts';
import { type OpenChunks, readRecords } from './reader.ts';
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
  const check = CHECKS[source];
  for await (const record of readRecords(open, maxRecordBytes)) {
    if ('reason' in record) {
      yield { line: record.line, ok: false, reason: record.reason, raw: record.raw };
      continue;
    }
    const checked = check(record.value);
    if (checked.ok) yield { line: record.line, ok: true, row: checked.row };
    else
      yield {
        line: record.line,
        ok: false,
        reason: checked.reason,
        raw: record.raw(),
      };
  }
}
