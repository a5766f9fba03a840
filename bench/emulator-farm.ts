/**
 * Child process of the scale benchmark: one emulator per device on 127.0.0.1, so that the
 * devices' CPU time and memory stay out of the Node-RED process being measured.
 *
 * Arguments: COUNT [MIN_MS MAX_MS] (latency range). Prints one JSON line `{"ports":[...]}`
 * when all emulators listen, then answers each `stats` line on stdin with one JSON line of
 * summed figures. Closes every emulator and exits on `close` or when stdin ends.
 */

import readline from 'node:readline';

import { startEmulator } from '../src/emulator';
import type { Emulator } from '../src/emulator/types';

async function main(): Promise<void> {
  const count = Number(process.argv[2]);
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new Error(
      `invalid emulator count ${JSON.stringify(process.argv[2])}; expected 1 to 1000`,
    );
  }
  const latencyMs: [number, number] = [Number(process.argv[3] ?? 0), Number(process.argv[4] ?? 0)];

  const emulators: Emulator[] = [];
  for (let i = 0; i < count; i += 1) {
    emulators.push(await startEmulator({ host: '127.0.0.1', port: 0, latencyMs }));
  }
  process.stdout.write(
    `${JSON.stringify({ ports: emulators.map((emulator) => emulator.port) })}\n`,
  );

  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) {
      return;
    }
    closing = true;
    await Promise.all(emulators.map((emulator) => emulator.close()));
    process.exit(0);
  };

  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'stats') {
      process.stdout.write(`${JSON.stringify(sumStats(emulators))}\n`);
    } else if (line === 'close') {
      void close();
    }
  });
  lines.on('close', () => void close());
}

function sumStats(emulators: Emulator[]): Record<string, number> {
  const cpu = process.cpuUsage();
  // cpuMs: CPU time of this process so far (user + system), to tell whether it limited a run.
  const total = {
    requests: 0,
    busyReplies: 0,
    maxConcurrent: 0,
    openConnections: 0,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
  for (const emulator of emulators) {
    const stats = emulator.stats();
    total.requests += stats.requests;
    total.busyReplies += stats.busyReplies;
    total.openConnections += stats.openConnections;
    total.maxConcurrent = Math.max(total.maxConcurrent, stats.maxConcurrent);
  }
  return total;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
