// The console's budgets, measured against a running Berth and the local control plane (not a
// test: it reports, it does not assert):
//   1. the wasm and JS of the site Berth serves, gzipped (build it with `cargo leptos build
//      --release` for the release figure; the script says which profile it found);
//   2. time to first byte of the PostHog instance page, median of 50;
//   3. pod Ready → card updated, median of 10: capture is scaled up through the API, the pod's
//      Ready is seen on an apiserver watch, and the card's "n/n ready" in the page;
//   4. the requests the instance page makes while it loads, and the bytes they carry.
//
// Usage: BERTH_URL=http://127.0.0.1:8080 BERTH_TOKEN=<admin token> node end2end/bench/console.mjs
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { request } from 'node:https';
import { api, baseURL, launch, openPage, waitForHydration } from '../tests/fixtures/browser.mjs';

const repo = new URL('../..', import.meta.url).pathname;
const site = process.env.LEPTOS_SITE_ROOT ?? `${repo}target/site`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. Bundle size.
const pkg = `${site}/pkg`;
let raw = 0;
let gz = 0;
for (const f of readdirSync(pkg).filter((f) => f.endsWith('.wasm') || f.endsWith('.js'))) {
  const bytes = readFileSync(`${pkg}/${f}`);
  raw += bytes.length;
  gz += gzipSync(bytes, { level: 9 }).length;
  console.log(`  ${f}: ${bytes.length} bytes, ${gzipSync(bytes, { level: 9 }).length} gzip`);
}
console.log(`bundle: wasm+js ${(raw / 1024).toFixed(0)} KB raw, ${(gz / 1024).toFixed(0)} KB gzip (${pkg}, built ${statSync(pkg).mtime.toISOString()})`);
// `cargo leptos build --release --precompress` also writes .gz and .br beside each file; Berth
// serves those as they are (brotli to a browser on HTTPS, gzip otherwise).
const shipped = (ext) => readdirSync(pkg).filter((f) => /\.(wasm|js)\.(gz|br)$/.test(f) && f.endsWith(ext))
  .reduce((sum, f) => sum + statSync(`${pkg}/${f}`).size, 0);
if (shipped('.br')) console.log(`precompressed: ${(shipped('.gz') / 1024).toFixed(0)} KB gzip, ${(shipped('.br') / 1024).toFixed(0)} KB brotli`);
else console.log('precompressed: none (a debug build, or a release one without --precompress): Berth gzips as it serves');

// A PostHog instance to measure.
const namespace = `bench-ui-${Date.now() % 1_000_000}`;
const created = await api('POST', '/api/v1/instances?wait=true', { template: 'posthog', namespace, name: 'ph' });
if (created.status !== 201) throw new Error(JSON.stringify(created.body));
const path = `/instances/${namespace}/ph`;
const browser = await launch();
try {
  const { page, context } = await openPage(browser, path);
  await waitForHydration(page);
  const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');

  // 2. First byte of the instance page.
  const ttfb = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    const res = await fetch(new URL(path, baseURL), { headers: { cookie } });
    ttfb.push(performance.now() - started);
    await res.arrayBuffer();
  }
  console.log(`first byte of ${path}: median ${median(ttfb).toFixed(1)} ms of 50 (min ${Math.min(...ttfb).toFixed(1)}, max ${Math.max(...ttfb).toFixed(1)})`);

  // 4. Requests while the instance page loads, and what each one carries on the wire, from an
  // empty cache (a new context, signed in with the same cookie).
  const cold = await browser.newContext({ baseURL, storageState: await context.storageState() });
  const fresh = await cold.newPage();
  const requests = [];
  const finished = [];
  fresh.on('request', (r) => requests.push(`${r.resourceType()} ${new URL(r.url()).pathname}`));
  fresh.on('requestfinished', (r) => finished.push(r));
  await fresh.goto(path);
  await waitForHydration(fresh);
  await fresh.waitForTimeout(2000);
  console.log(`requests of the instance page: ${requests.length}: ${requests.join(', ')}`);
  let wire = 0;
  const carried = [];
  for (const r of finished) {
    const { responseBodySize } = await r.sizes();
    const encoding = (await r.response())?.headers()['content-encoding'] ?? 'identity';
    wire += responseBodySize;
    carried.push(`${new URL(r.url()).pathname} ${(responseBodySize / 1024).toFixed(0)} KB ${encoding}`);
  }
  console.log(`on the wire while it loads (the event stream aside): ${(wire / 1024).toFixed(0)} KB: ${carried.join(', ')}`);
  await cold.close();

  // 3. Pod Ready → card updated.
  const latencies = [];
  for (let i = 0; i < 10; i++) {
    const target = 2 + (i % 2);
    await page.evaluate(() => { window.__cardAt = undefined; });
    await page.evaluate((want) => {
      const el = document.querySelector('[data-component="capture"] [data-testid="replicas"]');
      new MutationObserver(() => {
        if (el.textContent.startsWith(`${want}/`) && el.textContent.endsWith(`${want} ready`) && !window.__cardAt) window.__cardAt = Date.now();
      }).observe(el, { childList: true, characterData: true, subtree: true });
    }, target);
    const ready = waitForReadyPods(namespace, target);
    const view = await api('GET', `/api/v1/instances/${namespace}/ph`);
    const change = await api('POST', `/api/v1/instances/${namespace}/ph/changes/preview`, { baseRevision: view.body.revision, edits: [{ type: 'replicas', component: 'capture', replicas: target }] });
    await api('POST', `/api/v1/instances/${namespace}/ph/changes?wait=true`, { baseRevision: view.body.revision, edits: [{ type: 'replicas', component: 'capture', replicas: target }], planHash: change.body.planHash });
    const readyAt = await ready;
    await page.waitForFunction(() => window.__cardAt !== undefined, null, { timeout: 30_000 });
    const cardAt = await page.evaluate(() => window.__cardAt);
    latencies.push(cardAt - readyAt);
    // Back to one replica before the next round.
    const back = await api('GET', `/api/v1/instances/${namespace}/ph`);
    const p = await api('POST', `/api/v1/instances/${namespace}/ph/changes/preview`, { baseRevision: back.body.revision, edits: [{ type: 'replicas', component: 'capture', replicas: 1 }] });
    await api('POST', `/api/v1/instances/${namespace}/ph/changes?wait=true`, { baseRevision: back.body.revision, edits: [{ type: 'replicas', component: 'capture', replicas: 1 }], planHash: p.body.planHash });
    await page.waitForFunction(() => /^1\/1 ready/.test(document.querySelector('[data-component="capture"] [data-testid="replicas"]').textContent), null, { timeout: 30_000 });
  }
  console.log(`pod Ready → card: median ${median(latencies)} ms of 10 (${latencies.join(', ')} ms)`);
} finally {
  await browser.close();
  await api('DELETE', `/api/v1/instances/${namespace}/ph?wait=true`);
}

/// Resolves with Date.now() when `count` capture pods are Ready, seen on an apiserver watch.
function waitForReadyPods(ns, count) {
  const kubeconfig = readFileSync(process.env.KUBECONFIG ?? `${repo}end2end/cluster/.run/kubeconfig`, 'utf8');
  const field = (name) => kubeconfig.match(new RegExp(`${name}: (\\S+)`))?.[1];
  const server = field('server');
  const ca = Buffer.from(field('certificate-authority-data'), 'base64');
  const token = field('token');
  const url = new URL(`/api/v1/namespaces/${ns}/pods?watch=1&labelSelector=${encodeURIComponent('berth.dev/component=capture')}`, server);
  return new Promise((resolve, reject) => {
    const ready = new Map();
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let buffer = '';
      res.on('data', (chunk) => {
        buffer += chunk;
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const event = JSON.parse(line);
          const pod = event.object;
          const isReady = event.type !== 'DELETED' && !pod.metadata.deletionTimestamp
            && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
          ready.set(pod.metadata.name, isReady);
          if ([...ready.values()].filter(Boolean).length === count) {
            const at = Date.now();
            req.destroy();
            resolve(at);
          }
        }
      });
    });
    req.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
    req.end();
  });
}
