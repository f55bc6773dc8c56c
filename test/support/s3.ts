/**
 * A real local S3 server (s3rver) in a child process, for the S3 backend's tests. The child runs with
 * --openssl-legacy-provider: s3rver encrypts list continuation tokens with single DES (see NOTES on s3rver).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { mulberry32 } from '../../cli/generate.ts';

const CHILD = `
const S3rver = require('s3rver');
const [dir, buckets] = process.argv.slice(1);
new S3rver({ port: 0, address: '127.0.0.1', directory: dir, silent: true,
  configureBuckets: buckets.split(',').map((name) => ({ name })) })
  .run().then(({ port }) => process.stdout.write('PORT ' + port + '\\n'));
`;

/** One request the server saw. */
export interface SeenRequest {
  method: string;
  url: string;
}

/** Faults the proxy answers with instead of forwarding, on a seeded share of requests. */
export interface Faults {
  /** Share of requests that fail (0–1). */
  rate: number;
  seed: number;
  /** `503` SlowDown, `500` InternalError, `reset` the connection dropped before any answer. */
  kinds: readonly ('503' | '500' | 'reset')[];
}

/** A running server; `stop` ends it and removes its files. */
export interface LocalS3 {
  endpoint: string;
  /** Every request, in order, as a pass-through proxy in front of the server saw it. */
  requests: SeenRequest[];
  /** Starts (or, with undefined, stops) failing a share of requests. */
  setFaults: (faults: Faults | undefined) => void;
  /** Faults injected so far, by kind. */
  injected: Record<'503' | '500' | 'reset', number>;
  stop: () => Promise<void>;
}

/** How the proxy in front of s3rver behaves. */
export interface S3Options {
  /**
   * Honour `If-None-Match: *` and `If-Match` on PUT, as S3 does (s3rver ignores them): checked and forwarded under
   * one lock per key. Default true; false gives plain s3rver, to show a lease test fails without it.
   */
  conditional?: boolean;
}

/** Starts s3rver with the given buckets and points the process's S3 clients at it. */
export async function startS3(buckets: string[], options: S3Options = {}): Promise<LocalS3> {
  const conditional = options.conditional ?? true;
  const dir = mkdtempSync(join(tmpdir(), 'sparkify-s3rver-'));
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD, dir, buckets.join(',')], {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /PORT (\d+)/.exec(seen);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  // A pass-through proxy in front, so tests can see what the pipeline asked of S3 (e.g. multipart parts).
  const requests: SeenRequest[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse): Promise<void> =>
    new Promise((done) => {
      const upstream = request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          // An answer s3rver cuts off ends with 'close' and no 'end': the client sees the cut (its SDK retries)
          // instead of waiting for ever, and the key's lock is released.
          answer.on('close', () => {
            if (!answer.complete) res.destroy();
            done();
          });
        },
      );
      upstream.on('error', (error) => {
        res.destroy(error);
        done();
      });
      req.pipe(upstream);
    });
  const locks = new Map<string, Promise<void>>();
  const injected = { '503': 0, '500': 0, reset: 0 };
  let faults: Faults | undefined;
  let random = mulberry32(0);
  const proxy = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    if (faults && random() < faults.rate) {
      const kind = faults.kinds[Math.floor(random() * faults.kinds.length)] ?? '503';
      injected[kind]++;
      req.resume();
      if (kind === 'reset') {
        req.socket.destroy();
        return;
      }
      const [code, message] =
        kind === '503'
          ? ['SlowDown', 'Please reduce your request rate.']
          : ['InternalError', 'We encountered an internal error. Please try again.'];
      res.writeHead(Number(kind), { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
      return;
    }
    const ifNoneMatch = req.headers['if-none-match'];
    const ifMatch = req.headers['if-match'];
    if (!conditional || req.method !== 'PUT' || (ifNoneMatch === undefined && ifMatch === undefined)) {
      void forward(req, res);
      return;
    }
    // Check and write under one lock per key, so two conditional writers cannot both pass.
    const path = (req.url ?? '').split('?')[0] as string;
    const before = locks.get(path) ?? Promise.resolve();
    const turn = before
      .then(async () => {
        const etag = await headEtag(port, path);
        const met = ifNoneMatch === '*' ? etag === undefined : etag !== undefined && unquote(String(ifMatch)) === etag;
        if (met) return forward(req, res);
        req.resume();
        res.writeHead(412, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>',
        );
      })
      // A failed check fails its own request only: the writers queued behind it still get their turn.
      .catch((error: Error) => {
        res.destroy(error);
      });
    locks.set(path, turn);
    void turn.finally(() => {
      if (locks.get(path) === turn) locks.delete(path);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  // Dummy credentials for the emulator only; it checks no signature.
  process.env.AWS_ENDPOINT_URL_S3 = endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  process.env.AWS_REGION = 'us-east-1';
  return {
    endpoint,
    requests,
    injected,
    setFaults: (f) => {
      faults = f;
      random = mulberry32(f?.seed ?? 0);
    },
    stop: async () => {
      await new Promise((r) => proxy.close(r));
      child.kill();
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const unquote = (etag: string): string => etag.replaceAll('"', '');

/** The object's ETag on the server behind the proxy, or undefined when there is none. */
function headEtag(port: number, path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'HEAD', path }, (answer) => {
      answer.resume();
      const etag = answer.headers.etag;
      resolve(answer.statusCode === 200 && etag ? unquote(etag) : undefined);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A server with buckets `raw` and `lake` for the enclosing describe (started before its tests, stopped after);
 * each call of the result gives a fresh source and lake in it, named `<name>-<n>`.
 */
export function localS3Locations(name: string, options: S3Options = {}): () => { source: string; lake: string } {
  let s3: LocalS3 | undefined;
  let n = 0;
  before(async () => {
    s3 = await startS3(['raw', 'lake'], options);
  });
  after(async () => {
    await s3?.stop();
  });
  return () => {
    n++;
    return { source: `s3://raw/${name}-${n}`, lake: `s3://lake/${name}-${n}` };
  };
}
