/**
 * The same ETL as the pipeline, written as a short series of DuckDB SQL statements: a benchmark peer. It reads the source's
 * song_data/ and log_data/ files, applies docs/contract.md (types, rejects, text repair, precedence, the join,
 * songplay ids, the time breakdown) and writes the five tables as Hive-partitioned Parquet in the pipeline's
 * layout, so that both lakes can be compared row for row with `compareLakes`. It writes no reject files, ledger
 * or manifests: only the tables.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export type TableName = 'songplays' | 'users' | 'songs' | 'artists' | 'time';

export const TABLE_NAMES: readonly TableName[] = ['songplays', 'users', 'songs', 'artists', 'time'];

export interface DuckDbEtlOptions {
  /** A local directory holding song_data/ and log_data/. */
  source: string;
  /** A local directory; each table is (re)written under `<target>/<table>/`. */
  target: string;
  /** DuckDB worker threads (default: one per core). */
  threads?: number;
  /** The contract's maxRecordBytes (default 16 MiB): larger records are dropped, as the pipeline rejects them. */
  maxRecordBytes?: number;
}

export interface DuckDbEtlResult {
  /** Wall time of the whole run, from opening the database to the last file written. */
  ms: number;
  rows: Record<TableName, number>;
}

/** A SQL string literal. */
const lit = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** What String.prototype.trim removes (WhiteSpace and LineTerminator), as a DuckDB trim() character set. */
const JS_WHITESPACE = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007,
  0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
]
  .map((c) => `chr(${c})`)
  .join(' || ');

/**
 * Scalar macros. Every field is read as DuckDB's JSON type (the value's JSON text), so that its JSON type can be
 * checked as the contract wants: a field of the wrong type reads as NULL instead of being cast ("5" is no number,
 * 5 is no string, 1.5 is no integer), and the record still loads.
 */
const MACROS = [
  // Any JSON string, the empty one included (page, title: "is it a string" decides a reject).
  `CREATE MACRO jtext(j) AS CASE WHEN starts_with(j::VARCHAR, '"') THEN
     CASE WHEN contains(j::VARCHAR, '\\') THEN j ->> '$' ELSE (j::VARCHAR)[2:-2] END END`,
  // A string field: the empty string counts as missing.
  "CREATE MACRO jstr(j) AS nullif(jtext(j), '')",
  // A finite JSON number as DOUBLE. Records with NaN/Infinity tokens never get here (strict_json), so a JSON
  // number starts with '-' or a digit; one that overflows (1e400: Infinity for JSON.parse, inf for the cast) is
  // not finite, so NULL.
  'CREATE MACRO finite(d) AS CASE WHEN isfinite(d) THEN d END',
  `CREATE MACRO jnum(j) AS CASE WHEN ascii(j::VARCHAR) = 45 OR ascii(j::VARCHAR) BETWEEN 48 AND 57
     THEN finite(TRY_CAST(j::VARCHAR AS DOUBLE)) END`,
  // A safe integer (|n| ≤ 2^53 − 1, integral value: 5.0 counts, as in JS).
  `CREATE MACRO safeint(d) AS CASE WHEN d = trunc(d) AND abs(d) <= 9007199254740991 THEN d::BIGINT END`,
  // An int32.
  `CREATE MACRO int32(d) AS CASE WHEN d = trunc(d) AND d >= -2147483648 AND d < 2147483648 THEN d::INTEGER END`,
  // Text repair, one round. Only a string with a character in U+0080–U+00FF and none above U+00FF is a candidate;
  // its Latin-1 bytes (each character's code point as one byte) replace it when they are valid UTF-8.
  // latin1() turns the UTF-8 bytes of such a string into its Latin-1 bytes without leaving SQL: a BLOB cast to
  // text spells every byte ≥ 0x80 (and the backslash) as \xHH, so C2 xx → xx and C3 xx → xx + 0x40 are plain
  // replacements (written in lower case, so that no replacement's output is matched again).
  `CREATE MACRO latin1(s) AS replace(replace(replace(replace(replace(encode(s)::VARCHAR,
     '\\xC2', ''), '\\xC3\\x8', '\\xc'), '\\xC3\\x9', '\\xd'), '\\xC3\\xA', '\\xe'), '\\xC3\\xB', '\\xf')::BLOB`,
  // decode(…, 'replace') puts a '?' for every invalid byte (the same validity as a fatal TextDecoder), so the
  // bytes were valid UTF-8 exactly when the decoding holds no more '?' than the string had. (try(decode(…)) says
  // the same, but falls back to row-at-a-time evaluation once a row fails, and "Zoë" fails: that cost seconds.)
  `CREATE MACRO valid_or(s, d) AS CASE
     WHEN strlen(d) - strlen(replace(d, '?', '')) = strlen(s) - strlen(replace(s, '?', '')) THEN d ELSE s END`,
  `CREATE MACRO repair_round(s) AS CASE
     WHEN strlen(s) = length(s) THEN s
     WHEN regexp_matches(s, '[^\\x00-\\xFF]') THEN s
     ELSE valid_or(s, decode(latin1(s), 'replace'))
   END`,
  // The join's trim, as String.prototype.trim.
  `CREATE MACRO js_trim(s) AS trim(s, ${JS_WHITESPACE})`,
  // user_agent: one pair of surrounding literal double quotes removed, then empty means missing.
  `CREATE MACRO strip_quotes(s) AS nullif(CASE WHEN length(s) >= 2 AND starts_with(s, '"') AND ends_with(s, '"')
     THEN s[2:-2] ELSE s END, '')`,
];

/** The contract's default maxRecordBytes. */
const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** JSON whitespace, as a regular-expression class body. */
const JSON_WS = ' \\t\\n\\r';

/**
 * Macros of the reading stage. DuckDB's JSON parser is laxer than JSON.parse in two ways: it takes NaN/Infinity/inf
 * tokens (any case) as values, and trailing commas. strict_json() adds those two checks. lax_tokens() looks for a
 * value that starts like one of those tokens, or a comma before a closing bracket; only the rare text where it
 * finds one gets the exact look, with string literals blanked out first. CASE (not AND/OR, which DuckDB evaluates
 * on every row of a projection) keeps each step to the rows that need it.
 */
const READ_MACROS = [
  `CREATE MACRO lax_tokens(t) AS regexp_matches(t, '[:\\[,][${JSON_WS}]*-?([iI]|[nN][aA])|,[${JSON_WS}]*[\\]}]')`,
  `CREATE MACRO strict_json(t) AS CASE
     WHEN NOT json_valid(t) THEN false
     WHEN NOT lax_tokens(t) THEN true
     ELSE NOT lax_tokens(regexp_replace(t, '"(?:[^"\\\\]|\\\\.)*"', '""', 'g'))
   END`,
];

/**
 * The lines of one source's files, as the contract reads them: `key` (the path under the source root), `line`,
 * `is_doc` and `rec`, the record's JSON text.
 *
 * Files are read whole (read_blob), so line numbers are exact and a file's reading does not depend on the scan's
 * order or parallelism: a file that is one JSON object or array is that document (the array's elements are the
 * records, numbered from 1); anything else is JSON lines, split on LF, each with its physical line number and
 * one trailing CR removed. A file that is not valid UTF-8 is split into lines on its bytes (via DuckDB's \\xHH
 * spelling of a BLOB), and each line is decoded alone, so only its invalid lines are lost (they become an invalid
 * record). A document over the size limit yields no record.
 */
function linesSql(root: string, source: 'song_data' | 'log_data', max: number): string {
  const prefix = root.length + 2; // 1-based position after "<root>/"
  const ws = `' ' || chr(9) || chr(10) || chr(13)`;
  const files = `(SELECT substr(filename, ${prefix}) AS "key", content, try(decode(content)) AS decoded
    FROM read_blob(${lit(`${root}/${source}/**`)}))`;
  const texts = `(SELECT "key",
      CASE WHEN starts_with(decoded, chr(65279)) THEN decoded[2:] ELSE decoded END AS text,
      CASE WHEN decoded IS NULL THEN regexp_replace(content::VARCHAR, '^\\\\xEF\\\\xBB\\\\xBF', '') END AS escaped
    FROM ${files})`;
  const documents = `(SELECT *,
      CASE WHEN text IS NULL THEN false
        WHEN NOT regexp_matches(text, '^[${JSON_WS}]*[\\[{]') THEN false
        ELSE strict_json(text) END AS is_doc
    FROM ${texts})`;
  const lists = `(SELECT "key", is_doc, CASE
        WHEN text IS NULL THEN list_transform(string_split(escaped, '\\x0A'), e -> coalesce(try(decode(e::BLOB)), chr(1)))
        WHEN NOT is_doc THEN string_split(text, chr(10))
        WHEN strlen(trim(text, ${ws})) > ${max} THEN []::VARCHAR[]
        WHEN regexp_matches(text, '^[${JSON_WS}]*[{]') THEN [text]
        ELSE from_json(text, '["JSON"]')::VARCHAR[]
      END AS recs
    FROM ${documents})`;
  const lines = `(SELECT "key", is_doc, unnest(recs) AS rec, generate_subscripts(recs, 1)::BIGINT AS line FROM ${lists})`;
  return `SELECT "key", line, is_doc, CASE WHEN ends_with(rec, chr(13)) THEN rec[:-2] ELSE rec END AS rec FROM ${lines}`;
}

/**
 * The records of a lines table: those that parse (strictly) as JSON objects, within the size limit, as `key`,
 * `line` and `r`, a struct of the named fields as JSON text (NULL when absent). Blank lines, invalid JSON, invalid
 * UTF-8, non-objects and records over the size limit are dropped (they would be rejects).
 */
function recordsSql(lines: string, fields: readonly string[], max: number): string {
  const struct = lit(JSON.stringify(Object.fromEntries(fields.map((f) => [f, 'JSON']))));
  return `(SELECT "key", line, from_json(rec, ${struct}) AS r FROM ${lines}
    WHERE CASE
      WHEN regexp_full_match(rec, '[ \\t\\r]*') THEN false
      WHEN NOT regexp_matches(rec, '^[${JSON_WS}]*[{]') THEN false
      WHEN is_doc THEN true
      WHEN strlen(rec) > ${max} THEN false
      ELSE strict_json(rec) END)`;
}

const SONG_FIELDS = [
  'song_id',
  'title',
  'artist_id',
  'year',
  'duration',
  'artist_name',
  'artist_location',
  'artist_latitude',
  'artist_longitude',
] as const;

const LOG_FIELDS = [
  'ts',
  'page',
  'userId',
  'sessionId',
  'itemInSession',
  'length',
  'firstName',
  'lastName',
  'gender',
  'level',
  'location',
  'userAgent',
  'song',
  'artist',
] as const;

/** The repaired text columns of the two record tables. */
const REPAIRED = {
  song_rec: ['title', 'artist_name', 'artist_location'],
  event: ['first_name', 'last_name', 'location', 'song', 'artist'],
} as const;

/**
 * Text repair by distinct value: the non-ASCII values of every repaired column (a few thousand distinct names,
 * however many rows) go through the three rounds once, in a small table; the records then take the repaired value
 * by a join. Three layered subqueries, one round each, so the round's expression is not copied into itself.
 */
function repairSql(): string[] {
  const candidates = Object.entries(REPAIRED)
    .flatMap(([table, columns]) =>
      columns.map((c) => `SELECT DISTINCT "${c}" AS s FROM ${table}_raw WHERE strlen("${c}") <> length("${c}")`),
    )
    .join('\n      UNION\n      ');
  let fixed = `(${candidates})`;
  for (let round = 0; round < 3; round++)
    fixed = `(SELECT s, repair_round(${round === 0 ? 's' : 'fixed'}) AS fixed FROM ${fixed})`;
  const join = (table: keyof typeof REPAIRED): string => {
    const columns = REPAIRED[table];
    const replace = columns.map((c, i) => `coalesce(m${i}.fixed, t."${c}") AS "${c}"`).join(', ');
    const joins = columns.map((c, i) => `LEFT JOIN repair_map m${i} ON t."${c}" = m${i}.s`).join('\n      ');
    return `CREATE TEMP TABLE ${table} AS SELECT t.* REPLACE (${replace}) FROM ${table}_raw t\n      ${joins}`;
  };
  return [
    `CREATE TEMP TABLE repair_map AS SELECT s, fixed FROM ${fixed} WHERE fixed <> s`,
    join('song_rec'),
    join('event'),
  ];
}

function hasFiles(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true, withFileTypes: true }).some((e) => e.isFile());
}

/** The transformation: typed, validated and repaired records, then the five tables as temp tables. */
function transformSql(root: string, max: number): string[] {
  const songRecords = recordsSql('song_line', SONG_FIELDS, max);
  const logRecords = recordsSql('log_line', LOG_FIELDS, max);

  // Song records: the reject rules as a filter, fields typed; 0 as a year means unknown.
  const songTyped = `(SELECT
      jstr(r.song_id) AS song_id,
      jtext(r.title) AS title_text,
      nullif(jtext(r.title), '') AS title,
      jstr(r.artist_id) AS artist_id,
      nullif(int32(jnum(r."year")), 0) AS "year",
      jnum(r.duration) AS duration,
      jstr(r.artist_name) AS artist_name,
      jstr(r.artist_location) AS artist_location,
      jnum(r.artist_latitude) AS artist_latitude,
      jnum(r.artist_longitude) AS artist_longitude,
      "key", line
    FROM ${songRecords})`;
  const songValid = `(SELECT * EXCLUDE (title_text) FROM ${songTyped}
    WHERE song_id IS NOT NULL AND artist_id IS NOT NULL AND title_text IS NOT NULL AND duration IS NOT NULL)`;

  // Log records: ts truncated (and in the JS date range), page a string; the rest typed or NULL.
  const logTyped = `(SELECT
      trunc(jnum(r.ts)) AS ts,
      jtext(r.page) AS page,
      jstr(r.userId) AS user_id,
      safeint(jnum(r.sessionId)) AS session_id,
      safeint(jnum(r.itemInSession)) AS item,
      jnum(r."length") AS "length",
      jstr(r.firstName) AS first_name,
      jstr(r.lastName) AS last_name,
      jstr(r.gender) AS gender,
      jstr(r."level") AS "level",
      jstr(r."location") AS "location",
      strip_quotes(jstr(r.userAgent)) AS user_agent,
      jstr(r.song) AS song,
      jstr(r.artist) AS artist,
      "key", line
    FROM ${logRecords})`;
  const logValid = `(SELECT * REPLACE (ts::BIGINT AS ts) FROM ${logTyped}
    WHERE ts IS NOT NULL AND abs(ts) <= 8.64e15 AND page IS NOT NULL)`;

  // A source with no files gets an empty lines table (read_blob refuses a glob that matches nothing).
  const empty =
    'SELECT NULL::VARCHAR AS "key", NULL::BIGINT AS line, NULL::BOOLEAN AS is_doc, NULL::VARCHAR AS rec WHERE false';
  const lines = (source: 'song_data' | 'log_data'): string =>
    hasFiles(join(root, source)) ? linesSql(root, source, max) : empty;
  return [
    // The lines first, in a table: a few big log files arrive as one chunk, and the work after the split should
    // run on every thread, not on the one that read that chunk.
    `CREATE TEMP TABLE song_line AS ${lines('song_data')}`,
    `CREATE TEMP TABLE log_line AS ${lines('log_data')}`,
    `CREATE TEMP TABLE song_rec_raw AS SELECT * FROM ${songValid}`,
    `CREATE TEMP TABLE event_raw AS SELECT * FROM ${logValid}`,
    'DROP TABLE song_line',
    'DROP TABLE log_line',
    ...repairSql(),
    'DROP TABLE song_rec_raw',
    'DROP TABLE event_raw',

    // songs: the precedence winner per song_id (fewest missing, smallest key, smallest line).
    `CREATE TEMP TABLE song_win AS
     SELECT * FROM song_rec
     QUALIFY row_number() OVER (PARTITION BY song_id ORDER BY
       (title IS NULL)::INT + ("year" IS NULL)::INT + (artist_name IS NULL)::INT + (artist_location IS NULL)::INT
         + (artist_latitude IS NULL)::INT + (artist_longitude IS NULL)::INT, "key", line) = 1`,
    'CREATE TEMP TABLE t_songs AS SELECT song_id, title, artist_id, "year", duration FROM song_win',

    // artists: the precedence winner per artist_id among all song records, on the artist fields.
    `CREATE TEMP TABLE t_artists AS
     SELECT artist_id, artist_name AS name, artist_location AS "location",
       artist_latitude AS latitude, artist_longitude AS longitude
     FROM song_rec
     QUALIFY row_number() OVER (PARTITION BY artist_id ORDER BY
       (artist_name IS NULL)::INT + (artist_location IS NULL)::INT + (artist_latitude IS NULL)::INT
         + (artist_longitude IS NULL)::INT, "key", line) = 1`,

    // users: each non-empty userId's latest event by ts; ties by precedence.
    `CREATE TEMP TABLE t_users AS
     SELECT user_id, first_name, last_name, gender, "level"
     FROM event
     WHERE user_id IS NOT NULL
     QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY ts DESC,
       (first_name IS NULL)::INT + (last_name IS NULL)::INT + (gender IS NULL)::INT + ("level" IS NULL)::INT,
       "key", line) = 1`,

    // songplays: NextSong events, one per id by precedence.
    `CREATE TEMP TABLE play AS
     SELECT * FROM (
       SELECT left(sha256(concat_ws('|', ts::VARCHAR, coalesce(user_id, ''), coalesce(session_id::VARCHAR, ''),
           coalesce(item::VARCHAR, ''))), 32) AS songplay_id, *
       FROM event WHERE page = 'NextSong')
     QUALIFY row_number() OVER (PARTITION BY songplay_id ORDER BY
       (user_id IS NULL)::INT + ("level" IS NULL)::INT + (song IS NULL)::INT + (artist IS NULL)::INT
         + ("length" IS NULL)::INT + (session_id IS NULL)::INT + ("location" IS NULL)::INT
         + (user_agent IS NULL)::INT,
       "key", line) = 1`,

    // The join: trimmed repaired title and artist name equal, |length − duration| < 0.01; the closest duration
    // wins, then the smallest song_id. Only song winners are candidates. Matched once per distinct
    // (song, artist, length) of the plays (far fewer than plays), then joined back on those values.
    `CREATE TEMP TABLE track_match AS
     WITH track AS (
       SELECT DISTINCT song, artist, "length" FROM play
       WHERE song IS NOT NULL AND artist IS NOT NULL AND "length" IS NOT NULL),
     candidate AS (
       SELECT song_id, artist_id, duration, js_trim(title) AS title, js_trim(artist_name) AS artist_name
       FROM song_win WHERE title IS NOT NULL AND artist_name IS NOT NULL)
     SELECT t.song, t.artist, t."length",
       arg_min(c.song_id, (abs(t."length" - c.duration), c.song_id)) AS song_id,
       arg_min(c.artist_id, (abs(t."length" - c.duration), c.song_id)) AS artist_id
     FROM track t JOIN candidate c
       ON js_trim(t.song) = c.title AND js_trim(t.artist) = c.artist_name AND abs(t."length" - c.duration) < 0.01
     GROUP BY t.song, t.artist, t."length"`,
    `CREATE TEMP TABLE t_songplays AS
     SELECT p.songplay_id, epoch_ms(p.ts)::TIMESTAMP_MS AS start_time, p.user_id, p."level",
       m.song_id, m.artist_id, p.session_id, p."location", p.user_agent
     FROM play p LEFT JOIN track_match m ON p.song = m.song AND p.artist = m.artist AND p."length" = m."length"`,

    // time: one row per distinct start_time, in UTC; ISO week and ISO weekday.
    `CREATE TEMP TABLE t_time AS
     SELECT start_time, hour(start_time)::INTEGER AS "hour", day(start_time)::INTEGER AS "day",
       week(start_time)::INTEGER AS week, month(start_time)::INTEGER AS "month", year(start_time)::INTEGER AS "year",
       isodow(start_time)::INTEGER AS weekday
     FROM (SELECT DISTINCT start_time FROM t_songplays)`,
  ];
}

/** Parquet output: partitioned tables as the pipeline lays them out (partition columns only in the path). */
const OUTPUT: Record<TableName, { select: string; partitionBy?: string }> = {
  songplays: {
    select: `SELECT songplay_id, start_time, user_id, "level", song_id, artist_id, session_id, "location", user_agent,
      year(start_time)::INTEGER AS "year", month(start_time)::INTEGER AS "month" FROM t_songplays`,
    partitionBy: '"year", "month"',
  },
  users: { select: 'SELECT user_id, first_name, last_name, gender, "level" FROM t_users' },
  songs: { select: 'SELECT song_id, title, artist_id, "year", duration FROM t_songs' },
  artists: { select: 'SELECT artist_id, name, "location", latitude, longitude FROM t_artists' },
  time: {
    select: 'SELECT start_time, "hour", "day", week, "month", "year", weekday FROM t_time',
    partitionBy: '"year", "month"',
  },
};

async function connect(threads: number): Promise<DuckDBConnection> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`SET threads = ${Math.max(1, Math.floor(threads))}`);
  // Timestamps are UTC by contract; the machine's zone must not move an hour or a day.
  await db.run("SET TimeZone = 'UTC'");
  // Nothing here depends on row order (precedence uses the exact key and line), so let DuckDB skip keeping it.
  await db.run('SET preserve_insertion_order = false');
  return db;
}

/** Runs the ETL over `source` into `target`; returns the wall time and each table's row count. */
export async function runDuckDbEtl(options: DuckDbEtlOptions): Promise<DuckDbEtlResult> {
  const started = performance.now();
  const root = resolve(options.source);
  const target = resolve(options.target);
  const db = await connect(options.threads ?? availableParallelism());
  try {
    for (const sql of [...MACROS, ...READ_MACROS]) await db.run(sql);
    for (const sql of transformSql(root, options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES)) await db.run(sql);

    const rows = {} as Record<TableName, number>;
    for (const table of TABLE_NAMES) {
      const dir = join(target, table);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const { select, partitionBy } = OUTPUT[table];
      const counted = await db.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM t_${table}`);
      rows[table] = Number(counted.getRowsJS()[0]?.[0] ?? 0);
      if (rows[table] === 0) continue; // like the pipeline: a table with no rows has no files
      const to = partitionBy ? lit(dir) : lit(join(dir, 'data_0.parquet'));
      const partition = partitionBy ? `, PARTITION_BY (${partitionBy}), OVERWRITE_OR_IGNORE true` : '';
      await db.run(`COPY (${select}) TO ${to} (FORMAT parquet, COMPRESSION snappy${partition})`);
    }
    return { ms: performance.now() - started, rows };
  } finally {
    db.closeSync();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Comparing two lakes

/** The contract's columns per table, cast so that both lakes' readers agree; partition columns included. */
const COMPARED: Record<TableName, [name: string, expression: string, type: string][]> = {
  songplays: [
    ['songplay_id', 'songplay_id', 'VARCHAR'],
    ['start_time', 'epoch_ms(start_time)', 'BIGINT'],
    ['user_id', 'user_id', 'VARCHAR'],
    ['level', '"level"', 'VARCHAR'],
    ['song_id', 'song_id', 'VARCHAR'],
    ['artist_id', 'artist_id', 'VARCHAR'],
    ['session_id', 'session_id', 'BIGINT'],
    ['location', '"location"', 'VARCHAR'],
    ['user_agent', 'user_agent', 'VARCHAR'],
    ['year', '"year"', 'INTEGER'],
    ['month', '"month"', 'INTEGER'],
  ],
  users: [
    ['user_id', 'user_id', 'VARCHAR'],
    ['first_name', 'first_name', 'VARCHAR'],
    ['last_name', 'last_name', 'VARCHAR'],
    ['gender', 'gender', 'VARCHAR'],
    ['level', '"level"', 'VARCHAR'],
  ],
  songs: [
    ['song_id', 'song_id', 'VARCHAR'],
    ['title', 'title', 'VARCHAR'],
    ['artist_id', 'artist_id', 'VARCHAR'],
    ['year', '"year"', 'INTEGER'],
    ['duration', 'duration', 'DOUBLE'],
  ],
  artists: [
    ['artist_id', 'artist_id', 'VARCHAR'],
    ['name', 'name', 'VARCHAR'],
    ['location', '"location"', 'VARCHAR'],
    ['latitude', 'latitude', 'DOUBLE'],
    ['longitude', 'longitude', 'DOUBLE'],
  ],
  time: [
    ['start_time', 'epoch_ms(start_time)', 'BIGINT'],
    ['hour', '"hour"', 'INTEGER'],
    ['day', '"day"', 'INTEGER'],
    ['week', 'week', 'INTEGER'],
    ['month', '"month"', 'INTEGER'],
    ['year', '"year"', 'INTEGER'],
    ['weekday', 'weekday', 'INTEGER'],
  ],
};

export interface TableComparison {
  table: string;
  rowsA: number;
  rowsB: number;
  /** Rows of A not in B, counting duplicates (EXCEPT ALL; NULLs compare equal). */
  onlyA: number;
  onlyB: number;
}

function hasParquet(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.parquet'));
}

/** One table of one lake as a relation of the compared columns (an empty one when the table has no files). */
function tableRelation(lake: string, table: TableName): string {
  const columns = COMPARED[table];
  const dir = join(resolve(lake), table);
  if (!hasParquet(dir)) {
    return `SELECT ${columns.map(([name, , type]) => `NULL::${type} AS "${name}"`).join(', ')} WHERE false`;
  }
  const select = columns.map(([name, expression, type]) => `(${expression})::${type} AS "${name}"`).join(', ');
  return `SELECT ${select} FROM read_parquet(${lit(`${dir}/**/*.parquet`)}, hive_partitioning = true)`;
}

/** Compares every table of two lakes row for row: rows only in A and only in B (0 and 0 when equal). */
export async function compareLakes(a: string, b: string): Promise<TableComparison[]> {
  const db = await connect(availableParallelism());
  try {
    const result: TableComparison[] = [];
    for (const table of TABLE_NAMES) {
      await db.run(`CREATE OR REPLACE TEMP TABLE lake_a AS ${tableRelation(a, table)}`);
      await db.run(`CREATE OR REPLACE TEMP TABLE lake_b AS ${tableRelation(b, table)}`);
      const reader = await db.runAndReadAll(`SELECT
        (SELECT count(*) FROM lake_a)::DOUBLE,
        (SELECT count(*) FROM lake_b)::DOUBLE,
        (SELECT count(*) FROM (SELECT * FROM lake_a EXCEPT ALL SELECT * FROM lake_b))::DOUBLE,
        (SELECT count(*) FROM (SELECT * FROM lake_b EXCEPT ALL SELECT * FROM lake_a))::DOUBLE`);
      const [rowsA, rowsB, onlyA, onlyB] = (reader.getRowsJS()[0] ?? []).map(Number);
      result.push({ table, rowsA: rowsA ?? 0, rowsB: rowsB ?? 0, onlyA: onlyA ?? 0, onlyB: onlyB ?? 0 });
    }
    return result;
  } finally {
    db.closeSync();
  }
}
