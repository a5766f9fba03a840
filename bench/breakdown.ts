/**
 * Splits our client's per-request overhead into its layers: bare `node:http`, the same with
 * agentkeepalive's agent, axios on each agent, and our `DeviceClient` from the source and
 * from the compiled `nodes/` build. Sequential `GET /json/state` at emulator latency 0, the
 * layers alternating in rounds. Not part of `npm run bench`: run it with
 * `npm run build && npx tsx bench/breakdown.ts [ROUNDS]`.
 */

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import axios from 'axios';
import { HttpAgent } from 'agentkeepalive';

import { startEmulator } from '../src/emulator';
import type { DeviceClient as DeviceClientType } from '../src/lib/client';
import { ourClient, silentLogger } from './clients';
import { median } from './harness';
import { repoRoot } from './setup';

const PER_ROUND = 300;
const WARM_UP = 300;

/** Returns a function that GETs `/json/state` on bare `node:http` and parses the whole body. */
function bareGet(url: string, agent: http.Agent): () => Promise<unknown> {
  return () =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      });
      req.on('error', reject);
      req.end();
    });
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 20);
  const emulator = await startEmulator({ host: '127.0.0.1', port: 0, profile: 'builtin' });
  const url = `${emulator.url}/json/state`;

  // Every axios instance skips redirects and proxy lookups, as our transport does.
  const plainAxios = (agent: http.Agent) =>
    axios.create({ httpAgent: agent, maxRedirects: 0, proxy: false, timeout: 5000 });
  const coreAxios = plainAxios(new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const keepAliveAxios = plainAxios(new HttpAgent({ maxSockets: 1 }));

  const fromSource = ourClient(emulator.url);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const compiled = require(path.join(repoRoot, 'nodes', 'lib', 'client')) as {
    DeviceClient: typeof DeviceClientType;
  };
  const fromBuild = new compiled.DeviceClient({
    name: 'breakdown',
    baseUrl: emulator.url,
    logger: silentLogger,
  });

  const layers: Array<[string, () => Promise<unknown>]> = [
    ['node:http, core keep-alive agent', bareGet(url, new http.Agent({ keepAlive: true }))],
    ['node:http, agentkeepalive agent', bareGet(url, new HttpAgent({ maxSockets: 1 }))],
    ['axios, core keep-alive agent', () => coreAxios.get(url)],
    ['axios, agentkeepalive agent', () => keepAliveAxios.get(url)],
    ['ours, source run by tsx', () => fromSource.getState()],
    ['ours, compiled nodes/ build', () => fromBuild.read('state')],
  ];

  for (const [, operation] of layers) {
    for (let i = 0; i < WARM_UP; i += 1) {
      await operation();
    }
  }
  const times = layers.map(() => [] as number[]);
  const cpuMicros = layers.map(() => 0);
  for (let round = 0; round < rounds; round += 1) {
    for (let step = 0; step < layers.length; step += 1) {
      const index = (round + step) % layers.length;
      const cpuStart = process.cpuUsage();
      for (let i = 0; i < PER_ROUND; i += 1) {
        const start = performance.now();
        await layers[index][1]();
        times[index].push(performance.now() - start);
      }
      const cpu = process.cpuUsage(cpuStart);
      cpuMicros[index] += cpu.user + cpu.system;
    }
  }

  const bare = median([...times[0]].sort((a, b) => a - b));
  console.log(`${rounds} rounds of ${PER_ROUND} requests per layer, emulator latency 0 ms`);
  console.log('layer                             median ms  vs node:http  CPU us/request');
  layers.forEach(([name], index) => {
    const value = median([...times[index]].sort((a, b) => a - b));
    console.log(
      `${name.padEnd(32)}  ${value.toFixed(3).padStart(9)}  ${(value / bare).toFixed(2).padStart(11)}x  ${(cpuMicros[index] / times[index].length).toFixed(0).padStart(14)}`,
    );
  });
  console.log('CPU: this process, the in-process emulator included (the same for every layer)');

  await fromSource.close();
  await fromBuild.close();
  await emulator.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
