#!/usr/bin/env node
// `npm start`: runs Node-RED with this package installed and the demo flow deployed, wired to
// the WLED emulator on 127.0.0.1 (or to a real device given by WLED_HOST).
//
// Environment:
//   WLED_HOST      address of a real WLED device; the emulator is not started
//   EMULATOR_PORT  port of the emulator (default 8080)
//   CONTROL_PORT   port of the emulator's fault-control endpoint (default EMULATOR_PORT + 1)
//   PORT           port of the Node-RED editor (default 1880)

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setInterval, setTimeout, clearTimeout } = require('node:timers');

const root = path.join(__dirname, '..');
const packageName = require(path.join(root, 'package.json')).name;
const nodeFiles = Object.values(require(path.join(root, 'package.json'))['node-red'].nodes);

const editorPort = Number(process.env.PORT || 1880);
const emulatorPort = Number(process.env.EMULATOR_PORT || 8080);
const controlPort = Number(process.env.CONTROL_PORT || emulatorPort + 1);

// How long Node-RED gets to stop its flows after SIGINT before it is killed. Node-RED itself
// gives each node up to 15 s to close (the nodeCloseTimeout default in Node-RED 4.1).
const NODE_RED_STOP_MS = 20000;

/** Parts that main() has started and stop() must undo. */
const running = { emulator: undefined, userDir: undefined, nodeRed: undefined };
let stopping = false;
let stdoutOpen = true;

// SIGHUP arrives when the terminal is closed, the others on Ctrl-C and from process managers.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => void stop(0));
}
// A closed output pipe (`npm start | head`) or terminal makes writes fail. No process reads the
// output any more then, so stop everything instead of crashing, which would leave Node-RED
// running and the user directory behind.
process.stdout.on('error', () => {
  stdoutOpen = false;
  void stop(0);
});
process.stderr.on('error', () => void stop(0));

// `kill <npm's pid>` ends npm and the shell it started, but npm 11 does not pass the signal on
// to this script. A parent that has gone away therefore means stop as well.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) {
    void stop(0);
  }
}, 1000).unref();

main().catch((err) => {
  console.error(`npm start failed: ${err && err.stack ? err.stack : err}`);
  void stop(1);
});

async function main() {
  buildIfNeeded();

  let emulator;
  let host = process.env.WLED_HOST;
  if (host) {
    // The same check the device node makes, so a typo stops here instead of in the flow.
    const { parseHost } = require(path.join(root, 'nodes', 'lib', 'wled', 'host.js'));
    try {
      parseHost(host);
    } catch (err) {
      console.error(`WLED_HOST: ${err.message}`);
      process.exit(2);
    }
    console.log(`Using the WLED device at ${host}`);
  } else {
    const { startEmulator } = require(path.join(root, 'nodes', 'emulator', 'index.js'));
    emulator = await startEmulator({ host: '127.0.0.1', port: emulatorPort, controlPort });
    running.emulator = emulator;
    host = `127.0.0.1:${emulator.port}`;
    console.log(`WLED emulator running at ${emulator.url}`);
    console.log(
      `Fault control at ${emulator.controlUrl}, for example: ` +
        `curl -X POST -H 'Content-Type: application/json' ` +
        `-d '{"kind":"refuse-connections","forMs":10000}' ${emulator.controlUrl}/faults`,
    );
  }

  running.userDir = prepareUserDir(host);
  const nodeRed = startNodeRed(running.userDir);
  running.nodeRed = nodeRed;
  nodeRed.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`Node-RED stopped (${signal ? `signal ${signal}` : `exit code ${code}`})`);
      void stop(code || 1);
    }
  });
}

/**
 * Stops Node-RED and the emulator, deletes the user directory and exits with `code`. Runs
 * once; later calls return at once.
 */
async function stop(code) {
  if (stopping) {
    return;
  }
  stopping = true;

  const { nodeRed, emulator, userDir } = running;
  // A child that a signal ended has no exit code, only a signal code.
  if (nodeRed && nodeRed.exitCode === null && nodeRed.signalCode === null) {
    const exited = new Promise((resolve) => nodeRed.once('exit', resolve));
    nodeRed.kill('SIGINT');
    const killTimer = setTimeout(() => nodeRed.kill('SIGKILL'), NODE_RED_STOP_MS);
    await exited;
    clearTimeout(killTimer);
  }
  if (emulator) {
    await emulator.close();
  }
  if (userDir) {
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  process.exit(code);
}

/** Compiles the TypeScript sources when a node file is missing or older than any source. */
function buildIfNeeded() {
  const newestSource = newestMtime(path.join(root, 'src'));
  const stale = nodeFiles.some((file) => {
    const target = path.join(root, file);
    return !fs.existsSync(target) || fs.statSync(target).mtimeMs < newestSource;
  });
  const iconsMissing = !fs.existsSync(path.join(root, 'nodes', 'icons'));
  if (!stale && !iconsMissing) {
    return;
  }

  console.log('Building the nodes (npm run build)…');
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  // tsc writes the JavaScript even when it reports type errors. So the demo runs whenever the
  // node files exist afterwards, whatever the exit code.
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    console.warn('The TypeScript build reported errors; trying to start anyway.');
  }
  spawnSync(process.execPath, [path.join(root, 'scripts', 'copy-icons.js')], { stdio: 'inherit' });

  for (const file of nodeFiles) {
    if (!fs.existsSync(path.join(root, file))) {
      throw new Error(`The build did not produce ${file}; run "npm run build" and fix its errors`);
    }
  }
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs;
    newest = Math.max(newest, mtime);
  }
  return newest;
}

/**
 * Creates a throwaway Node-RED user directory: this package linked into its node_modules,
 * the demo flow (device host replaced) as its flows file and a settings file that keeps the
 * editor on 127.0.0.1.
 */
function prepareUserDir(host) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wled-jsonapi-demo-'));
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(root, path.join(userDir, 'node_modules', packageName), 'junction');

  const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'demo.json'), 'utf8'));
  for (const node of flow) {
    if (node.type === 'wled-jsonapi-device') {
      node.host = host;
    }
  }
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow, null, 2));

  const settings = {
    uiHost: '127.0.0.1',
    uiPort: editorPort,
    flowFile: 'flows.json',
    // The directory is deleted on exit, so there is nothing worth encrypting.
    credentialSecret: false,
    logging: { console: { level: 'info', metrics: false, audit: false } },
    // Without this the editor requests consent to contact nodered.org for update checks.
    telemetry: { enabled: false },
    // The welcome tour would cover the demo flow on every start, as each user directory is new.
    // No catalogue keeps the editor from fetching the node list from catalogue.nodered.org, so
    // the demo talks to nothing but 127.0.0.1 (and WLED_HOST when given).
    editorTheme: { tours: false, palette: { catalogues: [] } },
  };
  fs.writeFileSync(
    path.join(userDir, 'settings.js'),
    `module.exports = ${JSON.stringify(settings, null, 2)};\n`,
  );

  return userDir;
}

function startNodeRed(userDir) {
  const redJs = require.resolve('node-red/red.js', { paths: [root] });
  const child = spawn(
    process.execPath,
    [redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')],
    { cwd: userDir, stdio: ['ignore', 'pipe', 'inherit'] },
  );

  let announced = false;
  child.stdout.on('data', (chunk) => {
    if (!stdoutOpen) {
      return;
    }
    process.stdout.write(chunk);
    if (!announced && chunk.toString().includes('Started flows')) {
      announced = true;
      console.log(
        `\nNode-RED editor: http://127.0.0.1:${editorPort}/  (Ctrl-C stops everything)\n`,
      );
    }
  });
  return child;
}
