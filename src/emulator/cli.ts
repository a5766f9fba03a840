#!/usr/bin/env node
/**
 * Command line of the WLED emulator: serves an emulated device until SIGINT/SIGTERM, or
 * records a real device's GET endpoints into a profile folder.
 */

import { parseArgs } from 'node:util';
import { CONTROL_ROUTES } from './control';
import { recordDevice } from './record';
import { startEmulator, type Emulator } from './index';

const HELP = `Usage:
  wled-jsonapi-emulator [options]
  wled-jsonapi-emulator --record http://<device> --out DIR

Serves an emulated WLED device over HTTP and WebSocket until SIGINT or SIGTERM.

Options:
  --profile NAME       device profile: "builtin" (default), a folder name under --fixtures
                       (e.g. 0.15.3-esp32), or a path to a capture folder
  --fixtures DIR       folder holding captured profiles (default: ../shared/wled-fixtures
                       beside the package)
  --host ADDRESS       address to listen on (default 127.0.0.1)
  --port N             HTTP port (default 8080; 0 picks a free port)
  --leds N             number of LEDs (default: the profile's count)
  --latency MS         delay before each response in ms: a number (20) or a range (150-250)
  --control-port N     also start the fault-control endpoint on port N (0 picks a free port)
  --record URL         read the device at URL once (GET requests only) and save its responses
                       as a profile folder; needs --out
  --out DIR            folder the recording is written to
  --help               show this help

Control endpoint (JSON over HTTP on --control-port):
${CONTROL_ROUTES.map((route) => `  ${route}`).join('\n')}

Fault kinds for POST /faults: delay-headers, never-answer, trickle-body, short-body-fin,
short-body-rst, cut-json, reset-before-response, reset-after-headers, padded-chunks,
html-error, refuse-connections, reboot, keep-alive-idle, silent-close, other-device, busy,
ws-refuse, ws-silent. Fields: count (next N requests), forMs (time window), delayMs, path
(path prefix), status (html-error), mac (other-device).

Example:
  wled-jsonapi-emulator --profile 0.15.3-esp32 --port 8080 --leds 60 --control-port 8081
  curl -X POST -H 'Content-Type: application/json' -d '{"kind":"busy","count":3}' http://127.0.0.1:8081/faults
`;

interface CliOptions {
  help: boolean;
  profile?: string;
  fixtures?: string;
  host: string;
  port: number;
  leds?: number;
  latency?: number | [number, number];
  controlPort?: number;
  record?: string;
  out?: string;
}

/** Default HTTP port of the command line (tests pass --port 0). */
const DEFAULT_PORT = 8080;

function parseCommandLine(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      profile: { type: 'string' },
      fixtures: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      leds: { type: 'string' },
      latency: { type: 'string' },
      'control-port': { type: 'string' },
      record: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });

  return {
    help: values.help ?? false,
    profile: values.profile,
    fixtures: values.fixtures,
    host: values.host ?? '127.0.0.1',
    port: values.port === undefined ? DEFAULT_PORT : parseInteger('--port', values.port, 0, 65535),
    leds: values.leds === undefined ? undefined : parseInteger('--leds', values.leds, 1, 65535),
    latency: values.latency === undefined ? undefined : parseLatency(values.latency),
    controlPort:
      values['control-port'] === undefined
        ? undefined
        : parseInteger('--control-port', values['control-port'], 0, 65535),
    record: values.record,
    out: values.out,
  };
}

function parseInteger(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `invalid ${option} ${JSON.stringify(text)}; expected an integer from ${min} to ${max}`,
    );
  }
  return value;
}

function parseLatency(text: string): number | [number, number] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range !== null) {
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (min <= max) {
      return [min, max];
    }
  }
  if (/^\d+$/.test(text)) {
    return Number(text);
  }
  throw new Error(
    `invalid --latency ${JSON.stringify(text)}; expected ms (20) or a range (150-250)`,
  );
}

async function record(options: CliOptions): Promise<void> {
  if (options.out === undefined) {
    throw new Error('missing --out DIR: --record needs a folder to write the profile into');
  }
  const result = await recordDevice({ url: options.record as string, outDir: options.out });
  console.log(`Recorded ${result.files.length} files from ${options.record} into ${options.out}`);
  if (result.skipped.length > 0) {
    console.log(`Not served by the device: ${result.skipped.join(', ')}`);
  }
}

async function serve(options: CliOptions): Promise<void> {
  const emulator: Emulator = await startEmulator({
    profile: options.profile,
    fixturesDir: options.fixtures,
    host: options.host,
    port: options.port,
    leds: options.leds,
    latencyMs: options.latency,
    controlPort: options.controlPort,
  });

  const profile = emulator.device.profile;
  console.log(
    `WLED emulator (profile ${profile.name}, firmware ${profile.line} ${profile.arch}) listening on ${emulator.url}`,
  );
  if (emulator.controlUrl !== undefined) {
    console.log(`Fault control on ${emulator.controlUrl}`);
  }

  const stop = (signal: NodeJS.Signals): void => {
    console.log(`Received ${signal}, stopping the emulator`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Failed to stop the emulator: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(): Promise<void> {
  const options = parseCommandLine(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(HELP);
    return;
  }
  if (options.record !== undefined) {
    await record(options);
    return;
  }
  await serve(options);
}

main().catch((error: unknown) => {
  console.error(`wled-jsonapi-emulator: ${error instanceof Error ? error.message : String(error)}`);
  console.error('Run with --help for usage.');
  process.exit(1);
});
