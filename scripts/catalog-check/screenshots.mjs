#!/usr/bin/env node
// The README's screenshots of the docs site (small PNGs, committed under docs/img/).
//
//   node scripts/catalog-check/screenshots.mjs --site DIR --out docs/img
//
// Takes the top of the index and of the patient.created v2 page at 1000 px width.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromiumPath, launch } from './chromium.mjs';

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || !process.argv[i + 1]) {
    console.error(`usage: screenshots.mjs --site DIR --out DIR (missing --${name})`);
    process.exit(2);
  }
  return path.resolve(process.argv[i + 1]);
}
const site = arg('site');
const out = arg('out');
mkdirSync(out, { recursive: true });
const browser = await launch(chromiumPath());
try {
  const page = await browser.newPage();
  for (const [rel, file, height] of [
    ['index.html', 'catalog-index.png', 760],
    ['events/patient.created.v2.html', 'catalog-event.png', 1000],
  ]) {
    await page.setViewport({ width: 1000, height, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(path.join(site, rel)).href, { waitUntil: 'load' });
    await page.screenshot({ path: path.join(out, file) });
    console.log(`${path.join(out, file)}`);
  }
} finally {
  await browser.close();
}
