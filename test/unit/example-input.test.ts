/** statemachine/example-input.json, the documented console input, is a valid execution input. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseRunInput, resolveSettings } from '../../shared/config.ts';

test('the example input parses and resolves to the settings it names', () => {
  const raw = JSON.parse(readFileSync(new URL('../../statemachine/example-input.json', import.meta.url), 'utf8'));
  const input = parseRunInput(raw);
  assert.match(input.source, /^s3:\/\//);
  assert.match(input.target, /^s3:\/\//);
  const settings = resolveSettings(input.settings);
  assert.equal(settings.buckets, 16);
  assert.equal(settings.rejectLimit, 0.05);
  assert.deepEqual(settings.partitions.songplays, ['year', 'month']);
});
