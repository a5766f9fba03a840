import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Emulator } from '../../src/emulator/types';
import {
  allNodes,
  buildFlow,
  closedPort,
  emulatorFor,
  getNode,
  helper,
  Inbox,
  nodeRedPackageDir,
  repoRoot,
} from './helpers';

const GET_STATE = { type: 'wled-jsonapi-get-state' as const, resource: 'state' };

describe('admin endpoints', function () {
  let emulator: Emulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  beforeEach(async () => {
    emulator = await emulatorFor();
    await helper.load(allNodes, buildFlow(`127.0.0.1:${emulator.port}`, GET_STATE));
  });

  afterEach(async () => {
    await helper.unload();
    await emulator.close();
  });

  it('lists effects with fxdata and palettes', async () => {
    const res = await helper.request().get('/wled-jsonapi/devices/dev/effects');

    assert.equal(res.status, 200);
    const effects = res.body.effects as Array<{
      id: number;
      name: string;
      fxdata?: { sliders: unknown[] };
    }>;
    const palettes = res.body.palettes as Array<{ id: number; name: string }>;
    const rainbow = effects.find((effect) => effect.name === 'Rainbow');
    assert.ok(rainbow, 'Rainbow is listed');
    assert.equal(res.body.hasFxdata, true);
    assert.ok(Array.isArray(rainbow.fxdata?.sliders));
    assert.ok(palettes.some((palette) => palette.name === 'Party'));
  });

  it('lists segments and presets', async () => {
    const segments = await helper.request().get('/wled-jsonapi/devices/dev/segments');
    assert.equal(segments.status, 200);
    assert.equal((segments.body.segments as Array<{ id: number }>)[0].id, 0);

    const presets = await helper.request().get('/wled-jsonapi/devices/dev/presets');
    assert.equal(presets.status, 200);
    const list = presets.body.presets as Array<{ id: number; name: string; playlist: boolean }>;
    assert.ok(list.length > 0);
    assert.ok(list.every((preset) => preset.id > 0 && typeof preset.name === 'string'));
  });

  it('tests the connection of a deployed device', async () => {
    const res = await helper.request().get('/wled-jsonapi/devices/dev/test');

    const info = emulator.device.snapshot().info as {
      name: string;
      ver: string;
      leds: { count: number };
    };
    assert.equal(res.status, 200);
    assert.equal(res.body.name, info.name);
    assert.equal(res.body.version, info.ver);
    assert.equal(res.body.leds, info.leds.count);
    assert.equal(typeof res.body.rttMs, 'number');
  });

  it('serves the counters of a deployed device', async () => {
    const out1 = new Inbox('out1');
    getNode('n1').receive({ payload: null });
    await out1.at(0);

    const res = await helper.request().get('/wled-jsonapi/devices/dev/stats');

    assert.equal(res.status, 200);
    const client = res.body.client as { state: string; requests: number; successes: number };
    assert.equal(client.state, 'connected');
    assert.ok(client.requests >= 1, `requests: ${client.requests}`);
    assert.equal(client.successes, client.requests);
    assert.equal((res.body.live as { mode: string }).mode, 'stopped');
  });

  it('answers 404 for the counters of an undeployed node', async () => {
    const res = await helper.request().get('/wled-jsonapi/devices/not-there/stats');

    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'not-deployed');
  });

  it('answers 404 for a node that is not deployed', async () => {
    const res = await helper.request().get('/wled-jsonapi/devices/not-there/effects');

    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'not-deployed');
  });

  it('answers 404 for an unknown query', async () => {
    const res = await helper.request().get('/wled-jsonapi/devices/dev/secrets');

    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'not-found');
  });

  it('probes a host that is not deployed yet', async () => {
    const res = await helper
      .request()
      .post('/wled-jsonapi/probe/test')
      .send({ host: `127.0.0.1:${emulator.port}` });

    assert.equal(res.status, 200);
    assert.equal(res.body.version, (emulator.device.snapshot().info as { ver: string }).ver);
  });

  it('rejects a probe host with a path without a request', async () => {
    const before = emulator.stats().requests;

    const res = await helper
      .request()
      .post('/wled-jsonapi/probe/effects')
      .send({ host: `127.0.0.1:${emulator.port}/json/state?on=false` });

    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid-input');
    assert.equal(emulator.stats().requests, before);
  });

  it('rejects a probe without a host', async () => {
    const res = await helper.request().post('/wled-jsonapi/probe/test').send({});

    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid-input');
  });

  it('classifies a probe of a closed port', async () => {
    const port = await closedPort();

    const res = await helper
      .request()
      .post('/wled-jsonapi/probe/test')
      .send({ host: `127.0.0.1:${port}` });

    assert.equal(res.status, 502);
    assert.equal(res.body.error, 'unreachable');
  });
});

describe('admin endpoint permissions in a real Node-RED', function () {
  this.timeout(30000);

  let userDir: string;
  let nodeRed: ChildProcess;
  let baseUrl: string;

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wled-jsonapi-auth-'));
    fs.mkdirSync(path.join(userDir, 'node_modules'));
    fs.symlinkSync(
      repoRoot,
      path.join(userDir, 'node_modules', 'node-red-contrib-wled-jsonapi'),
      'junction',
    );

    // bcryptjs is a dependency of Node-RED, which checks admin passwords with it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bcrypt = require(require.resolve('bcryptjs', { paths: [nodeRedPackageDir()] })) as {
      hashSync(password: string, rounds: number): string;
    };
    const port = await closedPort();
    const settings = {
      uiHost: '127.0.0.1',
      uiPort: port,
      flowFile: 'flows.json',
      credentialSecret: false,
      adminAuth: {
        type: 'credentials',
        users: [
          { username: 'reader', password: bcrypt.hashSync('reader-pass', 4), permissions: 'read' },
        ],
      },
    };
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      `module.exports = ${JSON.stringify(settings)};`,
    );
    fs.writeFileSync(path.join(userDir, 'flows.json'), '[]');

    const redJs = path.join(nodeRedPackageDir(), 'red.js');
    nodeRed = spawn(
      process.execPath,
      [redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    baseUrl = `http://127.0.0.1:${port}`;

    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`Node-RED did not start:\n${output}`)),
        25000,
      );
      nodeRed.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Started flows')) {
          clearTimeout(timer);
          resolve();
        }
      });
      nodeRed.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Node-RED exited with code ${code}:\n${output}`));
      });
    });
  });

  after(async () => {
    if (nodeRed && nodeRed.exitCode === null) {
      const exited = new Promise((resolve) => nodeRed.once('exit', resolve));
      nodeRed.kill('SIGINT');
      await exited;
    }
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function token(username: string, password: string, scope: string): Promise<string> {
    const res = await fetch(`${baseUrl}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope,
        username,
        password,
      }),
    });
    assert.equal(res.status, 200, 'token issued');
    return ((await res.json()) as { access_token: string }).access_token;
  }

  it('rejects a device query without a token', async () => {
    const res = await fetch(`${baseUrl}/wled-jsonapi/devices/any/effects`);

    assert.equal(res.status, 401);
  });

  it('rejects a probe without a token', async () => {
    const res = await fetch(`${baseUrl}/wled-jsonapi/probe/test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ host: '127.0.0.1:1' }),
    });

    assert.equal(res.status, 401);
  });

  it('lets a reader query and rejects the reader probe', async () => {
    const access = await token('reader', 'reader-pass', 'read');
    const headers = { authorization: `Bearer ${access}`, 'content-type': 'application/json' };

    // 404 not-deployed comes from our route, so the permission check passed.
    const query = await fetch(`${baseUrl}/wled-jsonapi/devices/any/effects`, { headers });
    assert.equal(query.status, 404);
    assert.equal(((await query.json()) as { error: string }).error, 'not-deployed');

    const probe = await fetch(`${baseUrl}/wled-jsonapi/probe/test`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ host: '127.0.0.1:1' }),
    });
    assert.equal(probe.status, 401);
  });
});
