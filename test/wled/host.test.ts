import assert from 'node:assert/strict';

import { maskCredentials, parseHost } from '../../src/lib/wled/host';
import { assertInvalidInput } from './helpers';

describe('parseHost', () => {
  const accepted: Array<[string, ReturnType<typeof parseHost>]> = [
    ['192.0.2.10', { baseUrl: 'http://192.0.2.10', host: '192.0.2.10', port: 80, secure: false }],
    [
      '  192.0.2.10  ',
      { baseUrl: 'http://192.0.2.10', host: '192.0.2.10', port: 80, secure: false },
    ],
    [
      '192.0.2.10:8080',
      { baseUrl: 'http://192.0.2.10:8080', host: '192.0.2.10', port: 8080, secure: false },
    ],
    ['wled.local', { baseUrl: 'http://wled.local', host: 'wled.local', port: 80, secure: false }],
    [
      'WLED-Kitchen.local:81',
      {
        baseUrl: 'http://wled-kitchen.local:81',
        host: 'wled-kitchen.local',
        port: 81,
        secure: false,
      },
    ],
    ['wled_desk', { baseUrl: 'http://wled_desk', host: 'wled_desk', port: 80, secure: false }],
    ['localhost', { baseUrl: 'http://localhost', host: 'localhost', port: 80, secure: false }],
    [
      'http://192.0.2.10',
      { baseUrl: 'http://192.0.2.10', host: '192.0.2.10', port: 80, secure: false },
    ],
    [
      'http://192.0.2.10/',
      { baseUrl: 'http://192.0.2.10', host: '192.0.2.10', port: 80, secure: false },
    ],
    [
      'HTTP://wled.local:80/',
      { baseUrl: 'http://wled.local', host: 'wled.local', port: 80, secure: false },
    ],
    [
      'https://wled.example.com',
      { baseUrl: 'https://wled.example.com', host: 'wled.example.com', port: 443, secure: true },
    ],
    [
      'https://wled.example.com:8443',
      {
        baseUrl: 'https://wled.example.com:8443',
        host: 'wled.example.com',
        port: 8443,
        secure: true,
      },
    ],
    [
      'https://wled.example.com:80',
      { baseUrl: 'https://wled.example.com:80', host: 'wled.example.com', port: 80, secure: true },
    ],
    ['[::1]', { baseUrl: 'http://[::1]', host: '::1', port: 80, secure: false }],
    ['[::1]:8080', { baseUrl: 'http://[::1]:8080', host: '::1', port: 8080, secure: false }],
    ['::1', { baseUrl: 'http://[::1]', host: '::1', port: 80, secure: false }],
    [
      'http://[FE80::1]:81/',
      { baseUrl: 'http://[fe80::1]:81', host: 'fe80::1', port: 81, secure: false },
    ],
    [
      'wled.local.',
      { baseUrl: 'http://wled.local.', host: 'wled.local.', port: 80, secure: false },
    ],
  ];

  for (const [input, expected] of accepted) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      assert.deepEqual(parseHost(input), expected);
    });
  }

  const rejected: Array<[string, string]> = [
    ['', 'Missing device address'],
    ['   ', 'Missing device address'],
    ['http://', 'host name is missing'],
    ['192.0.2.10/json', 'contains a path'],
    ['http://192.0.2.10/json/state', 'contains a path'],
    ['192.0.2.10//', 'contains a path'],
    ['192.0.2.10?x=1', 'query'],
    ['192.0.2.10#top', 'query or fragment'],
    ['admin:secret@192.0.2.10', 'credentials'],
    ['http://admin@wled.local', 'credentials'],
    ['wled local', 'space'],
    ['192.0.2.10:0', 'port 0'],
    ['192.0.2.10:65536', 'port 65536'],
    ['192.0.2.10:', 'port ""'],
    ['192.0.2.10:http', 'port "http"'],
    ['192.0.2.10:-1', 'port "-1"'],
    ['192.0.2.300', 'not a valid IPv4 address'],
    ['192.0.2', 'not a valid IPv4 address'],
    ['-wled.local', 'not a valid host name'],
    ['wled..local', 'not a valid host name'],
    ['wled!.local', 'not a valid host name'],
    ['ftp://wled.local', 'scheme ftp://'],
    ['ws://wled.local', 'scheme ws://'],
    ['[::1', 'no closing bracket'],
    ['[wled.local]:80', 'not a valid IPv6 address'],
    ['[::1]80', 'only a :port may follow'],
    ['fe80::1::2', 'not a valid IPv6 address'],
  ];

  for (const [input, reason] of rejected) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assertInvalidInput(() => parseHost(input), reason, 'optional :port', 'http:// or https://');
    });
  }

  it('names the rejected value', () => {
    assertInvalidInput(() => parseHost('192.0.2.10/json'), '"192.0.2.10/json"');
  });

  it('hides a password in the rejected value', () => {
    for (const input of ['admin:s3cret@192.0.2.10', 'http://admin:s3cret@wled.local/x']) {
      let message = '';
      try {
        parseHost(input);
      } catch (err) {
        message = (err as Error).message;
      }
      assert.ok(message.includes('***@'), message);
      assert.ok(!message.includes('s3cret'), message);
    }
  });

  it('masks user info only', () => {
    assert.equal(maskCredentials('https://a:b@wled.local:8080'), 'https://***@wled.local:8080');
    assert.equal(maskCredentials('a:b@192.0.2.10'), '***@192.0.2.10');
    assert.equal(maskCredentials('wled.local/x@y'), 'wled.local/x@y');
    assert.equal(maskCredentials('wled.local'), 'wled.local');
  });

  it('rejects a value that is not text', () => {
    assertInvalidInput(() => parseHost(42 as unknown as string), 'Invalid device address 42');
  });
});
