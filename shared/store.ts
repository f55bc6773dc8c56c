/**
 * The one module that touches storage. An ObjectStore is rooted at a location (a local directory or
 * `s3://bucket/prefix`) and speaks in keys relative to that root; the core never knows which backend it has.
 */
import {
  closeSync,
  createReadStream,
  type Dirent,
  openSync,
  readdirSync,
  readSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { link, mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, EtlError, StorageError, TransientError } from './errors.ts';

/** One listed object. */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Changes when the content changes (S3 ETag; size and mtime on the filesystem). */
  etag: string;
}

/** Where an object lives in S3 terms: what a Distributed Map's ItemReader is given. */
export interface ObjectLocation {
  Bucket: string;
  Key: string;
}

/** Requests a store made (S3: each API call, whatever its retries), and the retries the S3 client made. */
export interface StoreUsage {
  get: number;
  put: number;
  list: number;
  delete: number;
  retries: number;
}

/** A fresh, empty usage. */
export const noUsage = (): StoreUsage => ({ get: 0, put: 0, list: 0, delete: 0, retries: 0 });

/** Adds usages together. */
export function addUsage(...all: (StoreUsage | undefined)[]): StoreUsage {
  const out = noUsage();
  for (const u of all) for (const k of Object.keys(out) as (keyof StoreUsage)[]) out[k] += u?.[k] ?? 0;
  return out;
}

/** Storage as the pipeline sees it. */
export interface ObjectStore {
  /** The root this store was opened on. */
  readonly uri: string;
  /** What this store has asked of its backend so far (for the run report's retries and cost estimate). */
  readonly usage: StoreUsage;
  /** Every object under a prefix, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** A whole object. */
  get(key: string): Promise<Uint8Array>;
  /** An object as a stream of chunks, for objects that must not be held whole. */
  stream(key: string): AsyncIterable<Uint8Array>;
  /** Writes an object whole; readers never see a partial object. */
  put(key: string, body: Uint8Array | string): Promise<void>;
  /** Removes objects; missing ones are fine. */
  delete(keys: readonly string[]): Promise<void>;
  /** An object's size and etag, or undefined when there is none. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Writes only when no object has the key (S3 `If-None-Match: *`, exclusive create on disk); false when one does. */
  create(key: string, body: Uint8Array | string): Promise<boolean>;
  /** Replaces an object only while its etag is still `etag` (S3 `If-Match`); false when it changed or is gone. */
  replace(key: string, body: Uint8Array | string, etag: string): Promise<boolean>;
  /** The object's bucket and full key. */
  locate(key: string): ObjectLocation;
}

/** Opens a store on a directory path, `file://` URL or `s3://bucket/prefix`. */
export function openStore(uri: string): ObjectStore {
  if (uri.startsWith('s3://')) {
    const rest = uri.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`bad S3 bucket name in ${uri}`);
    let prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (prefix && !prefix.endsWith('/')) prefix += '/';
    return new S3Store(uri, bucket, prefix);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) {
    throw new ConfigError(`unsupported location ${uri}: use a directory or s3://bucket/prefix`);
  }
  const root = uri.startsWith('file://') ? fileURLToPath(uri) : resolve(uri);
  const latency = simulatedLatency(process.env);
  return latency ? new LatencyStore(new FsStore(root), latency) : new FsStore(root);
}

/** S3-like request latency a local store adds (benchmarks: what the cloud's per-request wait costs a run). */
export interface SimulatedLatency {
  /** Wait before the first byte of every request (S3 GETs of small objects: tens of ms). */
  firstByteMs: number;
  /** Transfer rate of one request, in MB/s (10^6 bytes); 0 = unlimited. */
  megabytesPerSecond: number;
}

/**
 * Reads SPARKIFY_SIMULATE_LATENCY_MS and SPARKIFY_SIMULATE_MBPS. Local directories only: it is an environment
 * setting, so worker threads get it too, and a run's settings (which also go to AWS) never carry it.
 */
export function simulatedLatency(env: NodeJS.ProcessEnv): SimulatedLatency | undefined {
  const ms = env.SPARKIFY_SIMULATE_LATENCY_MS;
  const mbps = env.SPARKIFY_SIMULATE_MBPS;
  if ((ms === undefined || ms === '') && (mbps === undefined || mbps === '')) return undefined;
  const firstByteMs = Number(ms ?? 0);
  const megabytesPerSecond = Number(mbps ?? 0);
  if (!(firstByteMs >= 0) || !(megabytesPerSecond >= 0)) {
    throw new ConfigError(
      `SPARKIFY_SIMULATE_LATENCY_MS and SPARKIFY_SIMULATE_MBPS take numbers ≥ 0, got "${ms}" and "${mbps}"`,
    );
  }
  return { firstByteMs, megabytesPerSecond };
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** A store whose every request waits as an S3 request would: first-byte latency, then its bytes' transfer time. */
export class LatencyStore implements ObjectStore {
  readonly uri: string;
  constructor(
    private readonly inner: ObjectStore,
    private readonly latency: SimulatedLatency,
    private readonly wait: (ms: number) => Promise<void> = sleep,
  ) {
    this.uri = inner.uri;
  }
  get usage(): StoreUsage {
    return this.inner.usage;
  }
  private transfer(bytes: number): Promise<void> {
    const rate = this.latency.megabytesPerSecond;
    return rate > 0 ? this.wait((bytes / (rate * 1e6)) * 1000) : Promise.resolve();
  }
  private request(): Promise<void> {
    return this.wait(this.latency.firstByteMs);
  }
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let listed = 0;
    for await (const o of this.inner.list(prefix)) {
      if (listed++ % 1000 === 0) await this.request(); // a LIST page holds 1,000 keys
      yield o;
    }
    if (listed === 0) await this.request();
  }
  async get(key: string): Promise<Uint8Array> {
    await this.request();
    const body = await this.inner.get(key);
    await this.transfer(body.length);
    return body;
  }
  async *stream(key: string): AsyncIterable<Uint8Array> {
    await this.request();
    for await (const chunk of this.inner.stream(key)) {
      await this.transfer(chunk.length);
      yield chunk;
    }
  }
  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.request();
    await this.transfer(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
    await this.inner.put(key, body);
  }
  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) await this.request(); // DeleteObjects takes 1,000 keys
    await this.inner.delete(keys);
  }
  async head(key: string): Promise<ObjectInfo | undefined> {
    await this.request();
    return this.inner.head(key);
  }
  async create(key: string, body: Uint8Array | string): Promise<boolean> {
    await this.request();
    return this.inner.create(key, body);
  }
  async replace(key: string, body: Uint8Array | string, etag: string): Promise<boolean> {
    await this.request();
    return this.inner.replace(key, body, etag);
  }
  locate(key: string): ObjectLocation {
    return this.inner.locate(key);
  }
}

/** Opens the store an ItemReader location points into (the local runner's stand-in for Step Functions). */
export function openLocation(location: ObjectLocation): { store: ObjectStore; key: string } {
  const root = location.Bucket.startsWith('file://') ? location.Bucket : `s3://${location.Bucket}`;
  return { store: openStore(root), key: location.Key };
}

/** Concatenates chunks. */
export async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const c of chunks) {
    parts.push(c);
    length += c.length;
  }
  return Buffer.concat(parts, length);
}

/** Read size of streamed files. */
const STREAM_CHUNK = 1 << 20;

/** Files shorter than this are read whole, synchronously. */
const SMALL_FILE = 1 << 16;
const smallRead = Buffer.allocUnsafe(SMALL_FILE);

/** A file shorter than SMALL_FILE bytes, whole; undefined when it is not that short. */
function readSmall(path: string): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, smallRead, 0, SMALL_FILE, 0);
    return n < SMALL_FILE ? Buffer.from(smallRead.subarray(0, n)) : undefined;
  } finally {
    closeSync(fd);
  }
}

class FsStore implements ObjectStore {
  readonly uri: string;
  /** Counted as S3 would bill the same calls (a listing per 1,000 keys), for the local run's cost estimate. */
  readonly usage = noUsage();
  private readonly madeDirs = new Set<string>(); // directories known to exist: one mkdir each, not one per put
  constructor(private readonly root: string) {
    this.uri = root;
  }

  private path(key: string): string {
    const full = resolve(this.root, key);
    // A key must never reach outside the root (`../` in a key is an input error, not a path to follow).
    if (full !== this.root && !full.startsWith(this.root + sep)) throw new ConfigError(`key escapes the store: ${key}`);
    return full;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // Walk from the deepest directory the prefix names, then filter by the full prefix.
    const cut = prefix.lastIndexOf('/');
    const start = this.path(cut < 0 ? '.' : prefix.slice(0, cut));
    const found: ObjectInfo[] = [];
    await this.walk(start, prefix, found);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.usage.list += Math.max(1, Math.ceil(found.length / 1000));
    yield* found;
  }

  private async walk(dir: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    // Synchronous calls: one directory entry costs microseconds on a local disk, where an await per stat queues
    // behind libuv's four threads.
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return;
      throw new StorageError(`cannot list ${dir}`, { cause: error });
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        await this.walk(full, prefix, out);
      } else if (entry.isFile() && !entry.name.includes('.tmp-')) {
        const key = relative(this.root, full).split(sep).join('/');
        if (!key.startsWith(prefix)) continue;
        const s = statSync(full, { bigint: true });
        out.push({ key, size: Number(s.size), etag: fileEtag(s) });
      }
    }
  }

  async get(key: string): Promise<Uint8Array> {
    this.usage.get++;
    try {
      return await readFile(this.path(key));
    } catch (error) {
      throw new StorageError(`cannot read ${this.describe(key)}`, { cause: error });
    }
  }

  async *stream(key: string): AsyncIterable<Uint8Array> {
    const full = this.path(key);
    this.usage.get++;
    try {
      // Small objects (most song files) in one synchronous read: a stream would allocate a whole chunk buffer for
      // each, and an async read costs four trips through libuv's thread pool per file. Open, read, close: a file
      // that fills the read is streamed from its start instead (14,345 song files: 124 → 74 ms without a stat first).
      const small = readSmall(full);
      if (small) {
        yield small;
        return;
      }
      yield* createReadStream(full, { highWaterMark: STREAM_CHUNK }) as AsyncIterable<Buffer>;
    } catch (error) {
      throw new StorageError(`cannot read ${this.describe(key)}`, { cause: error });
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    // Write beside, then rename: a reader never sees half a file, a killed writer leaves only a temp file.
    await this.writeBeside(key, body, (temp, full) => rename(temp, full));
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.usage.list++; // S3 answers it with a one-key listing
    try {
      const s = await stat(this.path(key), { bigint: true });
      return s.isFile() ? { key, size: Number(s.size), etag: fileEtag(s) } : undefined;
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
      throw new StorageError(`cannot stat ${this.describe(key)}`, { cause: error });
    }
  }

  async create(key: string, body: Uint8Array | string): Promise<boolean> {
    // link() fails when the name exists: an exclusive create that still never shows a partial file.
    let created = true;
    await this.writeBeside(key, body, async (temp, full) => {
      try {
        await link(temp, full);
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
        created = false;
      }
      await rm(temp, { force: true });
    });
    return created;
  }

  async replace(key: string, body: Uint8Array | string, etag: string): Promise<boolean> {
    // Compare and swap under a lock directory (mkdir is exclusive); a lock left by a killed process goes stale.
    const lock = `${this.path(key)}.swap-lock`;
    try {
      await mkdir(lock);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw new StorageError(`cannot lock ${this.describe(key)}`, { cause: error });
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > STALE_LOCK_MS) await rmdir(lock).catch(() => undefined);
      return false;
    }
    try {
      if ((await this.head(key))?.etag !== etag) return false;
      await this.put(key, body);
      return true;
    } finally {
      await rmdir(lock).catch(() => undefined);
    }
  }

  private async writeBeside(
    key: string,
    body: Uint8Array | string,
    place: (temp: string, full: string) => Promise<void>,
  ): Promise<void> {
    const full = this.path(key);
    this.usage.put++;
    // Hidden (a leading dot): Athena, Hive, Spark and the Parquet globs skip it if a killed writer leaves it behind.
    const temp = join(dirname(full), `.${basename(full)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      const dir = dirname(full);
      if (!this.madeDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        this.madeDirs.add(dir);
      }
      await writeFile(temp, body);
      await place(temp, full);
    } catch (error) {
      await rm(temp, { force: true });
      throw new StorageError(`cannot write ${this.describe(key)}`, { cause: error });
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.usage.delete += Math.ceil(keys.length / 1000); // one DeleteObjects per 1,000 keys
    const parents = new Set<string>();
    for (const key of keys) {
      const full = this.path(key);
      // Synchronous, and only a folder that lost a file is pruned: deleting keys that are not there (Commit asks
      // for every object it read) then costs a failed unlink each, not a thread-pool trip and an rmdir.
      try {
        unlinkSync(full);
        parents.add(dirname(full));
      } catch (error) {
        if (!isErrno(error, 'ENOENT') && !isErrno(error, 'ENOTDIR')) {
          throw new StorageError(`cannot delete ${this.describe(key)}`, { cause: error });
        }
      }
    }
    this.madeDirs.clear(); // pruning may remove any of them
    // S3 has no folders: prune the ones left empty, so a directory listing looks like the bucket would.
    for (const dir of [...parents].sort((a, b) => b.length - a.length)) await this.pruneEmpty(dir);
  }

  private async pruneEmpty(dir: string): Promise<void> {
    for (let d = dir; d !== this.root && d.startsWith(this.root + sep); d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
    }
  }

  locate(key: string): ObjectLocation {
    return { Bucket: `file://${this.root}`, Key: key };
  }

  private describe(key: string): string {
    return isAbsolute(key) ? key : join(this.root, key);
  }
}

/** A swap lock older than this was left by a killed process (a swap takes milliseconds). */
const STALE_LOCK_MS = 30_000;

/** The filesystem's stand-in for an ETag: size and modification time in nanoseconds. */
const fileEtag = (s: { size: bigint; mtimeNs: bigint }): string => `${s.size}-${s.mtimeNs}`;

/**
 * Objects larger than this go up in parts of this size (S3's minimum part is 5 MiB). Read once from
 * SPARKIFY_S3_PART_BYTES, default 16 MiB.
 */
export const MULTIPART_BYTES = partBytes(process.env.SPARKIFY_S3_PART_BYTES);

function partBytes(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 16 * 1024 * 1024;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 5 * 1024 * 1024) {
    throw new ConfigError(`SPARKIFY_S3_PART_BYTES must be a whole number of bytes ≥ 5 MiB (5242880), got "${raw}"`);
  }
  return n;
}

type S3Sdk = typeof import('@aws-sdk/client-s3');
let s3Sdk: Promise<S3Sdk> | undefined;
/** The SDK once loaded (an S3 error can only come after). */
let s3Loaded: S3Sdk | undefined;
const s3Clients = new Map<string, S3Client>();

/**
 * The SDK and one client per endpoint, created once: `AWS_ENDPOINT_URL_S3` points everything at an S3-compatible
 * server. The SDK is loaded on first use: a run on local folders never needs it (90 ms per thread).
 */
async function s3(): Promise<{ sdk: S3Sdk; client: S3Client }> {
  s3Sdk ??= import('@aws-sdk/client-s3');
  const sdk = await s3Sdk;
  s3Loaded = sdk;
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? '';
  let client = s3Clients.get(endpoint);
  if (!client) {
    client = new sdk.S3Client({
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      // Checksums only when S3 requires them: flexible checksums corrupt streamed bodies on some S3-compatible servers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 5,
    });
    s3Clients.set(endpoint, client);
  }
  return { sdk, client };
}

class S3Store implements ObjectStore {
  readonly usage = noUsage();
  constructor(
    readonly uri: string,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.call(`list s3://${this.bucket}/${this.prefix}${prefix}`, ({ sdk, client }) =>
        client.send(
          new sdk.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0, etag: (o.ETag ?? '').replaceAll('"', '') };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async get(key: string): Promise<Uint8Array> {
    return readAll(this.stream(key));
  }

  async *stream(key: string): AsyncIterable<Uint8Array> {
    const where = `s3://${this.bucket}/${this.prefix}${key}`;
    const out = await this.call(`read ${where}`, ({ sdk, client }) =>
      client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key })),
    );
    if (!out.Body) throw new StorageError(`empty response reading ${where}`);
    yield* out.Body as AsyncIterable<Uint8Array>;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const where = `write s3://${this.bucket}/${this.prefix}${key}`;
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    if (bytes.length <= MULTIPART_BYTES) {
      await this.call(where, ({ sdk, client }) =>
        client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: bytes })),
      );
      return;
    }
    // Large objects in parts: a failed part is retried alone, and nothing is visible until Complete.
    const { sdk, client } = await s3();
    const target = { Bucket: this.bucket, Key: this.prefix + key };
    const { UploadId } = await this.call(where, () => client.send(new sdk.CreateMultipartUploadCommand(target)));
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (let offset = 0, number = 1; offset < bytes.length; offset += MULTIPART_BYTES, number++) {
        const part = bytes.subarray(offset, offset + MULTIPART_BYTES);
        const { ETag } = await this.call(where, () =>
          client.send(new sdk.UploadPartCommand({ ...target, UploadId, PartNumber: number, Body: part })),
        );
        parts.push({ ETag: ETag ?? '', PartNumber: number });
      }
      await this.call(where, () =>
        client.send(new sdk.CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } })),
      );
    } catch (error) {
      await client.send(new sdk.AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => undefined); // the bucket's lifecycle rule removes what an abort leaves
      throw error;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((k) => ({ Key: this.prefix + k }));
      await this.call(`delete in s3://${this.bucket}/${this.prefix}`, ({ sdk, client }) =>
        client.send(new sdk.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } })),
      );
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    // A one-key listing, not HeadObject: a role with list rights on the prefix then learns "missing" (HeadObject
    // answers 403 instead of 404 to a role that may not list the whole bucket), and the roles need no more.
    for await (const o of this.list(key)) return o.key === key ? o : undefined;
    return undefined;
  }

  async create(key: string, body: Uint8Array | string): Promise<boolean> {
    return this.conditionalPut(key, body, { IfNoneMatch: '*' });
  }

  async replace(key: string, body: Uint8Array | string, etag: string): Promise<boolean> {
    return this.conditionalPut(key, body, { IfMatch: `"${etag}"` });
  }

  /** A small object written under a condition: 412 (not met) and 409 (a concurrent conditional write) are "no". */
  private async conditionalPut(
    key: string,
    body: Uint8Array | string,
    condition: { IfNoneMatch: string } | { IfMatch: string },
  ): Promise<boolean> {
    try {
      await this.call(`write s3://${this.bucket}/${this.prefix}${key}`, ({ sdk, client }) =>
        client.send(
          new sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: body, ...condition }),
        ),
      );
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409) return false;
      throw error;
    }
  }

  locate(key: string): ObjectLocation {
    return { Bucket: this.bucket, Key: this.prefix + key };
  }

  /**
   * Counts the request and the client's retries of it; classifies failures: throttling and network faults are
   * transient, the rest are permanent.
   */
  private async call<T>(what: string, fn: (s3: { sdk: S3Sdk; client: S3Client }) => Promise<T>): Promise<T> {
    const kind = what.startsWith('list')
      ? 'list'
      : what.startsWith('delete')
        ? 'delete'
        : what.startsWith('write')
          ? 'put'
          : 'get';
    this.usage[kind]++;
    try {
      const out = await fn(await s3());
      this.usage.retries += retriesOf(out);
      return out;
    } catch (error) {
      this.usage.retries += retriesOf(error);
      const status = httpStatus(error);
      const code = (error as { code?: string; name?: string }).code ?? (error as Error).name;
      const transient =
        (status !== undefined && (status >= 500 || status === 429)) ||
        [
          'SlowDown',
          'ThrottlingException',
          'RequestTimeout',
          'ECONNRESET',
          'ETIMEDOUT',
          'EPIPE',
          'TimeoutError',
        ].includes(code);
      const Kind = transient ? TransientError : StorageError;
      throw new Kind(`cannot ${what}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Attempts beyond the first the SDK made for a response or an error (`$metadata.attempts`). */
function retriesOf(value: unknown): number {
  const attempts = (value as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 1 ? attempts - 1 : 0;
}

/** The HTTP status of an answer S3 gave (an S3ServiceException's; the SDK's own errors have none). */
function httpStatus(error: unknown): number | undefined {
  if (!(s3Loaded && error instanceof s3Loaded.S3ServiceException)) return undefined;
  return error.$metadata.httpStatusCode;
}

/** The HTTP status behind an S3 error, also when it was wrapped by `call`. */
function statusOf(error: unknown): number | undefined {
  return httpStatus(error instanceof EtlError && error.cause !== undefined ? error.cause : error);
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
