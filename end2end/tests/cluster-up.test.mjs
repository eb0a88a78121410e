// end2end/cluster/up refuses to start when one of its ports is taken, names the port, and exits
// non-zero before starting anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const up = join(dirname(fileURLToPath(import.meta.url)), '..', 'cluster', 'up');

test('up names a port that is already in use and exits non-zero', async () => {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const taken = server.address().port;
  const run = mkdtempSync(join(tmpdir(), 'berth-up-'));
  try {
    const result = spawnSync(up, [], {
      env: { ...process.env, BERTH_CLUSTER_RUN: run, API_PORT: String(taken),
             ETCD_PORT: '42379', ETCD_PEER_PORT: '42380', KCM_PORT: '42257', SCHED_PORT: '42259', KWOK_PORT: '42247' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(result.status, 0, 'up must fail');
    assert.match(result.stderr, new RegExp(`port ${taken} \\(API_PORT\\) on 127\\.0\\.0\\.1 is already in use`));
    assert.deepEqual(readdirSync(run).filter((f) => f.endsWith('.pid')), [], 'nothing was started');
  } finally {
    server.close();
  }
});
