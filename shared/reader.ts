/**
 * Turns an input object's bytes into records (docs/contract.md, "Reading input"): one JSON document (an object,
 * or an array of records), or JSON lines. Memory stays bounded by `maxRecordBytes` plus a read chunk, whatever
 * the object's size: a line it is going to reject is never held whole.
 */

import { isAscii, isUtf8 } from 'node:buffer';

/** One record: a parsed value (with its source text for a reject record), or the reason it cannot be one. */
export type RawRecord = Parsed | { line: number; reason: string; raw: string };

/**
 * A parsed record. Its reject text is made only when a check rejects it; a class rather than a closure per record
 * (a few records in a million are rejected).
 */
export class Parsed {
  constructor(
    readonly line: number,
    readonly value: unknown,
    /** The record's source text; undefined for an element of a JSON array, shown as its JSON. */
    private readonly text: string | undefined,
  ) {}

  /** The record's text for a reject line. */
  raw(): string {
    return this.text === undefined ? stringify(this.value) : cut(this.text);
  }
}

/** Opens an object's bytes. Called a second time only for a large file whose shape is in doubt (see below). */
export type OpenChunks = () => AsyncIterable<Uint8Array>;

/** How much of a rejected record is kept in its reject line. */
export const RAW_LIMIT = 1000;

/** Room beyond the record limit for a BOM and whitespace around a document that is itself within the limit. */
const SLACK = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });
/** Blank means JSON whitespace only (space, tab, CR, LF). */
const BLANK = /^[ \t\r\n]*$/;

const cut = (text: string): string => text.slice(0, RAW_LIMIT);
const headText = (bytes: Uint8Array): string => cut(lossyUtf8.decode(bytes.subarray(0, RAW_LIMIT * 4)));
const tooLarge = (line: number, max: number, raw: string): RawRecord => ({
  line,
  reason: `record exceeds ${max} bytes`,
  raw,
});

/** Most records in one batch of readRecordBatches. */
const BATCH = 128;

/** The records of one object. */
export async function* readRecords(open: OpenChunks, maxRecordBytes: number): AsyncGenerator<RawRecord> {
  for await (const batch of readRecordBatches(open, maxRecordBytes)) yield* batch;
}

/**
 * The records of one object in batches of at most BATCH, in order: a step of two async generators per record was
 * a seventh of a map shard's time (one 16 MB log shard: 213 → 190 ms).
 */
export async function* readRecordBatches(open: OpenChunks, maxRecordBytes: number): AsyncGenerator<RawRecord[]> {
  const iterator = open()[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes <= maxRecordBytes + SLACK) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    headBytes += next.value.length;
  }
  const start = stripBom(Buffer.concat(head, headBytes));
  if (ended) {
    yield* batches(smallObject(start, maxRecordBytes));
    return;
  }
  // A large object is JSON lines, unless its first record is an unfinished object or array: then it may be one
  // pretty-printed document (a single oversized record) or a broken first line. Only a scan of the whole object
  // tells; it keeps nothing, and the lines are then read in a second pass.
  const first = firstLine(start);
  if (first !== undefined && /^[ \t\r]*[[{]/.test(first) && !tryParse(first).ok) {
    if (await isOneDocument(start, iterator)) {
      yield [tooLarge(1, maxRecordBytes, headText(start))];
      return;
    }
    await iterator.return?.();
    yield* streamLines(open(), maxRecordBytes, true);
    return;
  }
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield start;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  yield* streamLines(rest(), maxRecordBytes, false);
}

/** A generator's records in arrays of at most BATCH. */
function* batches(records: Iterable<RawRecord>): Generator<RawRecord[]> {
  let batch: RawRecord[] = [];
  for (const record of records) {
    batch.push(record);
    if (batch.length === BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function stripBom(bytes: Uint8Array): Uint8Array {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/** The first non-blank line's text, when it is short enough to look at. */
function firstLine(bytes: Uint8Array): string | undefined {
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(LF, start);
    if (end < 0) end = bytes.length;
    const text = lossyUtf8.decode(bytes.subarray(start, Math.min(end, start + 1024 * 1024)));
    if (!BLANK.test(text)) return end - start > 1024 * 1024 ? undefined : text;
    start = end + 1;
  }
  return undefined;
}

/** Whether the bytes (head, then the rest of the iterator) are exactly one JSON object or array. */
async function isOneDocument(head: Uint8Array, rest: AsyncIterator<Uint8Array>): Promise<boolean> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let closed = false;
  const scan = (bytes: Uint8Array): boolean | undefined => {
    for (const b of bytes) {
      if (closed) {
        if (b !== 0x20 && b !== 0x09 && b !== CR && b !== LF) return false;
      } else if (inString) {
        if (escaped) escaped = false;
        else if (b === 0x5c) escaped = true;
        else if (b === 0x22) inString = false;
      } else if (b === 0x22) inString = true;
      else if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        depth--;
        if (depth === 0) closed = true;
        if (depth < 0) return false;
      }
    }
    return undefined;
  };
  if (scan(head) === false) return false;
  for (let next = await rest.next(); !next.done; next = await rest.next()) {
    if (scan(next.value) === false) {
      await rest.return?.();
      return false;
    }
  }
  return closed;
}

function* smallObject(bytes: Uint8Array, maxRecordBytes: number): Generator<RawRecord> {
  // Undefined for invalid UTF-8 somewhere: the lines that hold it are rejected, the others still load.
  const text = utf8Text(bytes);
  if (text !== undefined) {
    if (BLANK.test(text)) return;
    const doc = tryParse(text);
    if (doc.ok && typeof doc.value === 'object' && doc.value !== null) {
      // The document is the record: its size is measured without the whitespace around it.
      if (Buffer.byteLength(text.trim()) > maxRecordBytes) {
        yield tooLarge(1, maxRecordBytes, cut(text.trim()));
      } else if (Array.isArray(doc.value)) {
        for (let i = 0; i < doc.value.length; i++) {
          yield new Parsed(i + 1, doc.value[i], undefined);
        }
      } else {
        yield new Parsed(1, doc.value, text.trim());
      }
      return;
    }
    // Valid UTF-8 as a whole is valid line by line (LF never occurs inside a character): split the decoded text
    // rather than decode each line's bytes again.
    yield* textLines(text, maxRecordBytes);
    return;
  }
  let start = 0;
  let line = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(LF, start);
    if (end < 0) end = bytes.length;
    line++;
    const record = parseLine(bytes.subarray(start, end), line, maxRecordBytes);
    if (record) yield record;
    start = end + 1;
  }
}

/** The JSON lines of a decoded object, as parseLine would give them from its bytes. */
function* textLines(text: string, maxRecordBytes: number): Generator<RawRecord> {
  let start = 0;
  let line = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const body = text.charCodeAt(end - 1) === CR && end > start ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    // A UTF-16 unit is at most 3 bytes: only long lines need their bytes counted.
    if (body.length * 3 > maxRecordBytes && Buffer.byteLength(body) > maxRecordBytes) {
      yield tooLarge(line, maxRecordBytes, cut(body));
      continue;
    }
    if (BLANK.test(body)) continue;
    const parsed = tryParse(body);
    yield parsed.ok ? new Parsed(line, parsed.value, body) : { line, reason: 'invalid JSON', raw: cut(body) };
  }
}

/** The records of JSON lines in chunks, a batch per chunk (the lines that end in it). */
async function* streamLines(
  chunks: AsyncIterable<Uint8Array>,
  maxRecordBytes: number,
  stripFirst: boolean,
): AsyncGenerator<RawRecord[]> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let skipping = false; // inside an oversized line: keep only its head, drop the rest
  let skippedHead = new Uint8Array(0);
  let line = 1;
  let bomChecked = !stripFirst;
  for await (let chunk of chunks) {
    if (!bomChecked) {
      // A second pass starts from the raw bytes; a BOM split across tiny chunks is not worth handling here.
      chunk = stripBom(chunk);
      bomChecked = true;
    }
    const batch: RawRecord[] = [];
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(LF, start);
      const piece = chunk.subarray(start, end < 0 ? chunk.length : end);
      if (!skipping) {
        pending.push(piece);
        pendingBytes += piece.length;
        // +1: a CR before the LF is not part of the record (parseLine checks the exact size).
        if (pendingBytes > maxRecordBytes + 1) {
          skipping = true;
          skippedHead = Buffer.concat(pending, pendingBytes).subarray(0, RAW_LIMIT * 4);
          pending = [];
          pendingBytes = 0;
        }
      }
      if (end < 0) break;
      if (skipping) {
        batch.push(tooLarge(line, maxRecordBytes, headText(skippedHead)));
        skipping = false;
      } else {
        const record = parseLine(Buffer.concat(pending, pendingBytes), line, maxRecordBytes);
        if (record) batch.push(record);
      }
      pending = [];
      pendingBytes = 0;
      line++;
      start = end + 1;
    }
    if (batch.length > 0) yield batch;
  }
  if (skipping) yield [tooLarge(line, maxRecordBytes, headText(skippedHead))];
  else if (pendingBytes > 0) {
    const record = parseLine(Buffer.concat(pending, pendingBytes), line, maxRecordBytes);
    if (record) yield [record];
  }
}

function parseLine(bytes: Uint8Array, line: number, maxRecordBytes: number): RawRecord | undefined {
  const body = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
  if (body.length > maxRecordBytes) return tooLarge(line, maxRecordBytes, headText(body));
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    return { line, reason: 'invalid UTF-8', raw: cut(lossyUtf8.decode(body)) };
  }
  if (BLANK.test(text)) return undefined;
  const parsed = tryParse(text);
  return parsed.ok ? new Parsed(line, parsed.value, text) : { line, reason: 'invalid JSON', raw: cut(text) };
}

/**
 * The bytes as text, or undefined when they are not valid UTF-8. ASCII (most logs) is copied as Latin-1: no faster
 * to make than the strict TextDecoder's text, but JSON.parse reads its lines faster (10 log files of 44 MB:
 * 193–210 → 155–162 ms).
 */
function utf8Text(bytes: Uint8Array): string | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isAscii(buffer)) return buffer.toString('latin1');
  return isUtf8(buffer) ? buffer.toString('utf8') : undefined;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** A value's JSON for a reject line; a value too deep to stringify is described instead. */
function stringify(value: unknown): string {
  try {
    return cut(JSON.stringify(value));
  } catch {
    return '(a value nested too deeply to show)';
  }
}
