// The Instances page lists what is deployed: an instance created through the REST API shows up
// as a row, rendered on the server and kept after hydration; its page shows one card per
// component whose health follows the cluster without a reload; once deleted it is gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, launch, openPage, waitForHydration } from './fixtures/browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a deployed instance is listed with a card per component, and gone once deleted', async () => {
  const namespace = `berth-e2e-${Date.now() % 1_000_000}`;
  const created = await api('POST', '/api/v1/instances?wait=true', { template: 'posthog', namespace, name: 'e2e-ph' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.status, 'succeeded');
  try {
    const { page, context, errors } = await openPage(browser);
    const row = page.getByTestId('instance-row').filter({ hasText: 'e2e-ph' });
    assert.equal(await row.count(), 1, 'server-rendered row');
    await waitForHydration(page);
    assert.equal(await row.count(), 1, 'still there after hydration');
    const text = await row.innerText();
    assert.match(text, new RegExp(namespace));
    assert.match(text, /posthog/);
    assert.match(text, /browser-test/);

    // Its name opens the instance page: one card per component, each with live health.
    await row.getByRole('link', { name: 'e2e-ph' }).click();
    await page.waitForURL(`**/instances/${namespace}/e2e-ph`);
    const cards = page.getByTestId('component-card');
    await cards.first().waitFor();
    const ids = await cards.evaluateAll((els) => els.map((e) => e.dataset.component));
    for (const id of ['web', 'worker', 'plugins', 'capture', 'replay-capture', 'feature-flags', 'pg', 'redis', 'kafka', 'clickhouse', 'zookeeper', 'storage', 'ingress']) {
      assert.ok(ids.includes(id), `card ${id} in ${ids}`);
    }
    const capture = page.locator('[data-component="capture"]');
    assert.equal(await capture.getAttribute('data-card'), 'app');
    assert.match(await capture.innerText(), /depends on kafka, redis/);
    // KWOK makes pods ready within seconds; the card follows the instance's stream.
    await page.waitForFunction(() => document.querySelector('[data-component="capture"] [data-testid="health-badge"]')?.textContent === 'Healthy', null, { timeout: 60_000 });
    assert.match(await capture.getByTestId('replicas').innerText(), /1\/1 ready/);
    assert.equal(await page.locator('[data-component="pg"]').getAttribute('data-card'), 'database');
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    const deleted = await api('DELETE', `/api/v1/instances/${namespace}/e2e-ph?wait=true`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  }
  const { page, context } = await openPage(browser);
  assert.equal(await page.getByTestId('instance-row').filter({ hasText: 'e2e-ph' }).count(), 0);
  await context.close();
});

test('an unknown instance says so', async () => {
  const { page, context, errors } = await openPage(browser, '/instances/nowhere/nothing');
  assert.equal(await page.getByTestId('instance-missing').isVisible(), true);
  await waitForHydration(page);
  assert.deepEqual(errors, []);
  await context.close();
});
