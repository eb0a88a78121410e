// The shell renders on the server, hydrates in the browser, and the theme switch works without a
// page reload: proof that hydration took over the server-rendered HTML.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { baseURL, launch, openPage, token, waitForHydration } from './fixtures/browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the shell shows the header and the Instances view', async () => {
  const { page, context, errors } = await openPage(browser);
  assert.equal(await page.title(), 'Berth');
  assert.equal(await page.getByRole('link', { name: 'Berth' }).count(), 1);
  assert.equal(await page.getByRole('heading', { name: 'Instances', level: 1 }).isVisible(), true);
  const listed = (await page.getByTestId('instances-empty').count()) + (await page.getByTestId('instances-table').count());
  assert.equal(listed, 1, 'either the empty state or the list');
  await waitForHydration(page);
  assert.deepEqual(errors, []);
  await context.close();
});

test('links move between pages without a reload, and Back and Forward follow', async () => {
  const { page, context, errors } = await openPage(browser);
  await waitForHydration(page);
  await page.evaluate(() => { window.__berthMarker = 'still-here'; });
  const nav = page.getByRole('navigation', { name: 'Main' });
  const current = async () =>
    nav.locator('a[aria-current="page"]').allTextContents();
  const heading = (name) => page.getByRole('heading', { name, level: 1, exact: true });
  const path = () => new URL(page.url()).pathname;
  assert.deepEqual(await current(), ['Instances']);

  await nav.getByRole('link', { name: 'Templates' }).click();
  await heading('Templates').waitFor();
  assert.equal(path(), '/templates');
  assert.deepEqual(await current(), ['Templates']);

  const first = page.getByTestId('template-link').first();
  const href = await first.getAttribute('href');
  await first.click();
  await page.waitForURL((u) => u.pathname === href);
  await page.locator('nav.crumbs').getByText(href.split('/').pop(), { exact: true }).waitFor();
  assert.deepEqual(await current(), ['Templates'], 'a template is in the Templates section');

  await page.goBack();
  await heading('Templates').waitFor();
  assert.equal(path(), '/templates');
  await page.goBack();
  await heading('Instances').waitFor();
  assert.equal(path(), '/');
  assert.deepEqual(await current(), ['Instances']);
  await page.goForward();
  await heading('Templates').waitFor();

  // A jump to an anchor on the page (a card's `#card-web` link) fires popstate too: the page
  // stays as it is, rather than being built again and loading its data again (on an instance's
  // page that would drop the edits not yet applied).
  const loads = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/ui/')) loads.push(r.url()); });
  await page.evaluate(() => { location.hash = 'catalog'; });
  await page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
  assert.deepEqual(loads, [], 'the page loaded nothing again');
  assert.equal(await page.evaluate(() => window.__berthMarker), 'still-here', 'no page was reloaded');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the theme switch changes the theme without reloading the page', async () => {
  const { page, context, errors } = await openPage(browser);
  await waitForHydration(page);
  // A marker on window survives only if the page is not reloaded.
  await page.evaluate(() => { window.__berthMarker = 'still-here'; });
  const navigations = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });

  const before = await page.evaluate(() => document.documentElement.dataset.theme);
  assert.ok(before === 'dark' || before === 'light', `initial theme: ${before}`);
  const bgBefore = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);

  await page.getByTestId('theme-switch').click();
  const expected = before === 'dark' ? 'light' : 'dark';
  await page.waitForFunction((t) => document.documentElement.dataset.theme === t, expected);
  const bgAfter = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bgAfter, bgBefore, 'the background colour changed');
  assert.equal(await page.evaluate(() => window.__berthMarker), 'still-here', 'no reload happened');
  assert.deepEqual(navigations, [], 'no navigation happened');
  assert.equal(await page.evaluate(() => localStorage.getItem('berth-theme')), expected);

  // The choice survives a reload and is applied before paint.
  await page.reload();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), expected);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the theme switch is reachable and usable from the keyboard', async () => {
  const { page, context } = await openPage(browser);
  await waitForHydration(page);
  const before = await page.evaluate(() => document.documentElement.dataset.theme);
  await page.getByTestId('theme-switch').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => document.documentElement.dataset.theme !== t, before);
  await context.close();
});

test('the page, its script, its wasm and its stylesheet arrive compressed', async () => {
  // A fresh context has an empty cache, so every file comes from Berth, not from a revalidation.
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const seen = new Map();
  page.on('response', async (r) => {
    const path = new URL(r.url()).pathname;
    if (r.status() === 200 && (path === '/' || /\.(js|wasm|css)$/.test(path))) {
      seen.set(path.replace(/.*\./, '.'), (await r.allHeaders())['content-encoding'] ?? 'none');
    }
  });
  await page.goto(`/login?token=${encodeURIComponent(token)}&next=/`);
  await waitForHydration(page);
  // gzip from Berth as it serves, or brotli from a release build's precompressed files.
  const compressed = (e) => (e === 'gzip' || e === 'br' ? 'compressed' : e);
  assert.deepEqual(
    Object.fromEntries([...seen].sort().map(([k, e]) => [k, compressed(e)])),
    { '.css': 'compressed', '.js': 'compressed', '.wasm': 'compressed', '/': 'compressed' },
    JSON.stringify(Object.fromEntries(seen)),
  );
  await context.close();
});
