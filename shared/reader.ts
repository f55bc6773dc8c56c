/**
 * Turns an input object's bytes into records (docs/contract.md, "Reading input"): one JSON document, or JSON
 * lines. Never holds more than `maxRecordBytes` (plus one read chunk) of a line it is going to reject.
 */

/** One record of an input object: a parsed value, or the reason it cannot be one. */
export type RawRecord = { line: number; value: unknown } | { line: number; reason: string; raw: string };

/** How much of a rejected line is kept in its reject record. */
export const RAW_LIMIT = 1000;

const LF = 0x0a;
const CR = 0x0d;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** The records of one object, read from its chunks. */
export async function* readRecords(
  chunks: AsyncIterable<Uint8Array>,
  maxRecordBytes: number,
): AsyncGenerator<RawRecord> {
  // Buffer up to the record limit: a file that small may be one JSON document. A larger one is JSON lines, or
  // a document too large to be one record (streamLines rejects that one whole).
  const head: Uint8Array[] = [];
  let headBytes = 0;
  const iterator = chunks[Symbol.asyncIterator]();
  let done = false;
  while (headBytes <= maxRecordBytes) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
    headBytes += next.value.length;
  }
  if (done) {
    yield* wholeObject(stripBom(Buffer.concat(head, headBytes)), maxRecordBytes);
    return;
  }
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield stripBom(Buffer.concat(head, headBytes)); // the head holds more than 3 bytes: a BOM is whole in it
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  yield* streamLines(rest(), maxRecordBytes);
}

function stripBom(bytes: Uint8Array): Uint8Array {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

function* wholeObject(bytes: Uint8Array, maxRecordBytes: number): Generator<RawRecord> {
  let text: string | undefined;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    // Invalid UTF-8 somewhere: the lines that hold it are rejected, the others still load.
  }
  if (text !== undefined) {
    if (text.trim() === '') return;
    const doc = tryParse(text);
    if (doc.ok) {
      if (Array.isArray(doc.value)) {
        for (let i = 0; i < doc.value.length; i++) yield { line: i + 1, value: doc.value[i] };
      } else {
        yield { line: 1, value: doc.value };
      }
      return;
    }
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

async function* streamLines(chunks: AsyncIterable<Uint8Array>, maxRecordBytes: number): AsyncGenerator<RawRecord> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let skipping = false; // inside an oversized line: keep only its head, drop the rest
  let skippedHead = new Uint8Array(0);
  let line = 1;
  let seenRecord = false;
  let fileHead: Uint8Array | undefined;
  const tooLong = (): RawRecord => ({
    line,
    reason: `record exceeds ${maxRecordBytes} bytes`,
    raw: lossyUtf8.decode(skippedHead).slice(0, RAW_LIMIT),
  });
  for await (const chunk of chunks) {
    fileHead ??= chunk.subarray(0, RAW_LIMIT * 4);
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
        yield tooLong();
        skipping = false;
      } else {
        const bytes = Buffer.concat(pending, pendingBytes);
        if (!seenRecord && /^\s*[[{]\s*$/.test(bytes.toString('latin1'))) {
          // A pretty-printed document larger than the limit: one oversized record, not lines of fragments.
          yield {
            line,
            reason: `record exceeds ${maxRecordBytes} bytes`,
            raw: lossyUtf8.decode(fileHead).slice(0, RAW_LIMIT),
          };
          return;
        }
        const record = parseLine(bytes, line, maxRecordBytes);
        if (record) {
          seenRecord = true;
          yield record;
        }
      }
      pending = [];
      pendingBytes = 0;
      line++;
      start = end + 1;
    }
  }
  if (skipping) yield tooLong();
  else if (pendingBytes > 0) {
    const record = parseLine(Buffer.concat(pending, pendingBytes), line, maxRecordBytes);
    if (record) yield record;
  }
}

function parseLine(bytes: Uint8Array, line: number, maxRecordBytes: number): RawRecord | undefined {
  const body = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
  if (body.length > maxRecordBytes) {
    return {
      line,
      reason: `record exceeds ${maxRecordBytes} bytes`,
      raw: lossyUtf8.decode(body.subarray(0, RAW_LIMIT * 4)).slice(0, RAW_LIMIT),
    };
  }
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    return { line, reason: 'invalid UTF-8', raw: lossyUtf8.decode(body).slice(0, RAW_LIMIT) };
  }
  if (text.trim() === '') return undefined;
  const parsed = tryParse(text);
  return parsed.ok ? { line, value: parsed.value } : { line, reason: 'invalid JSON', raw: text.slice(0, RAW_LIMIT) };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
