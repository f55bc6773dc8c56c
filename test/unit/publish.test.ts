/** The publish protocol on its own: pointers flip per table; an interrupted publish is rolled back or finished. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TABLES } from '../../shared/config.ts';
import { publishRecordKey, tableFileKey } from '../../shared/keys.ts';
import { currentVersion, type LakeVersion, publish, recoverPublish } from '../../shared/publish.ts';
import { openStore } from '../../shared/store.ts';
import { tempDir } from '../support/run.ts';

/** A version of run `runId`: one file per table, written to the store. */
async function version(store: ReturnType<typeof openStore>, runId: string): Promise<LakeVersion> {
  const tables = {} as LakeVersion['tables'];
  for (const t of TABLES) {
    const key = tableFileKey(t, '', runId, 0);
    await store.put(key, `${t} of ${runId}`);
    tables[t] = { table: t, runId, files: [{ key, rows: 1, bytes: 10 }] };
  }
  return { tables, state: { runId, buckets: 4 } };
}

const dieAfter = (step: string) => (s: string) => {
  if (s === step) throw new Error(`died after ${s}`);
};

async function files(store: ReturnType<typeof openStore>): Promise<string[]> {
  const out: string[] = [];
  for (const t of TABLES) for await (const o of store.list(`${t}/`)) out.push(o.key);
  return out.sort();
}

describe('publish', () => {
  test('flips every pointer and leaves only the new files', async () => {
    const tmp = tempDir('publish');
    try {
      const store = openStore(tmp.dir);
      await publish(store, 'run-a', await version(store, 'run-a'));
      const b = await version(store, 'run-b');
      const replaced = await publish(store, 'run-b', b);
      assert.equal(replaced.state?.runId, 'run-a');
      assert.deepEqual(await currentVersion(store), b);
      assert.deepEqual(await files(store), TABLES.map((t) => tableFileKey(t, '', 'run-b', 0)).sort());
      assert.equal(await store.head(publishRecordKey), undefined, 'no record left');
    } finally {
      tmp.remove();
    }
  });

  test('a publish that died while flipping is rolled back: the previous version and its files', async () => {
    const tmp = tempDir('publish');
    try {
      const store = openStore(tmp.dir);
      const a = await version(store, 'run-a');
      await publish(store, 'run-a', a);
      await assert.rejects(publish(store, 'run-b', await version(store, 'run-b'), dieAfter('flipped users')));
      assert.equal((await currentVersion(store)).tables.songplays?.runId, 'run-b', 'a mixed version meanwhile');
      assert.deepEqual(await recoverPublish(store), { action: 'rolled-back', runId: 'run-b' });
      assert.deepEqual(await currentVersion(store), a);
      assert.deepEqual(await files(store), TABLES.map((t) => tableFileKey(t, '', 'run-a', 0)).sort());
    } finally {
      tmp.remove();
    }
  });

  test('a publish that died while cleaning is finished', async () => {
    const tmp = tempDir('publish');
    try {
      const store = openStore(tmp.dir);
      await publish(store, 'run-a', await version(store, 'run-a'));
      const b = await version(store, 'run-b');
      await assert.rejects(publish(store, 'run-b', b, dieAfter('cleaning')));
      assert.deepEqual(await recoverPublish(store), { action: 'finished', runId: 'run-b' });
      assert.deepEqual(await currentVersion(store), b);
      assert.deepEqual(await files(store), TABLES.map((t) => tableFileKey(t, '', 'run-b', 0)).sort());
    } finally {
      tmp.remove();
    }
  });

  test('a retried publish keeps the version before its first attempt, so a rollback still restores it', async () => {
    const tmp = tempDir('publish');
    try {
      const store = openStore(tmp.dir);
      const a = await version(store, 'run-a');
      await publish(store, 'run-a', a);
      const b = await version(store, 'run-b');
      await assert.rejects(publish(store, 'run-b', b, dieAfter('flipped songs')));
      await assert.rejects(publish(store, 'run-b', b, dieAfter('flipped users')), 'the retry dies too');
      assert.deepEqual(await recoverPublish(store), { action: 'rolled-back', runId: 'run-b' });
      assert.deepEqual(await currentVersion(store), a, 'the version before the first attempt');
    } finally {
      tmp.remove();
    }
  });

  test('nothing to recover: no record, no change', async () => {
    const tmp = tempDir('publish');
    try {
      assert.deepEqual(await recoverPublish(openStore(tmp.dir)), { action: 'none' });
    } finally {
      tmp.remove();
    }
  });
});
