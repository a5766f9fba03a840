import assert from 'node:assert/strict';
import net from 'node:net';
import { startEmulator, type Emulator } from '../../src/emulator';
import { get, hasCompleteReply, parseReply, post, rawExchange, sleep } from './server-wire-helpers';

/** Decodes a chunked body; throws when the framing is broken. */
function decodeChunked(body: string): { data: string; sizeLines: string[] } {
  let rest = body;
  let data = '';
  const sizeLines: string[] = [];
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const sizeLine = rest.slice(0, lineEnd);
    sizeLines.push(sizeLine);
    const size = Number.parseInt(sizeLine.trim(), 16);
    if (Number.isNaN(size)) {
      throw new Error(`invalid chunk size line ${JSON.stringify(sizeLine)}`);
    }
    if (size === 0) {
      return { data, sizeLines };
    }
    data += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

function stateBody(emulator: Emulator): string {
  return emulator.device.handleGet('/json/state', new URLSearchParams()).body;
}

describe('emulator faults', () => {
  let emulator: Emulator;

  beforeEach(async () => {
    emulator = await startEmulator({ receiveTimeoutMs: 200 });
  });

  afterEach(async () => {
    await emulator.close();
  });

  describe('response faults', () => {
    it('delays the headers', async () => {
      emulator.inject({ kind: 'delay-headers', delayMs: 250 });
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });

      assert.ok(reply.elapsedMs >= 245, `answered after ${reply.elapsedMs} ms`);
      assert.equal(parseReply(reply.text).statusLine, 'HTTP/1.1 200 OK');
    });

    it('never answers', async () => {
      emulator.inject({ kind: 'never-answer' });
      const reply = await rawExchange(emulator.port, get('/json/state'), { waitMs: 600 });

      assert.equal(reply.bytes.length, 0);
      assert.equal(reply.ending, 'open');
    });

    it('trickles the body', async () => {
      emulator.inject({ kind: 'trickle-body', delayMs: 30 });
      const arrivals: number[] = [];
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: (bytes) => {
          arrivals.push(bytes.length);
          return hasCompleteReply(bytes);
        },
        waitMs: 3000,
      });

      assert.equal(parseReply(reply.text).body, stateBody(emulator));
      assert.ok(arrivals.length >= 10, `body arrived in ${arrivals.length} reads`);
      assert.ok(reply.elapsedMs >= 280, `body complete after ${reply.elapsedMs} ms`);
    });

    it('ends a short body with FIN', async () => {
      emulator.inject({ kind: 'short-body-fin' });
      const reply = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1000 });
      const parsed = parseReply(reply.text);
      const full = stateBody(emulator);

      assert.equal(reply.ending, 'fin');
      assert.equal(parsed.headers[0][1], String(Buffer.byteLength(full)));
      assert.equal(parsed.body, full.slice(0, Math.floor(full.length / 2)));
    });

    it('ends a short body with RST', async () => {
      emulator.inject({ kind: 'short-body-rst' });
      const reply = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1000 });
      const parsed = parseReply(reply.text);
      const full = stateBody(emulator);

      assert.equal(reply.ending, 'rst');
      assert.equal(parsed.headers[0][1], String(Buffer.byteLength(full)));
      assert.equal(parsed.body, full.slice(0, Math.floor(full.length / 2)));
    });

    it('cuts the JSON with a matching length', async () => {
      emulator.inject({ kind: 'cut-json' });
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 1000,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.headers[0][1], String(Buffer.byteLength(parsed.body)));
      assert.ok(stateBody(emulator).startsWith(parsed.body));
      assert.throws(() => JSON.parse(parsed.body));
    });

    it('resets before any response byte', async () => {
      emulator.inject({ kind: 'reset-before-response' });
      const reply = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1000 });

      assert.equal(reply.ending, 'rst');
      assert.equal(reply.bytes.length, 0);
    });

    it('resets after the headers', async () => {
      emulator.inject({ kind: 'reset-after-headers' });
      const reply = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1000 });
      const parsed = parseReply(reply.text);

      assert.equal(reply.ending, 'rst');
      assert.equal(parsed.statusLine, 'HTTP/1.1 200 OK');
      assert.equal(parsed.body, '');
    });

    it('sends space-padded chunks', async () => {
      emulator.inject({ kind: 'padded-chunks' });
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: (bytes) => bytes.toString('latin1').endsWith('\r\n0   \r\n\r\n'),
        waitMs: 1000,
      });
      const parsed = parseReply(reply.text);
      const decoded = decodeChunked(parsed.body);

      assert.equal(parsed.headerNames.includes('Content-Length'), false);
      assert.equal(parsed.headerNames.at(-1), 'Transfer-Encoding');
      assert.equal(decoded.data, stateBody(emulator));
      for (const sizeLine of decoded.sizeLines) {
        assert.match(sizeLine, /^[0-9a-f]+ *$/);
        assert.equal(sizeLine.length >= 4, true, `size line ${JSON.stringify(sizeLine)}`);
      }
      assert.equal(decoded.sizeLines.at(-1), '0   ');
    });

    it('sends an HTML page instead of JSON', async () => {
      emulator.inject({ kind: 'html-error' });
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.statusLine, 'HTTP/1.1 200 OK');
      assert.deepEqual(parsed.headers[1], ['Content-Type', 'text/html']);
      assert.match(parsed.body, /^<!DOCTYPE html>/);
    });

    it('sends the HTML page with a given status', async () => {
      emulator.inject({ kind: 'html-error', status: 502 });
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });

      assert.equal(parseReply(reply.text).statusLine, 'HTTP/1.1 502 Bad Gateway');
    });

    it('forces the busy reply', async () => {
      emulator.inject({ kind: 'busy', count: 2 });
      const statuses: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const reply = await rawExchange(emulator.port, post('/json/state', '{"bri":99}'), {
          stopWhen: hasCompleteReply,
        });
        statuses.push(parseReply(reply.text).statusLine);
      }

      assert.deepEqual(statuses, [
        'HTTP/1.1 503 Service Unavailable',
        'HTTP/1.1 503 Service Unavailable',
        'HTTP/1.1 200 OK',
      ]);
      assert.equal(emulator.stats().busyReplies, 2);
    });

    it('applies only to the path prefix', async () => {
      emulator.inject({ kind: 'busy', path: '/json/info' });
      const state = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });
      const info = await rawExchange(emulator.port, get('/json/info'), {
        stopWhen: hasCompleteReply,
      });

      assert.equal(parseReply(state.text).statusLine, 'HTTP/1.1 200 OK');
      assert.equal(parseReply(info.text).statusLine, 'HTTP/1.1 503 Service Unavailable');
    });

    it('applies for a time window', async () => {
      emulator.inject({ kind: 'busy', forMs: 200 });
      const during = [
        await rawExchange(emulator.port, get('/json/state'), { stopWhen: hasCompleteReply }),
        await rawExchange(emulator.port, get('/json/state'), { stopWhen: hasCompleteReply }),
      ];
      await sleep(250);
      const after = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });

      for (const reply of during) {
        assert.equal(parseReply(reply.text).statusLine, 'HTTP/1.1 503 Service Unavailable');
      }
      assert.equal(parseReply(after.text).statusLine, 'HTTP/1.1 200 OK');
    });

    it('clears pending faults', async () => {
      emulator.inject({ kind: 'reset-before-response', count: 5 });
      emulator.clearFaults();
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });

      assert.equal(parseReply(reply.text).statusLine, 'HTTP/1.1 200 OK');
    });

    it('rejects an unknown fault kind', () => {
      assert.throws(
        () => emulator.inject({ kind: 'explode' } as never),
        /invalid fault kind "explode"/,
      );
    });
  });

  describe('connection faults', () => {
    it('keeps the connection alive until idle', async () => {
      emulator.inject({ kind: 'keep-alive-idle', delayMs: 400 });
      const socket = net.connect(emulator.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      let endedAt = 0;
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => {
        endedAt = Date.now();
        socket.end();
      });

      socket.write(get('/json/state'));
      await sleep(100);
      socket.write(get('/json/info'));
      await sleep(100);
      const lastRequestAt = Date.now();
      await sleep(800);
      socket.destroy();

      const text = Buffer.concat(chunks).toString('latin1');
      assert.equal(text.match(/HTTP\/1\.1 200 OK/g)?.length, 2);
      assert.equal(text.match(/Connection: keep-alive/g)?.length, 2);
      assert.equal(text.includes('Connection: close'), false);
      assert.ok(endedAt > 0, 'server never closed the idle connection');
      assert.ok(
        endedAt - lastRequestAt >= 250,
        `closed ${endedAt - lastRequestAt} ms after the last request`,
      );
    });

    it('closes silently after each response', async () => {
      emulator.inject({ kind: 'silent-close' });
      const reply = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1000 });
      const parsed = parseReply(reply.text);

      assert.equal(reply.ending, 'fin');
      assert.equal(parsed.headerNames.includes('Connection'), false);
      assert.equal(parsed.body, stateBody(emulator));
    });

    it('refuses connections for a window', async () => {
      emulator.inject({ kind: 'refuse-connections', forMs: 300 });
      const during = await rawExchange(emulator.port, get('/json/state'));
      await sleep(400);
      const after = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });

      assert.equal(during.ending, 'refused');
      assert.equal(parseReply(after.text).statusLine, 'HTTP/1.1 200 OK');
    });

    it('resets the next connections at accept', async () => {
      emulator.inject({ kind: 'refuse-connections', count: 2 });
      const first = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1000 });
      const second = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1000 });
      const third = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });

      assert.equal(first.ending, 'rst');
      assert.equal(second.ending, 'rst');
      assert.equal(parseReply(third.text).statusLine, 'HTTP/1.1 200 OK');
    });
  });

  describe('device faults', () => {
    it('reboots with default state', async () => {
      const defaultBri = emulator.device.snapshot().state.bri;
      await rawExchange(emulator.port, post('/json/state', '{"bri":3}'), {
        stopWhen: hasCompleteReply,
      });
      const openSocket = await new Promise<net.Socket>((resolve) => {
        const socket = net.connect(emulator.port, '127.0.0.1', () => resolve(socket));
      });
      let openSocketEnding = '';
      openSocket.on(
        'error',
        (error: NodeJS.ErrnoException) => (openSocketEnding = error.code ?? 'error'),
      );
      openSocket.on('end', () => (openSocketEnding = 'end'));

      const rebooted = emulator.reboot(300);
      await sleep(100);
      const during = await rawExchange(emulator.port, get('/json/state'));
      await rebooted;
      const after = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });
      openSocket.destroy();

      assert.equal(during.ending, 'refused');
      assert.equal(openSocketEnding, 'ECONNRESET');
      assert.equal(JSON.parse(parseReply(after.text).body).bri, defaultBri);
      assert.ok(Number(emulator.device.snapshot().info.uptime) < 5);
    });

    it('reboots through a fault', async () => {
      emulator.inject({ kind: 'reboot', delayMs: 200 });
      const during = await rawExchange(emulator.port, get('/json/state'));
      await sleep(350);
      const after = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });

      assert.equal(during.ending, 'refused');
      assert.equal(parseReply(after.text).statusLine, 'HTTP/1.1 200 OK');
    });

    it('pretends to be another device', async () => {
      const originalMac = emulator.device.snapshot().info.mac;
      emulator.inject({ kind: 'other-device', mac: '112233445566' });
      const reply = await rawExchange(emulator.port, get('/json/info'), {
        stopWhen: hasCompleteReply,
      });
      emulator.clearFaults();

      assert.equal(JSON.parse(parseReply(reply.text).body).mac, '112233445566');
      assert.equal(emulator.device.snapshot().info.mac, originalMac);
    });
  });

  describe('control endpoint', () => {
    let controlled: Emulator;

    beforeEach(async () => {
      controlled = await startEmulator({ controlPort: 0 });
    });

    afterEach(async () => {
      await controlled.close();
    });

    async function control(
      method: string,
      route: string,
      body?: unknown,
    ): Promise<{ status: number; json: unknown }> {
      const response = await fetch(`${controlled.controlUrl}${route}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, json: await response.json() };
    }

    it('injects and clears faults', async () => {
      const injected = await control('POST', '/faults', { kind: 'busy', count: 1 });
      const listed = await control('GET', '/faults');
      const busy = await rawExchange(controlled.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });
      await control('POST', '/faults', [{ kind: 'busy', count: 3 }]);
      await control('DELETE', '/faults');
      const after = await rawExchange(controlled.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });

      assert.equal(injected.status, 200);
      assert.deepEqual(listed.json, { faults: [{ kind: 'busy', count: 1 }] });
      assert.equal(parseReply(busy.text).statusLine, 'HTTP/1.1 503 Service Unavailable');
      assert.equal(parseReply(after.text).statusLine, 'HTTP/1.1 200 OK');
    });

    it('rejects an invalid fault with 400', async () => {
      const reply = await control('POST', '/faults', { kind: 'busy', count: 'many' });

      assert.equal(reply.status, 400);
      assert.match((reply.json as { error: string }).error, /invalid fault count/);
    });

    it('reports and resets stats', async () => {
      await rawExchange(controlled.port, get('/json/state'), { stopWhen: hasCompleteReply });
      const stats = await control('GET', '/stats');
      const reset = await control('POST', '/stats/reset');

      assert.equal((stats.json as { requests: number }).requests, 1);
      assert.equal((reset.json as { requests: number }).requests, 0);
    });

    it('sets latency', async () => {
      const reply = await control('POST', '/latency', { latencyMs: [100, 120] });
      const timed = await rawExchange(controlled.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });
      const invalid = await control('POST', '/latency', { latencyMs: 'fast' });

      assert.equal(reply.status, 200);
      assert.ok(timed.elapsedMs >= 95, `answered after ${timed.elapsedMs} ms`);
      assert.equal(invalid.status, 400);
    });

    it('reboots the device', async () => {
      const reply = await control('POST', '/reboot', { downMs: 200 });
      const during = await rawExchange(controlled.port, get('/json/state'));
      await sleep(350);
      const after = await rawExchange(controlled.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });

      assert.equal(reply.status, 200);
      assert.equal(during.ending, 'refused');
      assert.equal(parseReply(after.text).statusLine, 'HTTP/1.1 200 OK');
    });

    it('answers unknown routes with 404', async () => {
      const reply = await control('GET', '/nothing');

      assert.equal(reply.status, 404);
    });
  });
});
