/** cli/progress.ts: the terminal's progress line counts invocations done of total per stage. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressTracker } from '../../cli/progress.ts';

test('counts map batches and reduce buckets done of total, as the runner reports them', () => {
  const tracker = new ProgressTracker();
  assert.equal(tracker.line(), 'map 0/?  dimensions 0/?  facts 0/?  commit 0/1');
  tracker.update({ kind: 'done', state: 'Plan', result: { buckets: [0, 1, 2, 3] } });
  tracker.update({ kind: 'started', state: 'MapShards', items: 10 });
  assert.equal(tracker.line(), 'map 0/10  dimensions 0/4  facts 0/4  commit 0/1');
  for (let i = 0; i < 3; i++) tracker.update({ kind: 'done', state: 'MapShard', result: {} });
  tracker.update({ kind: 'done', state: 'ReduceDimensionsBucket', result: {} });
  assert.equal(tracker.line(), 'map 3/10  dimensions 1/4  facts 0/4  commit 0/1');
  for (let i = 0; i < 4; i++) tracker.update({ kind: 'done', state: 'ReduceFactsBucket', result: {} });
  tracker.update({ kind: 'done', state: 'Commit', result: {} });
  tracker.update({ kind: 'done', state: 'SomethingElse', result: {} });
  assert.equal(tracker.line(), 'map 3/10  dimensions 1/4  facts 4/4  commit 1/1');
});
