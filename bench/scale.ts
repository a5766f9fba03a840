/**
 * Scale: many device config nodes, each with a get-state, a set-state and an effect node, in
 * one Node-RED runtime. Each device has its own emulator, all in a child process, so the
 * Node-RED process's memory and CPU figures hold only the runtime and our nodes.
 *
 * Measured: deploy time, memory per device when idle, get-state requests per second across
 * all devices, redeploy time, and the process's sockets and timers after the redeploy
 * compared with after the first deploy.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import v8 from 'node:v8';
import vm from 'node:vm';

import {
  bytes,
  medianOf,
  ms,
  printTable,
  sleep,
  waitUntil,
  type BenchOptions,
  type BenchResult,
} from './harness';
import { deployFlow, getNode, loadFlow, startRuntime, unloadFlow, type FlowNode } from './nodered';
import { latencyLabel, WIFI_LATENCY_MS } from './setup';

/** Longest wait for a deploy to report its flows started, in ms; it only bounds the run. */
const DEPLOY_TIMEOUT_MS = 60000;

interface ScaleSetting {
  devices: number;
  /** Idle time after a deploy before memory and handles are read, in ms. */
  idleMs: number;
  /** Length of the request-rate window, in ms. */
  loadMs: number;
  /** Load before the redeploy under load, in ms. */
  busyLoadMs: number;
  /** Wait after the redeploy under load before counting handles, in ms. In the full run it
   *  is longer than the device client's close grace (1000 ms by default), after which any
   *  request of the old deploy has been aborted. */
  settleMs: number;
}

function settingFor(options: BenchOptions): ScaleSetting {
  return options.smoke
    ? { devices: 5, idleMs: 50, loadMs: 300, busyLoadMs: 100, settleMs: 200 }
    : { devices: 200, idleMs: 2000, loadMs: 5000, busyLoadMs: 1000, settleMs: 1500 };
}

// ---------------------------------------------------------------------------------------
// The emulators' child process

interface Farm {
  ports: number[];
  stats(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

async function startFarm(count: number, latencyMs: [number, number]): Promise<Farm> {
  const script = path.join(__dirname, 'emulator-farm.ts');
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--import', 'tsx', script, String(count), String(latencyMs[0]), String(latencyMs[1])],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let errorOutput = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errorOutput += chunk.toString('utf8');
  });

  const lines = readline.createInterface({ input: child.stdout });
  const pending: Array<(line: string) => void> = [];
  lines.on('line', (line) => pending.shift()?.(line));
  const nextLine = (): Promise<string> =>
    new Promise((resolve, reject) => {
      pending.push(resolve);
      child.once('exit', (code) =>
        reject(new Error(`the emulator process exited with code ${code}: ${errorOutput}`)),
      );
    });

  const { ports } = JSON.parse(await nextLine()) as { ports: number[] };
  return {
    ports,
    stats: async () => {
      const reply = nextLine();
      child.stdin.write('stats\n');
      return JSON.parse(await reply) as Record<string, number>;
    },
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end('close\n');
      }),
  };
}

// ---------------------------------------------------------------------------------------
// Flows

/** Node-RED treats a node without x and y as a config node, so flow nodes get a position. */
const AT = { x: 100, y: 100 };

function counterNodes(): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'scale' },
    { id: 'ok', z: 'tab', type: 'helper', ...AT },
    { id: 'failed', z: 'tab', type: 'helper', ...AT },
    {
      id: 'catch-all',
      z: 'tab',
      type: 'catch',
      scope: null,
      uncaught: false,
      wires: [['caught']],
      ...AT,
    },
    { id: 'caught', z: 'tab', type: 'helper', ...AT },
  ];
}

/** Devices `dev-i`, each with get-state `get-i` (wired to the counters), `set-i` and `fx-i`. */
function scaleFlow(ports: number[]): FlowNode[] {
  const flow = counterNodes();
  ports.forEach((port, i) => {
    flow.push(
      {
        id: `dev-${i}`,
        type: 'wled-jsonapi-device',
        name: `device ${i}`,
        host: `127.0.0.1:${port}`,
      },
      {
        id: `get-${i}`,
        z: 'tab',
        type: 'wled-jsonapi-get-state',
        device: `dev-${i}`,
        resource: 'state',
        wires: [['ok'], ['failed']],
        ...AT,
      },
      {
        id: `set-${i}`,
        z: 'tab',
        type: 'wled-jsonapi-set-state',
        device: `dev-${i}`,
        wires: [[], []],
        ...AT,
      },
      {
        id: `fx-${i}`,
        z: 'tab',
        type: 'wled-jsonapi-effect',
        device: `dev-${i}`,
        effect: 'Solid',
        wires: [[], []],
        ...AT,
      },
    );
  });
  return flow;
}

// ---------------------------------------------------------------------------------------
// Process figures

interface MemoryReading {
  heapUsed: number;
  rss: number;
}

/**
 * Returns a function that forces a full garbage collection: `global.gc` when Node runs with
 * --expose-gc, else one obtained by setting that flag now (a V8 flag change after start-up,
 * which Node documents as possibly unstable but which works for gc on Node 18 to 22).
 */
function findGc(): (() => void) | undefined {
  if (typeof global.gc === 'function') {
    return global.gc;
  }
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

const forceGc = findGc();

async function readMemory(): Promise<MemoryReading> {
  if (forceGc !== undefined) {
    // Two passes: the first can leave objects whose finalizers free more.
    forceGc();
    await sleep(10);
    forceGc();
  }
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, rss: usage.rss };
}

/** Open sockets and timers of this process, as Node reports its active resources. */
function countHandles(): { sockets: number; timers: number } {
  const resources = process.getActiveResourcesInfo();
  return {
    sockets: resources.filter((kind) => kind === 'TCPSocketWrap').length,
    timers: resources.filter((kind) => kind === 'Timeout').length,
  };
}

// ---------------------------------------------------------------------------------------
// Load: every get-state node keeps one message in flight for the window

interface LoadResult {
  completed: number;
  failed: number;
  seconds: number;
  /** CPU time of this process over the window, as a share of one core. */
  cpuShare: number;
  latenciesMs: number[];
}

/**
 * Keeps one get-state message in flight per device for `loadMs`. Then, without `interrupt`,
 * waits for the messages still on the wire; with it, calls it while they are on the wire.
 */
async function runLoad(
  devices: number,
  loadMs: number,
  interrupt?: () => Promise<void>,
): Promise<LoadResult> {
  let completed = 0;
  let failed = 0;
  let accepting = true;
  const sentAt: number[] = new Array(devices).fill(0);
  const latenciesMs: number[] = [];

  const send = (device: number): void => {
    sentAt[device] = performance.now();
    getNode(`get-${device}`).receive({ payload: null, device });
  };
  const onReply = (msg: Record<string, unknown>, ok: boolean): void => {
    const device = msg.device as number;
    latenciesMs.push(performance.now() - sentAt[device]);
    if (ok) {
      completed += 1;
    } else {
      failed += 1;
    }
    if (accepting) {
      send(device);
    }
  };
  getNode('ok').on('input', (msg) => onReply(msg, true));
  getNode('caught').on('input', (msg) => onReply(msg, false));

  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (let device = 0; device < devices; device += 1) {
    send(device);
  }
  await sleep(loadMs);
  accepting = false;
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const completedInWindow = completed;
  const failedInWindow = failed;

  if (interrupt === undefined) {
    await waitUntil(
      () => completed + failed >= completedInWindow + failedInWindow + devices,
      10000,
    );
  } else {
    await interrupt();
  }
  return {
    completed: completedInWindow,
    failed: failedInWindow,
    seconds,
    cpuShare: (cpu.user + cpu.system) / 1000 / (seconds * 1000),
    latenciesMs,
  };
}

// ---------------------------------------------------------------------------------------

export async function runScale(options: BenchOptions): Promise<BenchResult> {
  const setting = settingFor(options);
  await startRuntime();
  const farm = await startFarm(setting.devices, WIFI_LATENCY_MS);

  try {
    // Registers the node types and starts only the counters.
    await loadFlow(counterNodes());
    await sleep(setting.idleMs);
    const baseHandles = countHandles();

    // The first deploy in this process, with code not yet compiled by the JIT.
    const flow = scaleFlow(farm.ports);
    const firstDeployStart = performance.now();
    await deployFlow(flow, DEPLOY_TIMEOUT_MS);
    const firstDeployMs = performance.now() - firstDeployStart;

    // Memory is compared between two steady states, the counters alone and the full flow,
    // each after the other has run once: the process's memory then holds no start-up
    // garbage that the allocator returns to the system in between.
    await sleep(setting.idleMs);
    await deployFlow(counterNodes(), DEPLOY_TIMEOUT_MS);
    await sleep(setting.idleMs);
    const baseMemory = await readMemory();

    const deployStart = performance.now();
    await deployFlow(flow, DEPLOY_TIMEOUT_MS);
    const deployMs = performance.now() - deployStart;

    await sleep(setting.idleMs);
    const idleMemory = await readMemory();
    const deployedHandles = countHandles();
    const idleFarmStats = await farm.stats();
    const requestsWhileIdle = idleFarmStats.requests;

    const load = await runLoad(setting.devices, setting.loadMs);
    const loadedFarmStats = await farm.stats();
    const farmCpuShare = (loadedFarmStats.cpuMs - idleFarmStats.cpuMs) / (load.seconds * 1000);

    // A full deploy of the same flow stops every node and starts it again: once when idle,
    // once with a request on the wire to every device.
    await sleep(setting.idleMs);
    const redeployStart = performance.now();
    await deployFlow(flow, DEPLOY_TIMEOUT_MS);
    const redeployMs = performance.now() - redeployStart;
    await sleep(setting.idleMs);
    const redeployedHandles = countHandles();

    let busyRedeployMs = NaN;
    await runLoad(setting.devices, setting.busyLoadMs, async () => {
      const start = performance.now();
      await deployFlow(flow, DEPLOY_TIMEOUT_MS);
      busyRedeployMs = performance.now() - start;
    });
    await sleep(setting.settleMs);
    const busyRedeployedHandles = countHandles();

    await unloadFlow();
    await sleep(setting.idleMs);
    const unloadedHandles = countHandles();
    const farmStats = await farm.stats();

    const perDevice = {
      heap: (idleMemory.heapUsed - baseMemory.heapUsed) / setting.devices,
      rss: (idleMemory.rss - baseMemory.rss) / setting.devices,
    };
    const perSecond = load.completed / load.seconds;
    // CPU time per request does not depend on how much CPU other processes leave us.
    const cpuPerRequestMs =
      (load.cpuShare * load.seconds * 1000) / Math.max(1, load.completed + load.failed);
    const handles = {
      baseHandles,
      deployedHandles,
      redeployedHandles,
      busyRedeployedHandles,
      unloadedHandles,
    };

    printTable(
      `Scale: ${setting.devices} devices x 3 flow nodes, one emulator per device (child process), latency ${latencyLabel(WIFI_LATENCY_MS)}`,
      ['figure', 'value'],
      [
        ['deploy time, first in the process', `${ms(firstDeployMs)} ms`],
        ['deploy time, after one undeploy', `${ms(deployMs)} ms`],
        ['heap per idle device', bytes(perDevice.heap)],
        ['RSS per idle device (unreliable, see notes)', bytes(perDevice.rss)],
        ['requests during idle', String(requestsWhileIdle)],
        ['get-state requests/s, all devices', perSecond.toFixed(0)],
        [
          'get-state median / max ms under load',
          `${ms(medianOf(load.latenciesMs))} / ${ms(Math.max(...load.latenciesMs))}`,
        ],
        ['failed requests under load', String(load.failed)],
        ['Node-RED process CPU under load', `${(100 * load.cpuShare).toFixed(0)}% of one core`],
        ['Node-RED process CPU time per request', `${ms(cpuPerRequestMs)} ms`],
        ['emulator process CPU under load', `${(100 * farmCpuShare).toFixed(0)}% of one core`],
        ['redeploy time, idle', `${ms(redeployMs)} ms`],
        ['redeploy time, a request on the wire to every device', `${ms(busyRedeployMs)} ms`],
        ['sockets/timers: before deploy', `${baseHandles.sockets}/${baseHandles.timers}`],
        [
          'sockets/timers: idle after deploy',
          `${deployedHandles.sockets}/${deployedHandles.timers}`,
        ],
        [
          'sockets/timers: idle after redeploy',
          `${redeployedHandles.sockets}/${redeployedHandles.timers}`,
        ],
        [
          'sockets/timers: after the redeploy under load',
          `${busyRedeployedHandles.sockets}/${busyRedeployedHandles.timers}`,
        ],
        [
          'sockets/timers: after stopping the flows',
          `${unloadedHandles.sockets}/${unloadedHandles.timers}`,
        ],
        ['busy replies at the devices', String(farmStats.busyReplies)],
      ],
      [
        `memory: idle ${setting.idleMs} ms after the second deploy, minus the same reading with only the counter nodes deployed just before${forceGc === undefined ? ' (no forced GC: the figures include garbage)' : ', both after a forced GC'}`,
        'RSS also moves with memory the allocator keeps or returns to the OS, by MiBs between readings, so its difference can be negative; the heap figure is the per-device cost',
        `load: each get-state node keeps one message in flight for ${setting.loadMs} ms`,
        `redeploy under load: after ${setting.busyLoadMs} ms of the same load; handles counted ${setting.settleMs} ms later`,
        'sockets/timers: TCP sockets and timers of the Node-RED process (process.getActiveResourcesInfo)',
      ],
    );

    const noLeftovers =
      redeployedHandles.sockets <= deployedHandles.sockets &&
      redeployedHandles.timers <= deployedHandles.timers &&
      busyRedeployedHandles.sockets <= deployedHandles.sockets &&
      busyRedeployedHandles.timers <= deployedHandles.timers &&
      unloadedHandles.sockets <= baseHandles.sockets &&
      unloadedHandles.timers <= baseHandles.timers;
    return {
      summary: [
        {
          benchmark: 'scale',
          figure: `deploy of ${setting.devices} devices (first, again)`,
          value: `${ms(firstDeployMs)} ms, ${ms(deployMs)} ms`,
        },
        {
          benchmark: 'scale',
          // RSS moves by a few MiB between readings whatever runs, so over 200 devices only
          // the heap figure is steady enough for the summary; the table shows both.
          figure: 'V8 heap per idle device',
          value: bytes(perDevice.heap),
        },
        {
          benchmark: 'scale',
          figure: 'get-state requests/s across all devices (CPU ms per request)',
          value: `${perSecond.toFixed(0)} (${ms(cpuPerRequestMs)})`,
        },
        {
          benchmark: 'scale',
          figure: `redeploy of ${setting.devices} devices (idle, under load)`,
          value: `${ms(redeployMs)} ms, ${ms(busyRedeployMs)} ms`,
        },
        {
          benchmark: 'scale',
          figure: 'sockets and timers left by the old deploy',
          value: noLeftovers ? 'none' : 'some (see the scale table)',
          target: 'none',
          met: noLeftovers,
        },
      ],
      raw: {
        setting,
        firstDeployMs,
        deployMs,
        redeployMs,
        busyRedeployMs,
        baseMemory,
        idleMemory,
        perDevice,
        requestsWhileIdle,
        load: {
          ...load,
          latenciesMs: undefined,
          medianMs: medianOf(load.latenciesMs),
          cpuPerRequestMs,
          farmCpuShare,
        },
        handles,
        farmStats,
      },
    };
  } finally {
    await farm.close();
  }
}
