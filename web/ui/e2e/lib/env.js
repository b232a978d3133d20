// Where things are, and what the suite needs before it can run.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS = join(E2E_DIR, 'artifacts');
export const APILENS_BIN = resolve(E2E_DIR, process.env.APILENS_BIN || '../../../bin/apilens');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
export const IN_CI = process.env.CI === 'true';

/**
 * A missing prerequisite: in CI the suite fails with `message`; on a
 * developer's machine the tests are skipped with it.
 */
export class Missing extends Error {}

export function checkChromium() {
  if (!existsSync(CHROMIUM)) {
    return new Missing(
      `chromium not found at ${CHROMIUM}: install Debian's chromium (sudo apt-get install chromium), ` +
        'or point CHROMIUM at a chromium binary; the suite never downloads a browser',
    );
  }
  return null;
}

export function checkBinary() {
  if (!existsSync(APILENS_BIN)) {
    return new Missing(`apilens binary not found at ${APILENS_BIN}: run \`make build\` in the repository root, or set APILENS_BIN`);
  }
  return null;
}

export const UI_NOT_BUILT = new Missing(
  'the server answers that it was built without the web dashboard: build the UI (cd web/ui && npm ci && npm run build) ' +
    'and then the binary (make build), which embeds it',
);
