/**
 * A real Node-RED runtime for the flood and scale benchmarks, through
 * node-red-node-test-helper: the runtime's own flow engine, node registry and message
 * delivery, with our compiled nodes from `nodes/` loaded into it.
 *
 * NOTE: the helper wraps `send`, `status`, `log`, `warn`, `error`, `debug` and `trace` of
 * every node in sinon spies that keep each call's arguments. That adds a little time per
 * message and memory per call to the figures, the same for every deploy.
 */

import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';

import { repoRoot } from './setup';

type NodeModule = (RED: unknown) => void;

/** The parts of node-red-node-test-helper used here (the package ships no types). */
interface TestHelper {
  init(nodeRedPath: string, settings?: Record<string, unknown>): void;
  load(nodes: NodeModule[], flow: FlowNode[]): Promise<void>;
  unload(): Promise<void>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  getNode(id: string): RuntimeNode | null;
  /** Internal: the runtime's node API and event bus. */
  _redNodes: { setFlows(flows: FlowNode[], credentials: object, type: string): Promise<unknown> };
  _events: EventEmitter;
}

export type FlowNode = Record<string, unknown>;

export interface RuntimeNode {
  id: string;
  receive(msg: Record<string, unknown>): void;
  on(event: string, listener: (msg: Record<string, unknown>) => void): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper') as TestHelper;
helper.init(require.resolve('node-red'));

const NODE_TYPES = [
  'wled-jsonapi-device',
  'wled-jsonapi-get-state',
  'wled-jsonapi-set-state',
  'wled-jsonapi-effect',
];

function loadCompiledNodes(): NodeModule[] {
  return NODE_TYPES.map((type) => {
    const file = path.join(repoRoot, 'nodes', `${type}.js`);
    if (!fs.existsSync(file)) {
      throw new Error(`${file} is missing: run "npm run build" first (npm run bench does it)`);
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as NodeModule;
  });
}

let started = false;

/** Starts the runtime's admin server (on 127.0.0.1, a free port) once per process. */
export async function startRuntime(): Promise<void> {
  if (!started) {
    await helper.startServer();
    started = true;
  }
}

export async function stopRuntime(): Promise<void> {
  if (started) {
    await helper.stopServer();
    started = false;
  }
}

/** Registers our node types and starts `flow`; resolves once every node has started. */
export async function loadFlow(flow: FlowNode[]): Promise<void> {
  await helper.load(loadCompiledNodes(), flow);
}

/**
 * Replaces the running flows with `flow` as a full deploy from the editor does: stops every
 * old node (waiting for their close handlers) and starts the new ones. Resolves when the
 * runtime reports the flows started.
 */
export async function deployFlow(flow: FlowNode[], timeoutMs: number): Promise<void> {
  // The helper's own setFlows gives the start only 300 ms, too little for hundreds of nodes,
  // so this waits for the runtime's `flows:started` event itself.
  const flowsStarted = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      helper._events.off('flows:started', onStarted);
      reject(new Error(`the flows did not start within ${timeoutMs} ms of the deploy`));
    }, timeoutMs);
    const onStarted = (): void => {
      clearTimeout(timer);
      helper._events.off('flows:started', onStarted);
      resolve();
    };
    helper._events.on('flows:started', onStarted);
  });
  await helper._redNodes.setFlows(flow, {}, 'full');
  await flowsStarted;
}

export function unloadFlow(): Promise<void> {
  return helper.unload();
}

export function getNode(id: string): RuntimeNode {
  const node = helper.getNode(id);
  if (node === null) {
    throw new Error(`node ${id} is not in the running flow`);
  }
  return node;
}
