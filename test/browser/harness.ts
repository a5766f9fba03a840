/**
 * Setup of the browser test: a real Node-RED runtime in a child process with this package
 * installed, and Debian's chromium driven by playwright-core. Everything listens on 127.0.0.1
 * with ports the operating system picks.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type BrowserContext } from 'playwright-core';

export const repoRoot = path.join(__dirname, '..', '..');
export const artifactsDir = path.join(repoRoot, 'test-artifacts', 'browser');
export const CHROMIUM_PATH = '/usr/bin/chromium';

const packageJson = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  'node-red': { nodes: Record<string, string> };
};
export const packageName = packageJson.name;
/** Node types the package registers, the config node's included. */
export const nodeTypes = Object.keys(packageJson['node-red'].nodes);

/** How long Node-RED may take to load the nodes and open its HTTP server. */
const NODE_RED_START_MS = 20_000;
const NODE_RED_STOP_MS = 5_000;

/**
 * Throws when a compiled node file is missing: Node-RED loads `nodes/*.js`, which
 * `npm run build` writes from `src/`.
 */
export function assertNodesBuilt(): void {
  for (const file of Object.values(packageJson['node-red'].nodes)) {
    if (!fs.existsSync(path.join(repoRoot, file))) {
      throw new Error(`${file} is missing: run "npm run build" before the browser test`);
    }
  }
}

export interface NodeRedProcess {
  /** Editor URL, ending in a slash. */
  url: string;
  /** Everything the runtime printed so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts Node-RED in a throwaway user directory: this package linked into its
 * `node_modules`, the given flows, and the editor on 127.0.0.1 with a port picked by the
 * operating system (read back from the runtime's "Server now running" log line).
 */
export async function startNodeRed(flows: unknown[]): Promise<NodeRedProcess> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wled-jsonapi-browser-'));
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(repoRoot, path.join(userDir, 'node_modules', packageName), 'junction');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  fs.writeFileSync(path.join(userDir, 'settings.js'), settingsSource());

  const redJs = require.resolve('node-red/red.js', { paths: [repoRoot] });
  const child = spawn(
    process.execPath,
    [redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')],
    {
      cwd: userDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LANG: 'en_US.UTF-8' },
    },
  );

  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const stop = async (): Promise<void> => {
    await stopChild(child);
    fs.rmSync(userDir, { recursive: true, force: true });
  };

  try {
    const url = await waitForListenUrl(child, () => output);
    return { url, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Settings for the test runtime. Telemetry and the welcome tour are off because both open a
 * dialog over the workspace on the first visit. The update check and the palette manager's
 * catalogue would contact hosts outside loopback.
 */
function settingsSource(): string {
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: 0,
    flowFile: 'flows.json',
    credentialSecret: false,
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { tours: false, palette: { catalogues: [] } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
  return `module.exports = ${JSON.stringify(settings, null, 2)};\n`;
}

function waitForListenUrl(child: ChildProcess, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`Node-RED did not start within ${NODE_RED_START_MS} ms:\n${output()}`));
    }, NODE_RED_START_MS);

    const onData = (): void => {
      const match = /Server now running at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output());
      if (match) {
        finish();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null): void => {
      finish();
      reject(new Error(`Node-RED exited with code ${code} while starting:\n${output()}`));
    };
    const finish = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };

    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Stops a child with SIGINT (Node-RED then closes its nodes) and SIGKILL after a grace period. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), NODE_RED_STOP_MS);
  await exited;
  clearTimeout(timer);
}

export interface BrowserSession {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches headless chromium with a fresh profile. The background-networking, sync,
 * component-update and QUIC switches keep the browser from contacting outside hosts on its
 * own, which this test's machines refuse.
 */
export async function launchChromium(): Promise<BrowserSession> {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wled-jsonapi-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    // The assertions read the editor's English texts, and Node-RED follows the browser's language.
    locale: 'en-US',
    viewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
