// Berth itself goes away under an open page and comes back: a Berth of this test's own (its own
// database and port, the same local control plane) is killed while the PostHog page follows its
// event stream and capture's log. The page says it lost live updates, reconnects by itself once
// Berth is back, shows the log once (not twice: the reopened stream sends its window again), and
// goes on updating live. When the session ended meanwhile, the page says Berth refused the
// streams instead of reconnecting for ever. And an operation that ends after the page was
// rendered but before its stream opened still shows how it ended.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, launch, logViewerState, openPage, waitForHydration } from './fixtures/browser.mjs';
import { cri, podLogsFrom } from './fixtures/cluster.mjs';
import { shots } from './fixtures/shots.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const binary = process.env.BERTH_BIN
  ?? join(process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache/berth/cargo-target'), 'debug', 'berth');
const dir = mkdtempSync(join(tmpdir(), 'berth-reconnect-'));
const db = join(dir, 'berth.db');
const namespace = `berth-rec-${Date.now() % 1_000_000}`;
const path = `/instances/${namespace}/rec`;

let browser;
let berth;
let server;

/// A port nothing listens on now.
async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/// Starts this test's Berth, with `env` added to its environment, and waits until it answers.
async function start(env = {}) {
  const log = openSync(join(dir, 'server.log'), 'a');
  berth = spawn(binary, ['serve'], {
    cwd: repo,
    env: { ...process.env, BERTH_ADDR: new URL(server.baseURL).host, BERTH_DB: db, ...env },
    stdio: ['ignore', log, log],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(new URL('/healthz', server.baseURL)).then((r) => r.ok, () => false);
    if (up) return;
    assert.ok(Date.now() < deadline && berth.exitCode === null, `Berth did not start: see ${dir}/server.log`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function kill() {
  const gone = new Promise((resolve) => berth.once('exit', resolve));
  berth.kill('SIGKILL');
  await gone;
}

before(async () => {
  const made = spawnSync(binary, ['token', 'create', '--role', 'admin', '--name', 'reconnect', '--db', db], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  server = { baseURL: `http://127.0.0.1:${await freePort()}`, token: made.stdout.trim() };
  await start();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  if (berth && berth.exitCode === null) {
    await api('DELETE', `/api/v1${path}?wait=true`, undefined, server).catch(() => {});
    await api('DELETE', `/api/v1/instances/${namespace}-late/late?wait=true`, undefined, server).catch(() => {});
    await kill();
  }
});

test('a page whose Berth restarts says so, reconnects by itself, shows the log once, and says when Berth refuses it', async () => {
  const rest = `/api/v1${path}`;
  const created = await api('POST', '/api/v1/instances?wait=true', { template: 'posthog', namespace, name: 'rec' }, server);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const healthy = Date.now() + 120_000;
  while ((await api('GET', rest, undefined, server)).body.health.state !== 'Healthy') {
    assert.ok(Date.now() < healthy, 'PostHog never became Healthy');
    await new Promise((r) => setTimeout(r, 300));
  }
  const log = join(dir, 'capture.log');
  writeFileSync(log, Array.from({ length: 40 }, (_, i) => cri(`capture line ${i + 1}`)).join(''));
  await podLogsFrom(namespace, 'capture', log);

  const { page, errors } = await openPage(browser, path, server);
  await waitForHydration(page);
  const capture = page.locator('[data-component="capture"]');
  await capture.getByTestId('open-detail').click();
  const detail = page.getByTestId('component-detail');
  await detail.getByTestId('tab-logs').click();
  const lineCount = () => page.locator('[data-testid="log-lines"] .log-line').count();
  // KWOK serves the file once its watch has seen the Logs object.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-lines"] .log-line').length === 40,
    null, { timeout: 30_000 }).catch(async (e) => { throw new Error(`${e.message}; ${await logViewerState(page)}`); });
  assert.equal(await page.getByTestId('disconnected').count(), 0);

  // Berth dies: the page says live updates are lost, and keeps what it showed.
  await kill();
  await page.getByTestId('disconnected').waitFor({ timeout: 10_000 });
  assert.match(await page.getByTestId('disconnected').innerText(), /Live updates lost; reconnecting/);
  await page.waitForFunction(() => /Connection lost; reconnecting/.test(document.querySelector('[data-testid="log-state"]')?.textContent ?? ''));
  assert.equal(await lineCount(), 40);
  await shots(page, 'reconnect-lost');

  // Berth is back on the same port and database: the browser reopens both streams by itself.
  await start();
  await page.getByTestId('disconnected').waitFor({ state: 'detached', timeout: 30_000 });
  appendFileSync(log, cri('written after the restart'));
  await detail.getByText('written after the restart').waitFor({ timeout: 30_000 });
  assert.match(await detail.getByTestId('log-state').innerText(), /capture · following/);
  assert.equal(await lineCount(), 41, `the log shows each line once: ${await logViewerState(page)}`);

  // The event stream is live again: a replica change made elsewhere reaches the card (under the
  // log's dialog, which stays open).
  const { body: view } = await api('GET', rest, undefined, server);
  const edits = [{ type: 'replicas', component: 'capture', replicas: 2 }];
  const preview = await api('POST', `${rest}/changes/preview`, { baseRevision: view.revision, edits }, server);
  assert.equal(preview.status, 200, JSON.stringify(preview.body));
  const done = await api('POST', `${rest}/changes?wait=true`,
    { baseRevision: view.revision, edits, planHash: preview.body.planHash }, server);
  assert.equal(done.status, 200, JSON.stringify(done.body));
  await page.waitForFunction(() => /2\/2/.test(document.querySelector('[data-component="capture"] [data-testid="replicas"]')?.textContent ?? ''),
    null, { timeout: 30_000 });

  // The session ends while Berth is away: Berth refuses the reopened streams, the browser gives
  // up on them, and the page says so rather than "reconnecting" for ever.
  const out = await page.evaluate(() => fetch('/logout', { method: 'POST' }).then((r) => r.status));
  assert.ok(out < 400, `logout answered ${out}`);
  await kill();
  await start();
  await page.waitForFunction(() => /Berth refused the log stream/.test(document.querySelector('[data-testid="log-state"]')?.textContent ?? ''),
    null, { timeout: 30_000 }).catch(async (e) => { throw new Error(`${e.message}; ${await logViewerState(page)}`); });
  await page.keyboard.press('Escape');
  await detail.waitFor({ state: 'detached' });
  assert.match(await page.getByTestId('disconnected').innerText(), /Live updates stopped: Berth refused the stream/);
  await shots(page, 'reconnect-refused');
  // Signing in again from the banner comes back to this page, live.
  await page.getByTestId('sign-in-again').click();
  await page.locator('#token').fill(server.token);
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.pathname === path);
  await waitForHydration(page);
  assert.equal(await page.getByTestId('disconnected').count(), 0);

  // While Berth was down the browser's attempts to reconnect failed, and once the session had
  // ended Berth answered them 401; nothing else failed.
  assert.deepEqual(errors.filter((e) => !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING|status of 401/.test(e)), []);
  const deleted = await api('DELETE', `${rest}?wait=true`, undefined, server);
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
});

test('an operation that ends after the page was rendered, before its stream opened, shows how it ended', async () => {
  // Each object's apply is paced (150 ms), so the deploy is still running when the page renders.
  await kill();
  await start({ BERTH_APPLY_PACE_MS: '150' });
  const late = `${namespace}-late`;
  const rest = `/api/v1/instances/${late}/late`;
  const started = await api('POST', '/api/v1/instances', { template: 'posthog', namespace: late, name: 'late' }, server);
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const status = async () => (await api('GET', `/api/v1/operations/${started.body.id}`, undefined, server)).body.status;

  // The page's event stream is held back until the deploy has ended, so the stream never sees
  // it running, nor its "finished" event.
  const { page, errors } = await openPage(browser, `/instances/${late}/late`, server, (context) =>
    context.route(`**${rest}/events`, async (route) => {
      while (await status() === 'running') await new Promise((r) => setTimeout(r, 100));
      await route.continue();
    }));
  const panel = page.getByTestId('operation');
  assert.equal(await panel.getAttribute('data-state'), 'running', 'the page was rendered while the deploy ran');
  await waitForHydration(page);
  await page.locator('[data-testid="operation"][data-state="succeeded"]').waitFor({ timeout: 30_000 })
    .catch(async (e) => { throw new Error(`${e.message}; the panel says "${await panel.innerText()}"`); });
  assert.equal(await status(), 'succeeded');
  assert.equal(await page.getByTestId('progress').getAttribute('aria-valuenow'), '100');
  await shots(page, 'reconnect-late-end');
  assert.deepEqual(errors, []);

  const deleted = await api('DELETE', `${rest}?wait=true`, undefined, server);
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
});
