// The apilens server under test: one per run, on a free loopback port, with a
// fresh data directory, seeded with deterministic simulated traffic and a few
// users. Everything here speaks to the server the way a script would (the
// CLI, HTTP Basic), never through the dashboard.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { ARTIFACTS } from './env.js';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The seeded traffic. The simulator is deterministic for a seed and a time
// window, so the figures depend only on these constants and on the hour the
// run starts at (the window ends on the last whole hour).
export const SEED = {
  seed: 7,
  events: 30000,
  hours: 72, // history spread over the 72 hours before the last whole hour
  logs: process.env.E2E_SEED_LOGS !== '0', // also post the matching gateway log lines
};

// The users the suite logs in as (besides the bootstrap admin).
export const USERS = {
  appdev: { roles: ['application_analytics:view'] },
};

/** A free TCP port on the loopback interface (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export class ApilensServer {
  /** opts.logName: the server's log file in artifacts/ (server.log). */
  constructor(bin, opts = {}) {
    this.bin = bin;
    this.logName = opts.logName || 'server.log';
    this.admin = { name: 'admin', password: 'e2e-' + randomBytes(12).toString('hex') };
    this.users = {};
    this.proc = null;
    this.dataDir = null;
    this.base = null;
  }

  /** HTTP Basic header for a user (the admin by default). */
  basic(user = this.admin) {
    return 'Basic ' + Buffer.from(`${user.name}:${user.password}`).toString('base64');
  }

  /** GET a JSON endpoint with HTTP Basic; returns {status, body}. */
  async api(path, { user = this.admin, method = 'GET', body } = {}) {
    const res = await fetch(this.base + path, {
      method,
      headers: {
        authorization: this.basic(user),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, text };
  }

  /** Like api() but fails unless the answer is 200. */
  async json(path, opts) {
    const r = await this.api(path, opts);
    if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    return r.body;
  }

  async start() {
    this.dataDir = mkdtempSync(join(tmpdir(), 'apilens-e2e-'));
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    mkdirSync(ARTIFACTS, { recursive: true });
    const log = createWriteStream(join(ARTIFACTS, this.logName));
    this.proc = spawn(
      this.bin,
      ['server', '--data-dir', this.dataDir, '--http-addr', `127.0.0.1:${port}`],
      {
        env: {
          ...process.env,
          APILENS_ADMIN_USER: this.admin.name,
          APILENS_ADMIN_PASSWORD: this.admin.password,
          // The data-bridge receivers' fixed default ports may be taken on
          // a developer's machine; the suite does not use them.
          APILENS_DATABRIDGE_BINARY_ADDR: '127.0.0.1:0',
          APILENS_DATABRIDGE_BINARY_TLS_ADDR: '127.0.0.1:0',
          APILENS_DATABRIDGE_THRIFT_ADDR: '127.0.0.1:0',
          APILENS_DATABRIDGE_THRIFT_TLS_ADDR: '127.0.0.1:0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // Should the test process die before after() runs, take the server along.
    const proc = this.proc;
    process.once('exit', () => proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL'));
    this.proc.stdout.pipe(log);
    this.proc.stderr.pipe(log);
    let exited = null;
    this.proc.on('exit', (code, signal) => {
      exited = { code, signal };
    });
    const deadline = Date.now() + 20000;
    for (;;) {
      if (exited) throw new Error(`apilens server exited early (${JSON.stringify(exited)}); see artifacts/${this.logName}`);
      try {
        const res = await fetch(this.base + '/readyz');
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`apilens server not ready within 20 s; see artifacts/${this.logName}`);
      await sleep(100);
    }
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      const done = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
      await done;
      clearTimeout(timer);
    }
    this.proc = null;
    if (this.dataDir && !process.env.E2E_KEEP_DATA) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Whether the server serves the built dashboard (not the "not built" page). */
  async uiBuilt() {
    const res = await fetch(this.base + '/');
    const text = await res.text();
    // The stand-in page says "built without the web dashboard" (it said
    // "the dashboard is not built" before); the app's index.html loads scripts.
    if (!res.ok || /built without the web dashboard|dashboard is not built/i.test(text)) return false;
    return /<script\b/i.test(text);
  }

  /**
   * Adds a local user with the CLI. The CLI opens the SQLite database
   * directly; SQLite (WAL) lets it do so next to the running server, and the
   * server reads users from the database on each login, so no restart.
   */
  async addUser(name, roles) {
    const password = 'pw-' + randomBytes(10).toString('hex');
    const args = ['users', 'add', name, '--data-dir', this.dataDir, '--password', password];
    for (const r of roles) args.push('--role', r);
    await run(this.bin, args, { env: process.env });
    this.users[name] = { name, password, roles };
    return this.users[name];
  }

  /**
   * Publishes SEED.events simulated events spread over the SEED.hours hours
   * before the last whole hour, then waits until the summary counts them all.
   * Returns the window, [from, to), as Dates.
   */
  async seed() {
    const hour = 3600e3;
    const to = new Date(Math.floor(Date.now() / hour) * hour);
    const from = new Date(to.getTime() - SEED.hours * hour);
    const iso = (d) => d.toISOString().replace('.000Z', 'Z');
    await run(
      this.bin,
      [
        'simulate',
        '--url', this.base,
        '--seed', String(SEED.seed),
        '--count', String(SEED.events),
        '--backfill-from', iso(from),
        '--backfill-to', iso(to),
        // The gateways' log lines that go with the traffic, for the Log
        // Analyzer's pages (the events are the same with or without).
        ...(SEED.logs ? ['--logs'] : []),
      ],
      {
        env: { ...process.env, APILENS_ADMIN_USER: this.admin.name, APILENS_ADMIN_PASSWORD: this.admin.password },
        timeout: 120000,
      },
    );
    const q = `/api/v1/traffic/summary?from=${iso(from)}&to=${iso(to)}`;
    const deadline = Date.now() + 60000;
    let last;
    for (;;) {
      last = await this.json(q);
      if (last.requests === SEED.events) break;
      if (last.requests > SEED.events) throw new Error(`summary counts ${last.requests} events, more than the ${SEED.events} published`);
      if (Date.now() > deadline) throw new Error(`only ${last.requests} of ${SEED.events} events counted after 60 s`);
      await sleep(250);
    }
    this.window = { from, to, fromISO: iso(from), toISO: iso(to) };
    return this.window;
  }
}

export function binaryExists(bin) {
  return existsSync(bin);
}
