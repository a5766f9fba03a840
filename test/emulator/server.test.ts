import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startEmulator, startEmulatorFor, type Emulator } from '../../src/emulator';
import {
  FIXTURES_DIR,
  JSON_HEADER_ORDER,
  builtinDevice,
  get,
  hasCompleteReply,
  parseReply,
  post,
  rawExchange,
  sleep,
} from './server-wire-helpers';

describe('emulator wire server', () => {
  let emulator: Emulator;

  afterEach(async () => {
    await emulator?.close();
  });

  describe('framing', () => {
    beforeEach(async () => {
      emulator = await startEmulator({ receiveTimeoutMs: 200 });
    });

    it('sends the firmware header order', async () => {
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.statusLine, 'HTTP/1.1 200 OK');
      assert.deepEqual(parsed.headerNames, JSON_HEADER_ORDER);
      assert.deepEqual(parsed.headers.slice(1), [
        ['Content-Type', 'application/json'],
        ['Access-Control-Allow-Origin', '*'],
        ['Access-Control-Allow-Methods', '*'],
        ['Access-Control-Allow-Headers', '*'],
        ['Connection', 'close'],
        ['Accept-Ranges', 'none'],
      ]);
      const expectedBody = emulator.device.handleGet('/json/state', new URLSearchParams()).body;
      assert.equal(parsed.body, expectedBody);
      assert.equal(parsed.headers[0][1], String(Buffer.byteLength(expectedBody)));
    });

    it('echoes HTTP/1.0 without Accept-Ranges', async () => {
      const reply = await rawExchange(emulator.port, get('/json/info', 0), {
        stopWhen: hasCompleteReply,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.statusLine, 'HTTP/1.0 200 OK');
      assert.equal(parsed.headerNames.includes('Accept-Ranges'), false);
      assert.equal(parsed.headerNames.at(-1), 'Connection');
    });

    it('leaves the socket open after a response', async () => {
      const reply = await rawExchange(emulator.port, get('/json/state'), { waitMs: 400 });

      assert.equal(reply.ending, 'open');
      assert.equal(hasCompleteReply(reply.bytes), true);
    });

    it('closes when the client half-closes after the response', async () => {
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        endAfterWrite: true,
        waitMs: 1000,
      });

      assert.equal(reply.ending, 'fin');
      assert.equal(hasCompleteReply(reply.bytes), true);
    });

    it('ignores a pipelined second request', async () => {
      const reply = await rawExchange(emulator.port, get('/json/state') + get('/json/info'), {
        waitMs: 400,
      });

      assert.equal(reply.text.match(/HTTP\/1\.1 200 OK/g)?.length, 1);
      assert.equal(emulator.stats().requests, 1);
    });

    it('ignores a second request after the response', async () => {
      const socket = net.connect(emulator.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.write(get('/json/state'));
      await sleep(150);
      socket.write(get('/json/info'));
      await sleep(250);
      socket.destroy();

      const text = Buffer.concat(chunks).toString('latin1');
      assert.equal(text.match(/HTTP\/1\.1/g)?.length, 1);
      assert.equal(emulator.stats().getsByPath['/json/info'], undefined);
    });

    it('answers a POST with success', async () => {
      const reply = await rawExchange(emulator.port, post('/json/state', '{"bri":42}'), {
        stopWhen: hasCompleteReply,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.statusLine, 'HTTP/1.1 200 OK');
      assert.equal(parsed.body, '{"success":true}');
      assert.equal(emulator.device.snapshot().state.bri, 42);
    });

    it('answers invalid JSON with error 9', async () => {
      const reply = await rawExchange(emulator.port, post('/json/state', '{"bri":'), {
        stopWhen: hasCompleteReply,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.statusLine, 'HTTP/1.1 400 Bad Request');
      assert.equal(parsed.body, '{"error":9}');
    });

    it('rejects a 16384-byte body with empty 400', async () => {
      const body = `{"n":"${'a'.repeat(16384 - 8)}"}`;
      assert.equal(Buffer.byteLength(body), 16384);
      const reply = await rawExchange(emulator.port, post('/json/state', body), {
        stopWhen: hasCompleteReply,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.statusLine, 'HTTP/1.1 400 Bad Request');
      assert.deepEqual(parsed.headerNames, [
        'Content-Length',
        'Access-Control-Allow-Origin',
        'Access-Control-Allow-Methods',
        'Access-Control-Allow-Headers',
        'Connection',
        'Accept-Ranges',
      ]);
      assert.equal(parsed.headers[0][1], '0');
      assert.equal(parsed.body, '');
    });

    it('rejects a 16385-byte body with empty 413', async () => {
      const body = `{"n":"${'a'.repeat(16385 - 8)}"}`;
      const reply = await rawExchange(emulator.port, post('/json/state', body), {
        stopWhen: hasCompleteReply,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.statusLine, 'HTTP/1.1 413 Request Entity Too Large');
      assert.equal(parsed.body, '');
    });

    it('rejects a chunked request body with empty 400', async () => {
      const request =
        'POST /json/state HTTP/1.1\r\nContent-Type: application/json\r\n' +
        'Transfer-Encoding: chunked\r\n\r\na\r\n{"bri":10}\r\n0\r\n\r\n';
      const reply = await rawExchange(emulator.port, request, { stopWhen: hasCompleteReply });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.statusLine, 'HTTP/1.1 400 Bad Request');
      assert.equal(parsed.body, '');
      assert.notEqual(emulator.device.snapshot().state.bri, 10);
    });

    it('rejects a form-encoded body with empty 400', async () => {
      const request = post('/json/state', '{"bri":11}', 'application/x-www-form-urlencoded');
      const reply = await rawExchange(emulator.port, request, { stopWhen: hasCompleteReply });

      assert.equal(parseReply(reply.text).statusLine, 'HTTP/1.1 400 Bad Request');
      assert.notEqual(emulator.device.snapshot().state.bri, 11);
    });

    it('answers Expect: 100-continue', async () => {
      const head =
        'POST /json/state HTTP/1.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 10\r\nExpect: 100-continue\r\n\r\n';
      const socket = net.connect(emulator.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.write(head);
      await sleep(100);
      const interim = Buffer.concat(chunks).toString('latin1');
      socket.write('{"bri":12}');
      await sleep(150);
      socket.destroy();

      assert.equal(interim, 'HTTP/1.1 100 Continue\r\n\r\n');
      assert.match(Buffer.concat(chunks).toString('latin1'), /HTTP\/1\.1 200 OK/);
    });

    it('answers the OPTIONS preflight', async () => {
      const reply = await rawExchange(emulator.port, 'OPTIONS /json HTTP/1.1\r\n\r\n', {
        stopWhen: hasCompleteReply,
      });

      assert.equal(
        reply.text,
        'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nAccess-Control-Allow-Origin: *\r\n' +
          'Access-Control-Allow-Methods: *\r\nAccess-Control-Allow-Headers: *\r\n' +
          'Connection: close\r\nAccess-Control-Max-Age: 7200\r\nAccept-Ranges: none\r\n\r\n',
      );
    });

    it('answers unknown paths with 404 HTML', async () => {
      const reply = await rawExchange(emulator.port, get('/does-not-exist'), {
        stopWhen: hasCompleteReply,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.statusLine, 'HTTP/1.1 404 Not Found');
      assert.equal(parsed.headers[1][1], 'text/html');
      assert.match(parsed.body, /<html>/);
    });

    it('answers unknown JSON paths with 501', async () => {
      const reply = await rawExchange(emulator.port, get('/json/unknownthing'), {
        stopWhen: hasCompleteReply,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.statusLine, 'HTTP/1.1 501 Not Implemented');
      assert.equal(parsed.body, '{"error":4}');
    });

    it('closes an incomplete request after the receive timeout', async () => {
      const reply = await rawExchange(emulator.port, 'GET /json/state HTTP/1.1\r\n', {
        waitMs: 1500,
      });

      assert.equal(reply.ending, 'fin');
      assert.equal(reply.bytes.length, 0);
      assert.ok(reply.elapsedMs >= 190, `closed after ${reply.elapsedMs} ms`);
    });
  });

  describe('JSON buffer', () => {
    it('answers contention with 503 on 0.15', async () => {
      emulator = await startEmulator({ latencyMs: 300, lockWaitMs: 0 });
      const first = rawExchange(emulator.port, get('/json'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });
      await sleep(100);
      const second = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });
      const parsedSecond = parseReply(second.text);

      assert.equal(parsedSecond.statusLine, 'HTTP/1.1 503 Service Unavailable');
      assert.deepEqual(parsedSecond.headerNames, [
        'Content-Length',
        'Content-Type',
        'Access-Control-Allow-Origin',
        'Access-Control-Allow-Methods',
        'Access-Control-Allow-Headers',
        'Retry-After',
        'Connection',
        'Accept-Ranges',
      ]);
      assert.equal(parsedSecond.headers[5][1], '1');
      assert.equal(parsedSecond.body, '{"error":3}');
      assert.equal(parseReply((await first).text).statusLine, 'HTTP/1.1 200 OK');
      assert.equal(emulator.stats().busyReplies, 1);
    });

    it('waits for the lock up to lockWaitMs', async () => {
      emulator = await startEmulator({ latencyMs: 100, lockWaitMs: 1000 });
      const first = rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });
      await sleep(30);
      const second = await rawExchange(emulator.port, get('/json/info'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });

      assert.equal(parseReply(second.text).statusLine, 'HTTP/1.1 200 OK');
      assert.equal(parseReply((await first).text).statusLine, 'HTTP/1.1 200 OK');
      assert.equal(emulator.stats().busyReplies, 0);
    });

    it('answers GET 503 and drops POST on 0.14', async () => {
      const device = builtinDevice({ line: '0.14', busyBehaviour: 'get-503-post-silent' });
      emulator = await startEmulatorFor(device, {
        receiveTimeoutMs: 200,
        latencyMs: 400,
        lockWaitMs: 0,
      });
      const holder = rawExchange(emulator.port, get('/json'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });
      await sleep(80);

      const [busyGet, busyPost] = await Promise.all([
        rawExchange(emulator.port, get('/json/state'), {
          stopWhen: hasCompleteReply,
          waitMs: 1500,
        }),
        rawExchange(emulator.port, post('/json/state', '{"bri":7}'), { waitMs: 1500 }),
      ]);
      await holder;

      const parsedGet = parseReply(busyGet.text);
      assert.equal(parsedGet.statusLine, 'HTTP/1.1 503 Service Unavailable');
      assert.equal(parsedGet.headerNames.includes('Retry-After'), false);
      assert.equal(parsedGet.body, '{"error":3}');
      assert.equal(busyPost.bytes.length, 0);
      assert.equal(busyPost.ending, 'fin');
      assert.notEqual(emulator.device.snapshot().state.bri, 7);
    });

    it('answers nothing when busy on 0.13', async () => {
      const device = builtinDevice({ line: '0.13', busyBehaviour: 'silent' });
      emulator = await startEmulatorFor(device, {
        receiveTimeoutMs: 200,
        latencyMs: 400,
        lockWaitMs: 0,
      });
      const holder = rawExchange(emulator.port, get('/json'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });
      await sleep(80);

      const busyGet = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1500 });
      await holder;

      assert.equal(busyGet.bytes.length, 0);
      assert.equal(busyGet.ending, 'fin');
      assert.ok(busyGet.elapsedMs >= 190, `closed after ${busyGet.elapsedMs} ms`);
    });

    it('queues contending requests on 16.x', async () => {
      const device = builtinDevice({ line: '16', busyBehaviour: 'queue' });
      emulator = await startEmulatorFor(device, { latencyMs: 150 });
      const first = rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });
      await sleep(30);
      const second = await rawExchange(emulator.port, get('/json/info'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });

      assert.equal(parseReply(second.text).statusLine, 'HTTP/1.1 200 OK');
      assert.ok(second.elapsedMs >= 200, `second answered after ${second.elapsedMs} ms`);
      assert.equal(parseReply((await first).text).statusLine, 'HTTP/1.1 200 OK');
      assert.equal(emulator.stats().busyReplies, 0);
    });

    it('sends the unterminated 503 when the 16.x queue is full', async () => {
      const device = builtinDevice({ line: '16', busyBehaviour: 'queue' });
      emulator = await startEmulatorFor(device, { receiveTimeoutMs: 1500 });
      const waiting = Array.from({ length: 6 }, () =>
        rawExchange(emulator.port, 'GET /json/state HTTP/1.1\r\n', { waitMs: 1000 }),
      );
      await sleep(300);

      const seventh = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1000 });
      await Promise.all(waiting);

      assert.equal(seventh.text, 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n');
      assert.equal(seventh.ending, 'rst');
      assert.equal(emulator.stats().busyReplies, 1);
    });

    it('holds the buffer until the response is written', async () => {
      emulator = await startEmulator({ lockWaitMs: 0, latencyMs: 200 });
      const first = rawExchange(emulator.port, get('/json'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });
      await sleep(50);
      const during = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
      });
      await first;
      const after = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 1000,
      });

      assert.equal(parseReply(during.text).statusLine, 'HTTP/1.1 503 Service Unavailable');
      assert.equal(parseReply(after.text).statusLine, 'HTTP/1.1 200 OK');
    });

    it('keeps /presets.json outside the buffer', async () => {
      emulator = await startEmulator({ lockWaitMs: 0, latencyMs: 200 });
      const holder = rawExchange(emulator.port, get('/json'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });
      await sleep(50);
      const presets = await rawExchange(emulator.port, get('/presets.json'), {
        stopWhen: hasCompleteReply,
        waitMs: 1000,
      });
      await holder;

      assert.equal(parseReply(presets.text).statusLine, 'HTTP/1.1 200 OK');
    });
  });

  describe('connections and latency', () => {
    it('resets connections over the TCP limit', async () => {
      emulator = await startEmulatorFor(builtinDevice({ tcpConnectionLimit: 2 }));
      const held = [
        net.connect(emulator.port, '127.0.0.1'),
        net.connect(emulator.port, '127.0.0.1'),
      ];
      held.forEach((socket) => socket.on('error', () => undefined));
      await sleep(100);

      const third = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1000 });
      held.forEach((socket) => socket.destroy());
      await sleep(50);
      const later = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 1000,
      });

      assert.equal(third.ending, 'rst');
      assert.equal(third.bytes.length, 0);
      assert.equal(parseReply(later.text).statusLine, 'HTTP/1.1 200 OK');
    });

    it('delays responses by the fixed latency', async () => {
      emulator = await startEmulator({ latencyMs: 150 });
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });

      assert.ok(reply.elapsedMs >= 145, `answered after ${reply.elapsedMs} ms`);
    });

    it('changes latency at run time', async () => {
      emulator = await startEmulator();
      emulator.setLatency([120, 160]);
      const reply = await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });

      assert.ok(reply.elapsedMs >= 115, `answered after ${reply.elapsedMs} ms`);
      assert.throws(() => emulator.setLatency([200, 100]), /invalid latency/);
      assert.throws(() => emulator.setLatency(-1), /invalid latency/);
    });

    it('closes idle sockets after the safety timeout', async () => {
      emulator = await startEmulator({ idleCloseMs: 150 });
      const reply = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1500 });

      await sleep(50);

      assert.equal(hasCompleteReply(reply.bytes), true);
      assert.equal(reply.ending, 'fin');
      assert.equal(emulator.stats().openConnections, 0);
    });
  });

  describe('stats', () => {
    it('counts concurrent requests precisely', async () => {
      emulator = await startEmulator({ latencyMs: 150, lockWaitMs: 1000 });
      await rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 1000,
      });
      await rawExchange(emulator.port, post('/json/state', '{"on":true}'), {
        stopWhen: hasCompleteReply,
        waitMs: 1000,
      });
      assert.equal(emulator.stats().maxConcurrent, 1);

      await Promise.all([
        rawExchange(emulator.port, get('/json/state'), {
          stopWhen: hasCompleteReply,
          waitMs: 2000,
        }),
        rawExchange(emulator.port, get('/json/info'), { stopWhen: hasCompleteReply, waitMs: 2000 }),
      ]);
      const stats = emulator.stats();

      assert.equal(stats.maxConcurrent, 2);
      assert.equal(stats.current, 0);
      assert.equal(stats.requests, 4);
      assert.equal(stats.connections, 4);
      assert.deepEqual(stats.getsByPath, { '/json/state': 2, '/json/info': 1 });
      assert.deepEqual(stats.postsByPath, { '/json/state': 1 });
    });

    it('resets the counters', async () => {
      emulator = await startEmulator();
      await rawExchange(emulator.port, get('/json/state'), { stopWhen: hasCompleteReply });
      emulator.resetStats();
      const stats = emulator.stats();

      assert.equal(stats.requests, 0);
      assert.equal(stats.maxConcurrent, 0);
      assert.deepEqual(stats.getsByPath, {});
    });

    it('counts an unanswered request until its socket closes', async () => {
      emulator = await startEmulator();
      emulator.inject({ kind: 'never-answer' });
      const socket = net.connect(emulator.port, '127.0.0.1');
      socket.write(get('/json/state'));
      await sleep(100);
      const during = emulator.stats().current;
      socket.destroy();
      await sleep(100);

      assert.equal(during, 1);
      assert.equal(emulator.stats().current, 0);
    });
  });

  describe('captured profiles', () => {
    const profile16 = path.join(FIXTURES_DIR, '16.0.0-esp32');

    it('streams 16.x fxdata with zero-padded chunks', async function () {
      if (!fs.existsSync(profile16)) {
        this.skip();
      }
      emulator = await startEmulator({ profile: '16.0.0-esp32', fixturesDir: FIXTURES_DIR });
      const reply = await rawExchange(emulator.port, get('/json/fxdata'), {
        stopWhen: (bytes) => bytes.toString('latin1').endsWith('\r\n0000\r\n\r\n'),
        waitMs: 2000,
      });
      const parsed = parseReply(reply.text);

      assert.equal(parsed.headerNames.includes('Content-Length'), false);
      assert.deepEqual(parsed.headerNames.slice(-3), [
        'Connection',
        'Accept-Ranges',
        'Transfer-Encoding',
      ]);
      assert.match(parsed.body, /^0400\r\n/);
      assert.equal(reply.ending, 'open');
    });
  });
});
