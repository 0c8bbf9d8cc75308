// Finds and launches the system's headless Chromium for puppeteer-core (no download).
import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

const CANDIDATES = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium', '/usr/lib/chromium/chromium'];

/** The Chromium executable ($CHROMIUM first), or exits 1 with how to install it. */
export function chromiumPath() {
  const found = [process.env.CHROMIUM, ...CANDIDATES].filter(Boolean).find((c) => existsSync(c));
  if (!found) {
    console.error(`FAIL: no Chromium found (looked for $CHROMIUM, ${CANDIDATES.join(', ')}). `
      + 'Install it: apt-get install -y chromium-headless-shell (bash .ci/run does this).');
    process.exit(1);
  }
  return found;
}

/** Launches it headless. CI runs as root, where Chromium's sandbox cannot start. */
export function launch(executablePath) {
  return puppeteer.launch({
    executablePath,
    headless: executablePath.includes('headless-shell') ? 'shell' : true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars'],
  });
}
