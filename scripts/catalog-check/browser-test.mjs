#!/usr/bin/env node
// The docs site in headless Chromium, as a person would use it.
//
//   node scripts/catalog-check/browser-test.mjs --site DIR --schemas DIR --shots DIR
//
// Opens DIR/index.html from file:// in the system's Chromium (chromium-headless-shell or
// chromium; $CHROMIUM overrides), through puppeteer-core, and checks through the DOM:
//   - every event and command type under --schemas (events/*, commands/*) is listed;
//   - the search box filters (typing, several words, Escape, "/", ArrowDown, Enter);
//   - on patient.created v2 the PII badge is on `name` and `contact` (and not on `status`),
//     German enum labels are shown, the key/topic card is right, and the v1 -> v2 changes
//     show `insurance` added with the compat engine's rule id;
//   - the topic page shows the DLQ; every page has one h1; the page makes no network request.
// Screenshots of the index and the patient.created page go to --shots (CI artifacts).
// Fails (exit 1), never skips, when Chromium is missing.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromiumPath, launch } from './chromium.mjs';

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || !process.argv[i + 1]) {
    console.error(`usage: browser-test.mjs --site DIR --schemas DIR --shots DIR (missing --${name})`);
    process.exit(2);
  }
  return path.resolve(process.argv[i + 1]);
}
const site = arg('site');
const schemas = arg('schemas');
const shots = arg('shots');

const chromium = chromiumPath();

let failures = 0;
let checks = 0;
function check(ok, what) {
  checks += 1;
  if (!ok) {
    failures += 1;
    console.error(`FAIL: ${what}`);
  }
}

const expectedTypes = ['events', 'commands'].flatMap((kind) => {
  const dir = path.join(schemas, kind);
  return existsSync(dir) ? readdirSync(dir).filter((d) => !d.startsWith('.')) : [];
}).sort();
check(expectedTypes.length > 0, `no event types found under ${schemas}`);

mkdirSync(shots, { recursive: true });
const browser = await launch(chromium);
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  const offsite = [];
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    if (req.url().startsWith('file:') || req.url().startsWith('data:')) {
      req.continue();
    } else {
      offsite.push(req.url());
      req.abort();
    }
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const url = (rel) => pathToFileURL(path.join(site, rel)).href;
  const visibleTypes = () => page.$$eval('#by-topic li.event-entry', (lis) => lis
    .filter((li) => !li.hidden && li.closest('section.group') && !li.closest('section.group').hidden)
    .map((li) => li.dataset.eventType));
  const h1Count = () => page.$$eval('h1', (h) => h.length);

  // --- index ------------------------------------------------------------------------------
  await page.goto(url('index.html'), { waitUntil: 'load' });
  await page.screenshot({ path: path.join(shots, 'index.png'), fullPage: true });
  check(await h1Count() === 1, 'index: exactly one h1');
  const listed = (await visibleTypes()).sort();
  check(JSON.stringify(listed) === JSON.stringify(expectedTypes),
    `index lists every event type once: expected ${expectedTypes.join(',')}, got ${listed.join(',')}`);
  const labelled = await page.$eval('#search', (i) => i.labels.length === 1 && i.labels[0].textContent.trim().length > 0);
  check(labelled, 'search box has a label');
  const diagram = await page.$$eval('svg.diagram a', (a) => a.length);
  check(diagram > 0, 'index: the services diagram is inline SVG with topic links');

  // Keyboard: "/" focuses the search box.
  await page.focus('body');
  await page.keyboard.press('/');
  check(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'search', '"/" focuses the search box');
  await page.keyboard.type('insurance');
  let shown = await visibleTypes();
  check(JSON.stringify(shown) === JSON.stringify(['patient.created']), `search "insurance" shows only patient.created, got ${shown}`);
  const status = await page.$eval('#search-status', (s) => s.textContent);
  check(/1 event type matches/.test(status), `search announces the match count, got "${status}"`);
  await page.keyboard.press('Escape');
  shown = await visibleTypes();
  check(shown.length === expectedTypes.length, `Escape clears the search (${shown.length} shown)`);
  await page.keyboard.type('therapist block');
  shown = await visibleTypes();
  check(JSON.stringify(shown.sort()) === JSON.stringify(['therapist.blocked', 'therapist.unblocked']),
    `search "therapist block" (all words) shows therapist.blocked and .unblocked, got ${shown}`);
  await page.keyboard.press('Escape');
  await page.keyboard.type('patient-service zzzz-no-such-thing');
  shown = await visibleTypes();
  check(shown.length === 0, `a search without matches hides everything, got ${shown}`);
  await page.keyboard.press('Escape');
  await page.keyboard.type('email');
  await page.keyboard.press('ArrowDown');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.closest('li.event-entry')?.dataset.eventType);
  check(typeof focused === 'string' && focused.length > 0, `ArrowDown moves focus to the first result, got ${focused}`);
  await page.focus('#search');
  await page.keyboard.press('Escape');
  await page.keyboard.type('patient.created');
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
  check(page.url().endsWith('/events/patient.created.v2.html'), `Enter opens the first match (latest version), got ${page.url()}`);

  // --- patient.created v2 -----------------------------------------------------------------
  await page.goto(url('events/patient.created.v2.html'), { waitUntil: 'load' });
  await page.screenshot({ path: path.join(shots, 'patient.created.v2.png'), fullPage: true });
  check(await h1Count() === 1, 'event page: exactly one h1');
  const pii = async (field) => page.$eval(`tr[data-field="${field}"]`, (tr) => tr.querySelector('.badge.pii') !== null).catch(() => null);
  check(await pii('name') === true, 'PII badge on name');
  check(await pii('contact') === true, 'PII badge on contact');
  check(await pii('name.first_name') === true, 'PII badge on name.first_name');
  check(await pii('status') === false, 'no PII badge on status');
  check(await pii('patient_id') === false, 'no PII badge on patient_id');
  const statusRow = await page.$eval('tr[data-field="status"]', (tr) => tr.textContent);
  check(statusRow.includes('in_therapy') && statusRow.includes('in Therapie'), 'status lists enum values with German labels');
  const card = await page.$eval('section.card', (s) => s.textContent);
  check(card.includes('patient-events') && card.includes('patient_id') && card.includes('patient-events.dlq'), 'key and topic card');
  check(await page.$eval('#compatibility', (c) => c.textContent) === 'BACKWARD_TRANSITIVE', 'compatibility level shown');
  const added = await page.$$eval('tr.change', (rows) => rows.map((r) => [r.dataset.kind, r.dataset.path, r.dataset.rule]));
  check(added.some(([k, p, r]) => k === 'added' && p === 'insurance' && r === 'property-added-closed'),
    `changes v1 -> v2 show insurance added (property-added-closed), got ${JSON.stringify(added)}`);
  const examples = await page.$$eval('figure.example pre', (p) => p.map((x) => JSON.parse(x.textContent)));
  check(examples.length >= 2 && examples.some((x) => x.insurance), 'examples shown as JSON, one with insurance');

  await page.goto(url('events/patient.created.v1.html'), { waitUntil: 'load' });
  const v1changes = await page.$eval('#changes', (s) => s.textContent);
  check(v1changes.includes('First version'), 'v1 has no previous version');
  check(await pii('insurance') === null, 'v1 has no insurance field');

  // --- topic page -------------------------------------------------------------------------
  await page.goto(url('topics/patient-events.html'), { waitUntil: 'load' });
  check(await page.$eval('#dlq', (d) => d.textContent) === 'patient-events.dlq', 'topic page shows the DLQ');
  const onTopic = await page.$$eval('tbody th a', (a) => [...new Set(a.map((x) => x.textContent))].sort());
  check(JSON.stringify(onTopic) === JSON.stringify(['patient.created', 'patient.deleted', 'patient.updated']),
    `topic page lists its event types, got ${onTopic}`);

  check(offsite.length === 0, `no network requests (got ${offsite.join(', ')})`);
  check(errors.length === 0, `no script errors (got ${errors.join('; ')})`);
} finally {
  await browser.close();
}
if (failures) {
  console.error(`browser test: ${failures} of ${checks} checks failed`);
  process.exit(1);
}
console.log(`browser test: ${checks} checks passed (${chromium}); screenshots in ${shots}`);
