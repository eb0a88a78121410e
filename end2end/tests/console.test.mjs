// The console's journeys, in Chromium against the local control plane, each in its own
// namespace: deploy PostHog from the catalog and watch every card become Healthy without a
// reload; scale capture and set worker's memory limit in one change set; add and remove an env
// var and annotate a Deployment in the YAML editor; refuse a storage shrink inline and grow
// ClickHouse's volume; diff revisions and roll back through the preview; import a
// template with an error; use the change box (a change, a refusal, a question); delete the instance by typing its name; and with the API server
// stopped (SIGSTOP), see the banner while the history stays readable. Each journey saves
// screenshots (light and dark, 1280 and 390 px) and fails on any console error or failed
// request in the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { api, launch, openPage, waitForHydration } from './fixtures/browser.mjs';
import { shots } from './fixtures/shots.mjs';
import { kubeGet } from './fixtures/cluster.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const namespace = `berth-ui-${Date.now() % 1_000_000}`;
const name = 'ui-ph';
const base = `/instances/${namespace}/${name}`;

/// Opens `path` signed in, with failed requests collected alongside console errors.
async function open(path) {
  const opened = await openPage(browser, path);
  opened.page.on('requestfailed', (r) => {
    // Leaving a page aborts its event stream; that is not a failure.
    if (!r.url().endsWith('/events')) opened.errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  opened.page.on('response', (r) => {
    if (r.status() >= 500) opened.errors.push(`${r.status()} from ${r.url()}`);
  });
  await waitForHydration(opened.page);
  return opened;
}

/// The errors a journey did not cause on purpose: Chromium logs every 4xx answer as a console
/// error, and a 409 or 422 is Berth refusing bad input, which the page shows. Anything else
/// counts.
function unexpected(errors) {
  return errors.filter((e) => !/status of (409|422) /.test(e));
}

function card(page, id) {
  return page.locator(`[data-component="${id}"]`);
}

async function allHealthy(page, timeout = 120_000) {
  await page.waitForFunction(() => {
    const badges = [...document.querySelectorAll('[data-testid="component-card"] [data-testid="health-badge"]')];
    return badges.length >= 13 && badges.every((b) => b.textContent === 'Healthy');
  }, null, { timeout });
}

test('journey 1: deploy PostHog from the catalog and watch every card become Healthy', async () => {
  const { page, context, errors } = await open('/templates');
  await page.getByTestId('template-search').fill('posthog');
  const cards = page.getByTestId('template-card');
  assert.equal(await cards.count(), 1, 'search finds PostHog alone');
  await page.getByTestId('template-search').fill('no-such-template-anywhere');
  assert.equal(await page.getByTestId('catalog-empty').isVisible(), true);
  await page.getByTestId('template-search').fill('posthog');
  await cards.first().getByTestId('open-deploy').click();
  const dialog = page.getByTestId('deploy-dialog');
  await dialog.waitFor();
  await dialog.getByTestId('deploy-namespace').fill(namespace);
  await dialog.getByTestId('deploy-name').fill('Bad_Name');
  assert.match(await dialog.getByTestId('form-problems').innerText(), /name: lowercase/);
  await dialog.getByTestId('deploy-name').fill(name);
  await dialog.getByTestId('input-platform').selectOption('kubernetes');
  await dialog.getByTestId('deploy-preview').click();
  const plan = dialog.getByTestId('deploy-plan');
  await plan.waitFor({ timeout: 60_000 });
  assert.match(await plan.innerText(), new RegExp(`→ ${namespace}/${name}`));
  assert.match(await plan.innerText(), /capture/);
  await plan.getByTestId('platform-values').locator('summary').click();
  assert.match(await plan.getByTestId('platform-values').innerText(), new RegExp(`SEALOS_NAMESPACE\\s+${namespace}`));
  await shots(page, 'journey1-deploy-preview');
  await dialog.getByTestId('deploy-start').click();
  await page.waitForURL((u) => new URL(u).pathname === base && new URL(u).searchParams.get('op') === '1');
  await page.getByTestId('operation').waitFor();
  await allHealthy(page);
  assert.equal(await page.getByTestId('disconnected').count(), 0);
  assert.match(await card(page, 'capture').getByTestId('replicas').innerText(), /1\/1 ready/);
  // Every dependency is drawn: capture → kafka and redis, web → five others, and so on.
  const edges = await page.locator('[data-testid="edges"] path').count();
  const deps = await page.evaluate(() => [...document.querySelectorAll('[data-testid="component-card"] .card-meta a')].length);
  assert.ok(deps > 10 && edges === deps, `${edges} edges drawn for ${deps} dependencies`);
  await shots(page, 'journey1-canvas');
  // Opened for an operation that has already ended (the deploy dialog adds `?op=`), the page
  // reads how it ended from the history.
  await page.goto(page.url().split('?')[0] + '?op=1');
  await page.locator('[data-testid="operation"][data-state="succeeded"]').waitFor();
  assert.match(await page.getByTestId('operation').innerText(), /^Revision 1: /);
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('journey 2: scale capture to 3 and set worker memory in one change set', async () => {
  const { page, context, errors } = await open(base);
  const capture = card(page, 'capture');
  await capture.getByTestId('edit').click();
  await capture.getByTestId('replicas-input').fill('3');
  await capture.getByTestId('add-to-change-set').click();
  const worker = card(page, 'worker');
  await worker.getByTestId('edit').click();
  await worker.getByTestId('memory-limit').fill('2 gigs');
  assert.match(await worker.getByTestId('card-editor').innerText(), /not a valid memory quantity/);
  assert.equal(await worker.getByTestId('add-to-change-set').isDisabled(), true);
  await worker.getByTestId('memory-limit').fill('1536Mi');
  await worker.getByTestId('add-to-change-set').click();
  assert.equal(await page.getByTestId('pending-count').innerText(), '2 changes');
  await page.getByTestId('review').click();
  const review = page.getByTestId('review-dialog');
  const diff = review.getByTestId('diff');
  await diff.waitFor({ timeout: 60_000 });
  const text = await diff.innerText();
  assert.match(text, /\+\s+replicas: 3/);
  assert.match(text, /memory: 1536Mi/);
  await shots(page, 'journey2-review');
  await review.getByTestId('apply').click();
  await review.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => /3\/3 ready/.test(document.querySelector('[data-component="capture"] [data-testid="replicas"]')?.textContent ?? ''), null, { timeout: 60_000 });
  assert.match(await worker.getByTestId('memory').innerText(), /1536Mi/);
  await page.reload();
  await waitForHydration(page);
  assert.match(await page.getByTestId('instance-facts').innerText(), /revision 2 · last changed by \S+ on \d{4}-/);
  await shots(page, 'journey2-applied');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('journey 3: add an env var on web, remove it, then annotate its Deployment in the YAML editor', async () => {
  const { page, context, errors } = await open(base);
  const web = card(page, 'web');
  const apply = async () => {
    await page.getByTestId('review').click();
    const review = page.getByTestId('review-dialog');
    await review.getByTestId('diff').waitFor({ timeout: 60_000 });
    const diff = await review.getByTestId('diff').innerText();
    await review.getByTestId('apply').click();
    await review.waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.querySelector('[data-testid="operation"]')?.dataset.state === 'succeeded', null, { timeout: 60_000 });
    return diff;
  };
  await web.getByTestId('edit').click();
  await web.getByTestId('env-name').fill('FEATURE_GREETING');
  await web.getByTestId('env-value').fill('hello from the console');
  await web.getByTestId('add-to-change-set').click();
  assert.match(await apply(), /FEATURE_GREETING/);
  const deployment = await api('GET', `/api/v1/instances/${namespace}/${name}`);
  const webSpec = deployment.body.components.find((c) => c.id === 'web').spec;
  assert.ok(webSpec.containers[0].env.some((e) => e.name === 'FEATURE_GREETING' && e.value === 'hello from the console'));
  await web.getByTestId('edit').click();
  await web.locator('[data-testid="env-var"][data-name="FEATURE_GREETING"] [data-testid="env-remove"]').click();
  await web.getByTestId('add-to-change-set').click();
  assert.match(await apply(), /-\s+- name: FEATURE_GREETING/);
  await shots(page, 'journey3-env');

  // Edit web's Deployment as YAML: a broken line is shown at its line; an annotation applies.
  await web.locator('.card-objects summary').click();
  await web.locator('[data-object="Deployment ui-ph"] [data-testid="object-yaml"]').click();
  const dialog = page.getByTestId('yaml-dialog');
  const input = dialog.getByTestId('yaml-input');
  await input.waitFor();
  const yaml = await input.inputValue();
  assert.match(yaml, /kind: Deployment/);
  await dialog.getByTestId('yaml-edit').click();
  await input.fill(yaml.replace('metadata:\n', 'metadata:\n  annotations: [unclosed\n'));
  await dialog.getByTestId('yaml-add').click();
  await dialog.getByTestId('error').waitFor();
  assert.equal(await dialog.locator('.yaml-gutter li.bad').count(), 1, 'the bad line is marked');
  await shots(page, 'journey3-yaml-error');
  await input.fill(yaml.replace('  annotations:\n', '  annotations:\n    team.example.com/owner: growth\n'));
  await dialog.getByTestId('yaml-add').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.match(await page.getByTestId('pending-bar').innerText(), /1 change/);
  assert.match(await apply(), /team.example.com\/owner: growth/);
  const live = await kubeGet(`/apis/apps/v1/namespaces/${namespace}/deployments/ui-ph`);
  assert.equal(live.status, 200);
  assert.equal(live.body.metadata.annotations['team.example.com/owner'], 'growth', 'in the cluster');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('journey 4: a storage shrink is refused inline; a grow re-creates the StatefulSet and grows its claims', async () => {
  const { page, context, errors } = await open(base);
  const clickhouse = card(page, 'clickhouse');
  await clickhouse.getByTestId('edit').click();
  const field = clickhouse.locator('[data-testid^="storage-"]').first();
  await field.fill('1Mi');
  assert.match(await clickhouse.getByTestId('card-editor').innerText(), /cannot shrink/);
  assert.equal(await clickhouse.getByTestId('add-to-change-set').isDisabled(), true);
  await shots(page, 'journey4-shrink-refused');
  await field.fill('40Gi');
  await clickhouse.getByTestId('add-to-change-set').click();
  await page.getByTestId('review').click();
  const review = page.getByTestId('review-dialog');
  await review.getByTestId('diff').waitFor({ timeout: 60_000 });
  assert.match(await review.getByTestId('diff').innerText(), /storage: 40Gi/);
  // A StatefulSet's claim templates cannot change: the review says how Berth grows them.
  assert.match(await review.getByTestId('plan-notes').innerText(),
    /StatefulSet\/ui-ph-clickhouse: will be re-created with its pods kept running, to grow its volumes: data-ui-ph-clickhouse-0 \S+ → 40Gi/);
  await shots(page, 'journey4-grow-review');
  await review.getByTestId('apply').click();
  await review.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => document.querySelector('[data-testid="operation"]')?.dataset.state === 'succeeded', null, { timeout: 90_000 });
  // The stream sends the operation's end first and the instance's fresh view right after it (a
  // read of the store): the card shows the new size with that view, not with the end itself.
  await clickhouse.getByTestId('storage').filter({ hasText: '40Gi' }).waitFor({ timeout: 15_000 });
  const claim = await kubeGet(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/data-ui-ph-clickhouse-0`);
  assert.equal(claim.body.spec.resources.requests.storage, '40Gi', 'the claim grew in the cluster');
  const set = await kubeGet(`/apis/apps/v1/namespaces/${namespace}/statefulsets/ui-ph-clickhouse`);
  assert.equal(set.body.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '40Gi');
  await allHealthy(page, 90_000);
  await shots(page, 'journey4-grown');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('journey 9: the change box turns plain language into chips and the same review; a question and a refusal change nothing', async () => {
  const { page, context, errors } = await open(base);
  const box = page.getByTestId('change-box-input');
  // `/` reaches the box from anywhere on the page that is not a field.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('/');
  assert.equal(await box.evaluate((el) => el === document.activeElement), true, '`/` focuses the change box');
  await page.keyboard.type('scale capture to 2 and give worker 1Gi memory limit');
  await page.keyboard.press('Enter');
  const review = page.getByTestId('intent-review-dialog');
  await review.getByTestId('diff').waitFor({ timeout: 60_000 });
  assert.deepEqual(await review.getByTestId('intent-chip').allInnerTexts(),
    ['capture: 2 replicas', 'worker: memory limit 1Gi']);
  const diff = await review.getByTestId('diff').innerText();
  assert.match(diff, /\+\s+replicas: 2/);
  assert.match(diff, /\+\s+memory: 1Gi/);
  await shots(page, 'journey9-change-box-review');
  await review.getByTestId('apply').click();
  await review.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => /^2\/2 ready/.test(document.querySelector('[data-component="capture"] [data-testid="replicas"]')?.textContent ?? ''), null, { timeout: 90_000 });
  await page.waitForFunction(() => /1Gi/.test(document.querySelector('[data-component="worker"] [data-testid="memory"]')?.textContent ?? ''), null, { timeout: 30_000 });
  assert.equal(await box.inputValue(), '', 'an applied request leaves the box empty');

  // Gibberish is refused with examples built from this instance; an example fills the box.
  await box.fill('make it faster');
  await box.press('Enter');
  const refusal = page.getByTestId('intent-refusal');
  await refusal.waitFor({ timeout: 30_000 });
  assert.match(await refusal.innerText(), /I couldn't match that to a change/);
  const examples = await refusal.getByTestId('intent-example').allInnerTexts();
  assert.equal(examples.length, 3);
  assert.ok(examples.some((x) => /capture|worker|web|clickhouse|pg|redis/.test(x)), examples.join(' | '));
  await shots(page, 'journey9-refusal');
  await refusal.getByTestId('intent-example').first().click();
  assert.equal(await box.inputValue(), examples[0]);

  // An ambiguous target is a question; an answer opens the review of its complete change, and
  // closing the review applies nothing.
  await box.fill('restart the database');
  await box.press('Enter');
  const question = page.getByTestId('intent-question');
  await question.waitFor({ timeout: 30_000 });
  assert.deepEqual(await question.getByTestId('intent-choice').allInnerTexts(), ['pg', 'redis', 'clickhouse']);
  await shots(page, 'journey9-question');
  await question.getByTestId('intent-choice').filter({ hasText: 'redis' }).click();
  await review.getByTestId('diff').waitFor({ timeout: 60_000 });
  assert.deepEqual(await review.getByTestId('intent-chip').allInnerTexts(), ['restart redis']);
  assert.match(await review.getByTestId('diff').innerText(), /berth\.dev\/restarted-at/);
  await page.keyboard.press('Escape');
  await review.waitFor({ state: 'hidden' });

  // ↑ walks back through earlier requests, newest first; ↓ comes forward to an empty box.
  await box.fill('');
  await box.press('ArrowUp');
  assert.equal(await box.inputValue(), 'restart the database');
  await box.press('ArrowUp');
  assert.equal(await box.inputValue(), 'make it faster');
  await box.press('ArrowDown');
  await box.press('ArrowDown');
  assert.equal(await box.inputValue(), '');
  const facts = await page.getByTestId('instance-facts').innerText();
  const revision = Number(/revision (\d+)/.exec(facts)[1]);
  const history = await api('GET', `/api/v1/instances/${namespace}/${name}/revisions`);
  assert.equal(history.body.revisions.at(-1).number, revision, 'the question and the refusal recorded nothing');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('journey 5: diff revisions 1 and 3, roll back to 1 through its preview, and the cards follow', async () => {
  const { page, context, errors } = await open(`${base}/history`);
  const rows = page.getByTestId('revision');
  assert.ok(await rows.count() >= 3);
  await page.locator('[data-testid="revision"][data-number="1"] [data-testid="pick"]').check();
  await page.locator('[data-testid="revision"][data-number="3"] [data-testid="pick"]').check();
  await page.getByTestId('compare').click();
  await page.getByTestId('diff').waitFor();
  assert.match(await page.getByTestId('diff').innerText(), /replicas: 3/);
  await shots(page, 'journey5-history');
  await page.locator('[data-testid="revision"][data-number="1"] [data-testid="rollback"]').click();
  const dialog = page.getByTestId('rollback-dialog');
  await dialog.getByTestId('diff').waitFor({ timeout: 60_000 });
  // Journey 9 left capture at 2 replicas.
  assert.match(await dialog.getByTestId('diff').innerText(), /-\s+replicas: 2/);
  // Revision 1 had less ClickHouse storage than journey 4 gave it: a volume cannot shrink.
  assert.match(await dialog.getByTestId('plan-notes').innerText(), /StatefulSet\/ui-ph-clickhouse volume data keeps 40Gi: storage cannot shrink/);
  assert.doesNotMatch(await dialog.getByTestId('diff').innerText(), /storage: 40Gi/);
  await dialog.getByTestId('apply').click();
  await page.waitForURL(`**${base}`);
  const replicas = page.locator('[data-component="capture"] [data-testid="replicas"]');
  await page.waitForFunction(() => /^1\/1 ready/.test(document.querySelector('[data-component="capture"] [data-testid="replicas"]')?.textContent ?? ''), null, { timeout: 90_000 })
    .catch(async (e) => { throw new Error(`capture still shows ${await replicas.innerText()}: ${e.message}`); });
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('journey 6: import a template with an error, see it at its line, fix it and find it in the catalog', async () => {
  const { page, context, errors } = await open('/templates');
  const id = `greeting-${Date.now() % 1_000_000}`;
  const good = `apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: ${id}\nspec:\n  title: Greeting ${id}\n  description: Says hello\n  categories: [demo]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  text: hello\n`;
  await page.getByTestId('import').click();
  const dialog = page.getByTestId('import-dialog');
  await dialog.getByTestId('import-source').fill(good.replace('text: hello', 'text: [unclosed'));
  await dialog.getByTestId('import-submit').click();
  await dialog.getByTestId('error').waitFor();
  assert.match(await dialog.getByTestId('error').innerText(), /line 15/);
  assert.equal(await dialog.locator('.yaml-gutter li.bad').innerText(), '15', 'the bad line is marked');
  await shots(page, 'journey6-import-error');
  await dialog.getByTestId('import-source').fill(good);
  await dialog.getByTestId('import-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  const card = page.locator(`[data-template="${id}"]`);
  await card.waitFor();
  assert.match(await card.innerText(), /Says hello/);
  await shots(page, 'journey6-imported');
  await card.getByTestId('template-link').click();
  await page.getByTestId('template-detail').waitFor();
  assert.match(await page.getByTestId('template-detail').innerText(), new RegExp(`Greeting ${id}`));
  await page.goto('/templates/posthog');
  assert.match(await page.getByTestId('template-inputs').innerText(), /storage_class/);
  assert.equal(await page.getByTestId('readme').getAttribute('href') !== null, true);
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('journey 8: delete the instance by typing its name', async () => {
  const { page, context, errors } = await open(base);
  await page.getByTestId('delete').click();
  const dialog = page.getByTestId('delete-dialog');
  await dialog.waitFor();
  assert.equal(await dialog.getByTestId('delete-confirm').isDisabled(), true);
  await dialog.getByTestId('delete-confirm-name').fill(name);
  await shots(page, 'journey8-delete');
  await dialog.getByTestId('delete-confirm').click();
  await page.waitForURL((u) => new URL(u).pathname === '/');
  const gone = await api('GET', `/api/v1/instances/${namespace}/${name}/revisions`);
  assert.equal(gone.body.revisions.at(-1).kind, 'delete');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('journey 7: with the API server stopped, every page says so and the history stays readable', async (t) => {
  const pidFile = new URL('../cluster/.run/kube-apiserver.pid', import.meta.url);
  if (!existsSync(pidFile)) {
    t.skip('the cluster is not the local control plane (no kube-apiserver.pid)');
    return;
  }
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  process.kill(pid, 'SIGSTOP');
  try {
    const { page, context, errors } = await open(`${base}/history`);
    await page.getByTestId('cluster-down').waitFor();
    assert.match(await page.getByTestId('cluster-down').innerText(), /cluster is unreachable/);
    assert.ok(await page.getByTestId('revision').count() >= 5, 'the history is read from Berth\'s database');
    await shots(page, 'journey7-cluster-down');
    await page.goto('/templates');
    await page.getByTestId('cluster-down').waitFor();
    assert.ok(await page.getByTestId('template-card').count() >= 1, 'templates still work');
    assert.deepEqual(unexpected(errors), []);
    await context.close();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
});
