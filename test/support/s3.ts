/**
 * A real local S3 server (s3rver) in a child process, for the S3 backend's tests. The child runs with
 * --openssl-legacy-provider: s3rver encrypts list continuation tokens with single DES (see NOTES on s3rver).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** A running server; `stop` ends it and removes its files. */
export interface LocalS3 {
  endpoint: string;
  /** Every request, in order, as a pass-through proxy in front of the server saw it. */
  requests: SeenRequest[];
  stop: () => Promise<void>;
}

/** Starts s3rver with the given buckets and points the process's S3 clients at it. */
export async function startS3(buckets: string[]): Promise<LocalS3> {
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
  const proxy = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const upstream = request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => res.destroy(error));
    req.pipe(upstream);
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
    stop: async () => {
      await new Promise((r) => proxy.close(r));
      child.kill();
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
