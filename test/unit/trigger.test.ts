/** The S3-event path's pure part: queued EventBridge events → the keys that arrived → executions to start. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { arrivals, executionsFor, KEYS_PER_EXECUTION } from '../../shared/trigger.ts';
import { objectCreated } from '../support/s3-events.ts';

const BUCKET = 'sparkify-raw';

describe('arrivals', () => {
  test('distinct keys under the source prefixes, in order; everything else ignored with its reason', () => {
    const records = [
      objectCreated('log_data/2018/11/b.json'),
      objectCreated('song_data/A/B/C/TRA.json'),
      objectCreated('log_data/2018/11/b.json', '0064D3901D00059242', BUCKET, 'again'),
      objectCreated('log_data/2018/11/a.json'),
      objectCreated('other/x.json'),
      objectCreated('log_data/2018/11/'),
      objectCreated('log_data/2018/11/c.json', '1', 'someone-else'),
      { messageId: 'junk', body: 'not json' },
      { messageId: 'test', body: JSON.stringify({ source: 'aws.events', 'detail-type': 'Scheduled Event' }) },
    ];
    const found = arrivals(records, BUCKET);
    assert.deepEqual(found.keys, ['log_data/2018/11/a.json', 'log_data/2018/11/b.json', 'song_data/A/B/C/TRA.json']);
    assert.deepEqual(
      found.ignored.map((i) => [i.messageId, i.why]),
      [
        ['other/x.json', 'other/x.json is not an object under song_data/ or log_data/'],
        ['log_data/2018/11/', 'log_data/2018/11/ is not an object under song_data/ or log_data/'],
        ['log_data/2018/11/c.json', 'bucket someone-else is not sparkify-raw'],
        ['junk', 'not JSON'],
        ['test', 'not an S3 Object Created event'],
      ],
    );
  });

  test('two writes of a key in one batch: the newer sequencer is kept (sequencers of unequal length compare padded)', () => {
    const found = arrivals(
      [objectCreated('log_data/a.json', '0064D39'), objectCreated('log_data/a.json', '0064D3901D', BUCKET, 'm2')],
      BUCKET,
    );
    assert.deepEqual(found.sequencers, { 'log_data/a.json': '0064D3901D' });
  });
});

describe('executionsFor', () => {
  const keys = Array.from({ length: 2500 }, (_, i) => `log_data/2018/11/f-${String(i).padStart(5, '0')}.json`);
  const batch = arrivals(
    keys.map((k) => objectCreated(k)),
    BUCKET,
  );

  test('1,000 keys per execution, in key order, with the run input the state machine takes', () => {
    const runs = executionsFor(batch, 's3://sparkify-raw', 's3://sparkify-lake');
    assert.deepEqual(
      runs.map((r) => r.input.keys.length),
      [KEYS_PER_EXECUTION, KEYS_PER_EXECUTION, 500],
    );
    assert.deepEqual(
      runs.flatMap((r) => r.input.keys),
      keys,
    );
    for (const r of runs) {
      assert.equal(r.input.source, 's3://sparkify-raw');
      assert.equal(r.input.target, 's3://sparkify-lake');
      assert.match(r.name, /^s3-[0-9a-f]{64}$/, 'a valid execution name (≤ 80 characters)');
      assert.ok(Buffer.byteLength(JSON.stringify(r.input)) < 256 * 1024, 'the input fits Step Functions');
    }
    assert.equal(new Set(runs.map((r) => r.name)).size, 3);
  });

  test('a redelivered batch gives the same names; a new write of a key gives another', () => {
    const names = (b: ReturnType<typeof arrivals>) => executionsFor(b, 's3://r', 's3://l').map((r) => r.name);
    assert.deepEqual(
      names(
        arrivals(
          keys.map((k) => objectCreated(k)),
          BUCKET,
        ),
      ),
      names(batch),
    );
    const rewritten = arrivals(
      keys.map((k, i) => objectCreated(k, i === 0 ? '0064D3901D00059243' : '0064D3901D00059242')),
      BUCKET,
    );
    const [first, ...rest] = names(rewritten);
    assert.notEqual(first, names(batch)[0]);
    assert.deepEqual(rest, names(batch).slice(1));
  });

  test('no keys, no executions', () => {
    assert.deepEqual(executionsFor(arrivals([], BUCKET), 's3://r', 's3://l'), []);
  });
});
