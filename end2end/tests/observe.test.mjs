// Running PostHog day to day, in Chromium against the local control plane: Redis scaled to 0
// makes the plugins card show its hint (live, without a reload) with its evidence and a restart
// that joins the change set; a card's detail lists its Kubernetes Events and streams its pod's
// log (KWOK serves it from a file), following new lines, pausing with a count while the reader
// scrolls up, and saying so when the cluster has no log for a pod. Screenshots in both themes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, baseURL, launch, logViewerState, openPage, token, waitForHydration } from './fixtures/browser.mjs';
import { shots } from './fixtures/shots.mjs';
import { cri, podLogsFrom } from './fixtures/cluster.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const namespace = `berth-obs-${Date.now() % 1_000_000}`;
const name = 'obs';
const base = `/instances/${namespace}/${name}`;
const rest = `/api/v1${base}`;
const dir = mkdtempSync(join(tmpdir(), 'berth-obs-'));

async function open(path) {
  const opened = await openPage(browser, path);
  opened.page.on('requestfailed', (r) => {
    // Closing a stream (leaving the page, another pod, the dialog) aborts it; not a failure.
    if (!/\/(events|logs)(\?|$)/.test(new URL(r.url()).pathname + new URL(r.url()).search)) {
      opened.errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    }
  });
  opened.page.on('response', (r) => {
    if (r.status() >= 500) opened.errors.push(`${r.status()} from ${r.url()}`);
  });
  await waitForHydration(opened.page);
  return opened;
}

/// Reads `component`'s log (not followed) until it has `wanted`: KWOK serves a `Logs` object's
/// file once its watch has seen the object.
async function untilLog(component, wanted) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(new URL(`${rest}/logs?component=${component}&tailLines=1`, baseURL), {
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    if (text.includes(wanted)) return;
    assert.ok(Date.now() < deadline, `${component}'s log never had ${wanted}: ${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function change(edits) {
  const { body: view } = await api('GET', rest);
  const preview = await api('POST', `${rest}/changes/preview`, { baseRevision: view.revision, edits });
  assert.equal(preview.status, 200, JSON.stringify(preview.body));
  const done = await api('POST', `${rest}/changes?wait=true`, { baseRevision: view.revision, edits, planHash: preview.body.planHash });
  assert.equal(done.status, 200, JSON.stringify(done.body));
}

test('journey 10: a hint on a broken component, and a card\'s events and live log', async () => {
  const created = await api('POST', '/api/v1/instances?wait=true', { template: 'posthog', namespace, name });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  // Every pod exists and is Ready before their logs are pointed at our files.
  const ready = Date.now() + 120_000;
  while ((await api('GET', rest)).body.health.state !== 'Healthy') {
    assert.ok(Date.now() < ready, 'PostHog never became Healthy');
    await new Promise((r) => setTimeout(r, 300));
  }
  const captureLog = join(dir, 'capture.log');
  writeFileSync(captureLog, Array.from({ length: 60 }, (_, i) => cri(`capture line ${i + 1}`)).join(''));
  await podLogsFrom(namespace, 'capture', captureLog);
  await podLogsFrom(namespace, 'web', join(dir, 'missing.log'));
  await untilLog('capture', 'capture line 60');
  await untilLog('web', 'event: unavailable');

  const { page, errors } = await open(base);
  const card = (id) => page.locator(`[data-component="${id}"]`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="component-card"]').length >= 13);

  // Redis goes to 0: the plugins card says why plugins will fail, with the evidence, live.
  await change([{ type: 'replicas', component: 'redis', replicas: 0 }]);
  const hint = card('plugins').locator('[data-rule="posthog-plugins-validation"]');
  await hint.waitFor({ timeout: 60_000 });
  // While the StatefulSet scales down the hint may first say so; then no pod is left.
  await page.waitForFunction(() => /redis is not ready: 0\/0 pods ready/.test(document.querySelector(
    '[data-component="plugins"] [data-rule="posthog-plugins-validation"] [data-testid="hint-evidence"]')?.textContent ?? ''), null, { timeout: 60_000 });
  await hint.locator('summary').click();
  const evidence = await hint.getByTestId('hint-evidence').innerText();
  assert.match(evidence, /redis is not ready: 0\/0 pods ready/);
  assert.match(evidence, /plugins reaches redis through env /);
  await shots(page, 'journey10-hint');
  await hint.getByTestId('hint-restart').click();
  assert.match(await page.getByTestId('pending-count').innerText(), /1 change/);

  // Capture's detail: its Events, then its log, from the keyboard.
  await card('capture').getByTestId('open-detail').click();
  const detail = page.getByTestId('component-detail');
  await detail.getByTestId('events').waitFor({ timeout: 30_000 });
  assert.ok(await detail.getByTestId('event').count() >= 1);
  assert.match(await detail.getByTestId('events').innerText(), /capture/);
  await detail.getByTestId('tab-logs').focus();
  await page.keyboard.press('Enter');
  const lines = detail.getByTestId('log-lines');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-lines"] .log-line').length === 60);
  assert.match(await detail.getByTestId('log-state').innerText(), /following/);

  // Followed: a new line arrives without a reload, and the view stays at the end.
  appendFileSync(captureLog, cri('line written while following'));
  await detail.getByText('line written while following').waitFor();
  // Scrolled up, the view stays put and counts what arrives.
  await lines.evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
  appendFileSync(captureLog, cri('one') + cri('two'));
  const paused = detail.getByTestId('log-paused');
  await paused.waitFor();
  await page.waitForFunction(() => /paused \(2 new lines\)/.test(document.querySelector('[data-testid="log-paused"]')?.textContent ?? ''))
    .catch(async (e) => { throw new Error(`${e.message}; the viewer showed: ${await logViewerState(page)}`); });
  assert.equal(await lines.evaluate((el) => el.scrollTop), 0);
  await shots(page, 'journey10-logs');
  await paused.click();
  await paused.waitFor({ state: 'detached' });
  await page.keyboard.press('Escape');
  await detail.waitFor({ state: 'detached' });

  // A pod whose log the cluster does not have: the viewer says so instead of showing nothing.
  await card('web').getByTestId('open-detail').click();
  // Its Events first, as a person would see them: switching tabs while they load would drop the
  // list and cancel its request, which the page's error check counts as a failed request.
  await detail.locator('[data-testid="events"], [data-testid="no-events"]').first().waitFor();
  await detail.getByTestId('tab-logs').click();
  await page.waitForFunction(() => /This cluster provides no logs for this pod/.test(document.querySelector('[data-testid="log-state"]')?.textContent ?? ''));
  await shots(page, 'journey10-no-logs');

  assert.deepEqual(errors.filter((e) => !/status of (409|422) /.test(e)), []);
  await api('DELETE', `${rest}?wait=true`);
});
