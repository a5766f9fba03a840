import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recordDevice, startEmulator, type Emulator } from '../../src/emulator';

const CLI = path.join(__dirname, '..', '..', 'src', 'emulator', 'cli.ts');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts the command line through tsx, collecting stdout and stderr. */
function runCli(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits until `pattern` appears in the output, failing after `timeoutMs`. */
async function waitForOutput(
  run: Run,
  pattern: RegExp,
  timeoutMs = 10000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(run.output());
    if (match !== null) {
      return match;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${pattern} in output within ${timeoutMs} ms: ${run.output()}`);
}

describe('emulator command line', () => {
  const running: Run[] = [];

  afterEach(() => {
    for (const run of running.splice(0)) {
      run.child.kill('SIGKILL');
    }
  });

  it('serves a device until SIGTERM', async () => {
    const run = runCli(['--port', '0', '--leds', '42', '--control-port', '0']);
    running.push(run);
    const [, url] = await waitForOutput(run, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const [, controlUrl] = await waitForOutput(run, /Fault control on (http:\/\/127\.0\.0\.1:\d+)/);

    const state = await fetch(`${url}/json/state`);
    const info = (await (await fetch(`${url}/json/info`)).json()) as { leds: { count: number } };
    const stats = (await (await fetch(`${controlUrl}/stats`)).json()) as { requests: number };
    run.child.kill('SIGTERM');

    assert.equal(state.status, 200);
    assert.equal(state.headers.get('connection'), 'close');
    assert.equal(info.leds.count, 42);
    assert.equal(stats.requests, 2);
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /Received SIGTERM, stopping the emulator/);
  });

  it('prints help', async () => {
    const run = runCli(['--help']);
    running.push(run);

    assert.equal(await run.exited, 0);
    assert.match(run.output(), /--profile NAME/);
    assert.match(run.output(), /POST {3}\/faults/);
  });

  it('rejects an invalid latency', async () => {
    const run = runCli(['--port', '0', '--latency', '250-150']);
    running.push(run);

    assert.equal(await run.exited, 1);
    assert.match(run.output(), /invalid --latency "250-150"/);
  });

  describe('recording', () => {
    let emulator: Emulator;
    let outDir: string;

    beforeEach(async () => {
      emulator = await startEmulator();
      outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wled-record-'));
    });

    afterEach(async () => {
      await emulator.close();
      fs.rmSync(outDir, { recursive: true, force: true });
    });

    it('saves every GET endpoint byte for byte', async () => {
      const result = await recordDevice({ url: emulator.url, outDir });
      const query = new URLSearchParams();

      for (const [endpoint, file] of [
        ['/json/state', 'state.json'],
        ['/json/info', 'info.json'],
        ['/json/eff', 'eff.json'],
        ['/json/pal', 'pal.json'],
        ['/json/fxdata', 'fxdata.json'],
      ]) {
        const expected = emulator.device.handleGet(endpoint, query).body;
        assert.equal(fs.readFileSync(path.join(outDir, file), 'utf8'), expected, file);
      }
      const firstPage = JSON.parse(
        fs.readFileSync(path.join(outDir, 'palx', 'page-0.json'), 'utf8'),
      );
      const pages = fs.readdirSync(path.join(outDir, 'palx'));
      assert.equal(pages.length, firstPage.m + 1);
      assert.ok(result.files.includes('presets.json'));
      assert.ok(result.files.includes('si.json'));
      assert.ok(result.files.includes('json.json'));
    });

    it('sends only GET requests', async () => {
      await recordDevice({ url: emulator.url, outDir });
      const stats = emulator.stats();

      assert.deepEqual(stats.postsByPath, {});
      assert.equal(stats.maxConcurrent, 1);
    });

    it('serves a recorded profile', async () => {
      await recordDevice({ url: emulator.url, outDir });
      const copy = await startEmulator({ profile: outDir });
      try {
        const info = copy.device.snapshot().info;
        const original = emulator.device.snapshot().info;
        assert.equal(info.ver, original.ver);
        assert.deepEqual(
          Object.keys(copy.device.snapshot().state),
          Object.keys(emulator.device.snapshot().state),
        );

        const presets = copy.device.handleGet('/presets.json', new URLSearchParams());
        const originalPresets = emulator.device.handleGet('/presets.json', new URLSearchParams());
        assert.equal(presets.body, originalPresets.body);
      } finally {
        await copy.close();
      }
    });

    it('records through the command line', async () => {
      const run = runCli(['--record', emulator.url, '--out', outDir]);
      running.push(run);

      assert.equal(await run.exited, 0);
      assert.match(run.output(), /Recorded \d+ files/);
      assert.ok(fs.existsSync(path.join(outDir, 'state.json')));
    });

    it('requires --out with --record', async () => {
      const run = runCli(['--record', emulator.url]);
      running.push(run);

      assert.equal(await run.exited, 1);
      assert.match(run.output(), /missing --out DIR/);
    });
  });
});
