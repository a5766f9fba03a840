/**
 * Admin HTTP endpoints the editor dialogs call to fill their lists, to test a connection and to
 * show a deployed device node's counters.
 * Routes keyed by a deployed config node's id read through that node's client, so the editor
 * shares its cache and its request lane. The probe routes serve a config node that is not
 * deployed yet: they take a host, validate it, and only ever read WLED's fixed read paths.
 */

import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';

import { DeviceClient } from '../client';
import type { DeviceClientApi, Logger } from '../client/types';
import { isWledError } from '../errors';
import { parseHost } from '../wled/host';
import { listNames } from '../wled/names';
import { parseFxData } from '../wled/fxdata';
import type { DeviceConfigNode } from './flow-node';
import type { DeviceHub } from './device-hub';
import { localizeError } from './localize';

export const DEVICE_TYPE = 'wled-jsonapi-device';

/** Short limits, because a person is waiting in the editor for the result. */
const PROBE_TIMEOUTS = { connectMs: 2000, responseMs: 3000, totalMs: 5000 };

type Query = (client: DeviceClientApi) => Promise<unknown>;

/** Readers behind the endpoints, by the route's `:query` name. */
const QUERIES: Record<string, Query> = {
  effects: readEffectLists,
  segments: readSegments,
  presets: readPresets,
  test: testConnection,
};

export function registerAdminRoutes(RED: NodeAPI, logger: Logger): void {
  const read = RED.auth.needsPermission(`${DEVICE_TYPE}.read`);
  const write = RED.auth.needsPermission(`${DEVICE_TYPE}.write`);

  /** Returns the hub of the deployed device node the route names, or sends 404. */
  const deployedHub = (req: Request, res: Response): DeviceHub | undefined => {
    const node = RED.nodes.getNode(String(req.params.id)) as DeviceConfigNode | null;
    if (!node || node.type !== DEVICE_TYPE || !node.hub) {
      // The editor then retries through the probe route with the host it has.
      res.status(404).json({ error: 'not-deployed', message: 'The device node is not deployed' });
      return undefined;
    }
    return node.hub;
  };

  // Registered before the device queries, whose `:query` would otherwise match "stats".
  RED.httpAdmin.get('/wled-jsonapi/devices/:id/stats', read, (req: Request, res: Response) => {
    const hub = deployedHub(req, res);
    if (hub) {
      // Counters and error messages only, so no credentials and no device state.
      res.json({ client: hub.client?.stats(), live: hub.live?.stats() });
    }
  });

  RED.httpAdmin.get('/wled-jsonapi/devices/:id/:query', read, (req: Request, res: Response) => {
    const query = queryFor(req, res);
    const hub = query && deployedHub(req, res);
    if (!query || !hub) {
      return;
    }
    if (!hub.client) {
      sendError(RED, res, hub.configError);
      return;
    }

    void answer(RED, res, query, hub.client);
  });

  // Needs write permission: it makes the runtime open connections to an address the caller
  // picks, even though only WLED's fixed read paths are requested there.
  RED.httpAdmin.post('/wled-jsonapi/probe/:query', write, (req: Request, res: Response) => {
    const query = queryFor(req, res);
    if (!query) {
      return;
    }

    let baseUrl: string;
    try {
      const host: unknown = (req.body as { host?: unknown } | undefined)?.host;
      baseUrl = parseHost(typeof host === 'string' ? host : '').baseUrl;
    } catch (err) {
      sendError(RED, res, err);
      return;
    }

    // NOTE: the credentials and options of an undeployed node are not available here, so a
    // probe of a device behind basic auth fails with class http, and one behind a self-signed
    // certificate with class tls, until the node is deployed.
    const client = new DeviceClient({
      name: baseUrl,
      baseUrl,
      timeouts: PROBE_TIMEOUTS,
      logger,
    });
    void answer(RED, res, query, client).finally(() => client.close());
  });
}

/** Looks up the route's query, or sends 404 and returns undefined for an unknown one. */
function queryFor(req: Request, res: Response): Query | undefined {
  const name = String(req.params.query);
  const query = Object.prototype.hasOwnProperty.call(QUERIES, name) ? QUERIES[name] : undefined;
  if (!query) {
    res.status(404).json({
      error: 'not-found',
      message: `Unknown query "${name}": use effects, segments, presets, test or stats`,
    });
  }
  return query;
}

async function answer(
  RED: NodeAPI,
  res: Response,
  query: Query,
  client: DeviceClientApi,
): Promise<void> {
  try {
    res.json(await query(client));
  } catch (err) {
    sendError(RED, res, err);
  }
}

/** Sends a classified failure; bad input is the caller's fault (400), anything else 502. */
function sendError(RED: NodeAPI, res: Response, err: unknown): void {
  const errorClass = isWledError(err) ? err.errorClass : 'unknown';
  const message = localizeError(RED, err);
  res.status(errorClass === 'invalid-input' ? 400 : 502).json({ error: errorClass, message });
}

async function readEffectLists(client: DeviceClientApi): Promise<unknown> {
  const lists = await client.effectLists();

  const effects = listNames(lists.effects).map((entry) => {
    const fxdata = lists.fxdata?.[entry.id];
    return fxdata === undefined ? entry : { ...entry, fxdata: parseFxData(fxdata) };
  });

  return {
    effects,
    palettes: listNames(lists.palettes),
    hasFxdata: lists.fxdata !== undefined,
  };
}

async function readSegments(client: DeviceClientApi): Promise<unknown> {
  const { data } = await client.read('state');
  const state = data as { seg?: Array<Record<string, unknown>>; mainseg?: number };

  const segments = (state.seg ?? []).map((seg) => ({
    id: seg.id,
    start: seg.start,
    stop: seg.stop,
    name: typeof seg.n === 'string' ? seg.n : undefined,
  }));
  return { segments, mainseg: state.mainseg };
}

async function readPresets(client: DeviceClientApi): Promise<unknown> {
  const { data } = await client.read('presets');
  const entries = Object.entries((data ?? {}) as Record<string, Record<string, unknown>>);

  // Slot 0 is WLED's placeholder and empty slots are unused; neither can be applied.
  const presets = entries
    .filter(([id, preset]) => id !== '0' && preset && Object.keys(preset).length > 0)
    .map(([id, preset]) => ({
      id: Number(id),
      name: typeof preset.n === 'string' && preset.n !== '' ? preset.n : `Preset ${id}`,
      playlist: typeof preset.playlist === 'object' && preset.playlist !== null,
    }))
    .sort((a, b) => a.id - b.id);
  return { presets };
}

async function testConnection(client: DeviceClientApi): Promise<unknown> {
  const { data, diagnostics } = await client.read('info');
  const info = data as { name?: unknown; ver?: unknown; leds?: { count?: unknown } };

  return {
    name: info.name,
    version: info.ver,
    leds: info.leds?.count,
    rttMs: diagnostics.totalMs,
  };
}
