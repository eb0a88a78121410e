// The Instances page lists what is deployed: an instance created through the REST API shows up
// as a row, rendered on the server and kept after hydration; once deleted it is gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { baseURL, launch, openPage, waitForHydration } from './fixtures/browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function api(method, path, body) {
  const res = await fetch(new URL(path, baseURL), {
    method,
    headers: { 'content-type': 'application/json', 'x-berth-actor': 'browser-test' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

test('a deployed instance is listed, and gone once deleted', async () => {
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
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    const deleted = await api('DELETE', `/api/v1/instances/${namespace}/e2e-ph`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  }
  const { page, context } = await openPage(browser);
  assert.equal(await page.getByTestId('instance-row').filter({ hasText: 'e2e-ph' }).count(), 0);
  await context.close();
});
