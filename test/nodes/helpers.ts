/**
 * Shared setup of the Node-RED runtime tests: the test helper on a real runtime, the compiled
 * node modules, an emulator on loopback and small flow builders.
 */

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { startEmulator } from '../../src/emulator';
import type { Emulator, EmulatorOptions } from '../../src/emulator/types';

/** The parts of node-red-node-test-helper the tests use (the package ships no types). */
export interface TestHelper {
  init(nodeRedPath: string, settings?: Record<string, unknown>): void;
  load(nodes: unknown[], flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
  setFlows(flow: unknown[], type?: string, credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  getNode(id: string): unknown;
  request(): { get(url: string): TestRequest; post(url: string): TestRequest };
}

export interface TestResponse {
  status: number;
  body: Record<string, unknown>;
}

export interface TestRequest extends PromiseLike<TestResponse> {
  send(body: unknown): TestRequest;
  set(header: string, value: string): TestRequest;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper') as TestHelper;

export const repoRoot = path.join(__dirname, '..', '..');
export const fixturesDir = path.join(repoRoot, '..', 'shared', 'wled-fixtures');

// NODE_RED_PATH lets the compatibility runner test against another Node-RED version.
const nodeRedMain = process.env.NODE_RED_PATH
  ? require.resolve(process.env.NODE_RED_PATH)
  : require.resolve('node-red');
helper.init(nodeRedMain);

/** Returns the folder of the Node-RED package under test, which contains its `red.js` launcher. */
export function nodeRedPackageDir(): string {
  let dir = path.dirname(nodeRedMain);
  // lib/red.js is the runtime's entry point; the launcher sits beside package.json.
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) {
    dir = path.dirname(dir);
  }
  return dir;
}

type NodeModule = (RED: unknown) => void;

function loadCompiled(type: string): NodeModule {
  const file = path.join(repoRoot, 'nodes', `${type}.js`);
  if (!fs.existsSync(file)) {
    throw new Error(
      `${file} is missing: run "npx tsc -p tsconfig.build.json && node scripts/copy-icons.js" first`,
    );
  }
  // The compiled files are what Node-RED loads, so the tests load them too, not the sources.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as NodeModule;
}

export const deviceNode = loadCompiled('wled-jsonapi-device');
export const getStateNode = loadCompiled('wled-jsonapi-get-state');
export const setStateNode = loadCompiled('wled-jsonapi-set-state');
export const effectNode = loadCompiled('wled-jsonapi-effect');
export const allNodes = [deviceNode, getStateNode, setStateNode, effectNode];

export interface LogEntry {
  level: number;
  id?: string;
  msg?: unknown;
}

/** Returns the runtime's log entries at `level` (20 error, 30 warn) since the flow loaded. */
export function logEntries(level: number): LogEntry[] {
  const spy = (helper as unknown as { log(): { args: unknown[][] } }).log();
  return spy.args.map((args) => args[0] as LogEntry).filter((entry) => entry.level === level);
}

/** Node-RED's own function node, whose code runs in a separate V8 context. */
export function functionNode(): NodeModule {
  const file = require.resolve('@node-red/nodes/core/function/10-function.js', {
    paths: [nodeRedPackageDir()],
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as NodeModule;
}

/** A function node `fn` that sets `msg.payload` with `code` and passes the message to `n1`. */
export function payloadFunction(code: string): FlowNode {
  return {
    id: 'fn',
    z: 'tab',
    type: 'function',
    name: 'builds the payload',
    func: `msg.payload = ${code};\nreturn msg;`,
    outputs: 1,
    wires: [['n1']],
  };
}

/** Captured firmware profiles next to the repository; empty when the folder is absent. */
export function capturedProfiles(): string[] {
  if (!fs.existsSync(fixturesDir)) {
    return [];
  }
  return fs
    .readdirSync(fixturesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'common')
    .map((entry) => entry.name)
    .sort();
}

export async function emulatorFor(
  profile = 'builtin',
  options: EmulatorOptions = {},
): Promise<Emulator> {
  return startEmulator({ host: '127.0.0.1', port: 0, profile, fixturesDir, ...options });
}

/** Returns a port on 127.0.0.1 where nothing listens: bound once by the OS, then released. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface FlowNodeSpec {
  type: 'wled-jsonapi-get-state' | 'wled-jsonapi-set-state' | 'wled-jsonapi-effect';
  [key: string]: unknown;
}

/**
 * Builds a flow: tab `tab`, device config `dev` at `host`, the node under test `n1` wired to
 * helper nodes `out1` and `out2`, and a Catch node feeding helper `caught`. The timeouts are
 * short so that failures show within a test's time.
 */
export type FlowNode = Record<string, unknown>;

export function buildFlow(host: string, node: FlowNodeSpec, device: FlowNode = {}): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    {
      id: 'dev',
      type: 'wled-jsonapi-device',
      name: 'test device',
      host,
      connectTimeout: '500',
      responseTimeout: '1000',
      totalTimeout: '1500',
      maxInFlight: '1',
      minWriteSpacing: '',
      ...device,
    },
    { id: 'n1', z: 'tab', name: 'under test', device: 'dev', wires: [['out1'], ['out2']], ...node },
    { id: 'out1', z: 'tab', type: 'helper' },
    { id: 'out2', z: 'tab', type: 'helper' },
    { id: 'catch-all', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

// The test helper's nodes are untyped; these are the parts the tests use.
export interface TestNode {
  id: string;
  receive(msg: Record<string, unknown>): void;
  on(event: string, listener: (msg: Record<string, unknown>) => void): void;
  status: { args: unknown[][]; callCount: number };
}

export function getNode(id: string): TestNode {
  const node = helper.getNode(id) as unknown as TestNode | null;
  if (!node) {
    throw new Error(`node ${id} is not in the flow`);
  }
  return node;
}

/** Records every message that reaches a helper node, to wait on or to check none came. */
export class Inbox {
  readonly messages: Array<Record<string, unknown>> = [];
  private waiters: Array<() => void> = [];

  constructor(id: string) {
    getNode(id).on('input', (msg) => {
      this.messages.push(msg);
      for (const wake of this.waiters.splice(0)) {
        wake();
      }
    });
  }

  /** Resolves with the message number `index` (0-based) once it has arrived. */
  async at(index: number, timeoutMs = 4000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length <= index) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for message ${index + 1}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages[index];
  }

  /** Resolves with the first message that matches, waiting for it if needed. */
  async find(
    predicate: (msg: Record<string, unknown>) => boolean,
    timeoutMs = 4000,
  ): Promise<Record<string, unknown>> {
    for (let index = 0; ; index += 1) {
      const msg = await this.at(index, timeoutMs);
      if (predicate(msg)) {
        return msg;
      }
    }
  }
}

/** Gives the runtime time to deliver messages that should not arrive; used to check silence. */
export function settle(ms = 150): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Returns the last status a node was given, as `node.status()` received it. */
export function lastStatus(node: TestNode): Record<string, unknown> | undefined {
  const calls = node.status.args;
  return calls.length > 0 ? (calls[calls.length - 1][0] as Record<string, unknown>) : undefined;
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
