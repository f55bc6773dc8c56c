/** The bundled sample `npm start` runs on is exactly what the generator makes with the options it records. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate } from '../../cli/generate.ts';
import { SAMPLE_OPTIONS } from '../../cli/sample-options.ts';
import { tempDir } from '../support/run.ts';

const SAMPLE = decodeURIComponent(new URL('../../cli/sample', import.meta.url).pathname);

/** File → SHA-256 of its bytes, for the input folders of a tree. */
function digest(root: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(root, { recursive: true })
      .map(String)
      .filter((f) => /^(song|log)_data\/.+\.json$/.test(f))
      .sort()
      .map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(root, f)))
          .digest('hex'),
      ]),
  );
}

test('cli/sample equals the generator output for SAMPLE_OPTIONS', async () => {
  const tmp = tempDir('sample');
  try {
    const summary = await generate({ ...SAMPLE_OPTIONS, out: tmp.dir });
    const expected = digest(tmp.dir);
    assert.equal(Object.keys(expected).length, summary.songFiles + summary.logFiles);
    assert.deepEqual(digest(SAMPLE), expected);
  } finally {
    tmp.remove();
  }
});
