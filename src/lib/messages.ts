/**
 * English templates of every message that the plain modules under `src/lib` build for users,
 * keyed by stable ids. The device node's catalogue
 * (`nodes/locales/en-US/wled-jsonapi-device.json`, section `messages`) repeats this table
 * exactly, so that Node-RED's `RED._` can render the same keys in the editor's language, and a
 * test keeps the two equal.
 *
 * Placeholders use i18next's `__name__` form, the one `RED._` understands. A parameter is a
 * rendered string or number, or another message, which is rendered first with the same
 * translator.
 *
 * NOTE: some parameters are still English phrases built in code: field labels and accepted
 * forms of the payload checks (`invalidValue`), the reasons of `input.invalid-address`, the
 * type words of the response checks and the texts of Node.js and ws errors.
 */

export const MESSAGES = {
  'error.with-advice': '__what__. __advice__',
  'node.translated': '__text__',

  'input.invalid-value': 'Invalid __label__ __value__ in __path__: use __accepted__',

  'input.invalid-effect': 'Invalid effect __value__: use an effect name or id',
  'input.invalid-palette': 'Invalid palette __value__: use a palette name or id',
  'input.missing-effect': 'Missing effect: give an effect name or id',
  'input.missing-palette': 'Missing palette: give a palette name or id',
  'input.invalid-effect-id':
    'Invalid effect id __id__: use a whole number from 0 to 255 or an effect name',
  'input.invalid-palette-id':
    'Invalid palette id __id__: use a whole number from 0 to 255 or a palette name',
  'input.unknown-effect-id':
    'Unknown effect id __id__ on this device: it has effect ids 0 to __max__',
  'input.unknown-palette-id':
    'Unknown palette id __id__ on this device: it has palette ids 0 to __max__',
  'input.unused-effect-id':
    'The effect id __id__ is unused on this device (listed as __listed__): choose another effect',
  'input.unused-palette-id':
    'The palette id __id__ is unused on this device (listed as __listed__): choose another palette',
  'input.unknown-effect-name':
    "Unknown effect __name__ on this device, and no similar names were found among its __count__ effects; pick one from the node's effect list",
  'input.unknown-palette-name':
    "Unknown palette __name__ on this device, and no similar names were found among its __count__ palettes; pick one from the node's palette list",
  'input.unknown-effect-suggest':
    'Unknown effect __name__ on this device. Closest names: __suggestions__',
  'input.unknown-palette-suggest':
    'Unknown palette __name__ on this device. Closest names: __suggestions__',

  'input.unknown-effect-field':
    'Unknown field __fields__ in msg.payload: the effect node reads __known__',
  'input.invalid-effect-number':
    'Invalid effect id __value__ in msg.payload: use a whole number from 0 to 255, or an effect name',
  'input.invalid-effect-payload':
    'Invalid msg.payload __value__: use an effect name, or an object with __known__',
  'input.nothing-to-set':
    'Nothing to set: choose an effect, speed, intensity, palette or colours in the node, or send them in msg.payload',

  'input.missing-address': 'Missing device address: __forms__',
  'input.invalid-address': 'Invalid device address __address__ (__reason__): __forms__',
  'input.address-forms':
    'use a hostname or IP address with an optional :port and an optional http:// or https:// prefix, such as 192.0.2.10, wled-kitchen.local:8080, https://wled.example.com or [fe80::1]:80',

  'input.invalid-state': 'Invalid state __value__ in __path__: use __forms__',
  'input.missing-state': 'Missing state in __path__: use __forms__',
  'input.empty-state':
    'Empty state object in __path__: give at least one field such as {"on": true} or {"bri": 128}, or use a get-state node to read the state',

  'input.unknown-resource': 'Unknown resource __resource__; use one of __names__',
  'input.patch-not-object': 'A state patch must be an object, not __value__',
  'input.patch-not-json': 'The state patch cannot be sent as JSON: __problem__',
  'input.patch-too-large':
    'The state change is __bytes__ bytes of JSON, but WLED accepts at most __max__ bytes per request; split it into several messages',

  'request.failed': '__device__: __method__ __path__: __reason__',
  'client.closed': 'the device client is closed',
  'client.was-closed': 'the device client was closed',
  'client.closed-before-sent': 'the device client was closed before the request was sent',
  'client.closed-on-wire': 'the device client was closed while the request was on the wire',
  'client.other-device':
    'another device (MAC __mac__) responds at this address instead of MAC __expectedMac__',
  'client.unreachable-check-in':
    'the device has been unreachable since __since__, and the next check is in __seconds__ s',
  'client.unreachable-check-running':
    'the device has been unreachable since __since__, and the next check is under way',
  'client.stopped-responding': 'the device stopped responding before the request was sent',
  'client.aborted': 'the request was aborted by its caller',
  'client.all-callers-withdrew': 'every caller withdrew the request',
  'client.queue-timeout': "waited __ms__ ms in the device's queue",
  'client.queue-full': 'the queue for this device is full (__depth__ waiting)',
  'client.total-timeout': 'no complete response within __ms__ ms',
  'client.reread-timeout': 'no state read back within __ms__ ms',
  'client.indeterminate-read-failed':
    '__reason__, and reading the state back failed (__readClass__), so the write was not repeated because it is not safe to repeat',
  'client.indeterminate-no-baseline':
    '__reason__. The write was not repeated because repeating it is not safe, and with no earlier state to compare with, the state read back cannot show whether it was applied',
  'client.indeterminate-unchanged':
    '__reason__. The write was not repeated because repeating it is not safe, and the state read back shows no change in the fields it sets',

  'transport.connect-timeout': 'no connection within __ms__ ms',
  'transport.connect-failed': 'the connection failed (__code__)',
  'transport.unparsable': 'the response could not be parsed (__code__)',
  'transport.tls-failed': 'the TLS connection failed (__code__)',
  'transport.response-timeout': 'no response data for __ms__ ms',
  'transport.too-large': 'the response is larger than the client accepts',
  'transport.body-cut-off':
    'the response was cut off after __bytes__ bytes, headers included (__code__)',
  'transport.overloaded-closed': 'the device answered 503 and closed the connection',
  'transport.headers-cut-off': 'the response headers were cut off after __bytes__ bytes (__code__)',
  'transport.stale': 'the reused connection was closed before any response (__code__)',
  'transport.dropped': 'the device closed the connection without answering (__code__)',

  'response.busy': 'the device answered 503 (busy)',
  'response.http-status': 'the device answered HTTP __status____body__',
  'response.empty': 'the response body is empty',
  'response.not-json': 'the response is not valid JSON (__bytes__ bytes, starting "__start__")',
  'response.buffer-busy': 'the device reported its JSON buffer busy (error 3)',
  'response.firmware-error': 'the device reported error __code__',
  'response.invalid-shape': 'the response __problem__',
  'response.not-object': 'is __type__, not a JSON object',
  'response.not-name-list': 'is __type__, not a JSON array of names',
  'response.bad-name': 'has a __type__ at index __index__ where a name belongs',
  'response.no-version': 'has no "ver" string, so it is not WLED info',
  'response.no-on-bri': 'has neither "on" nor "bri", so it is not a WLED state',
  'response.no-state': 'has no "state" object',
  'response.no-info': 'has no "info" object',

  'live.failed': '__device__: __reason__',
  'live.heartbeat-timeout':
    'the WebSocket sent nothing for __silentMs__ ms, not even a pong to the pings sent every __heartbeatMs__ ms',
  'live.upgrade-rejected-credentials':
    "the WebSocket upgrade at __path__ got HTTP __status__, so check the username and password in the device node's settings",
  'live.upgrade-rejected':
    'the WebSocket upgrade at __path__ got HTTP __status__, so the firmware has no WebSocket or a proxy blocks it',
  'live.connect-failed': 'the WebSocket connection to __path__ failed (__code__)',
  'live.connect-timeout': 'no connection for the WebSocket within __ms__ ms',
  'live.upgrade-timeout': 'the WebSocket upgrade got no answer within __ms__ ms',
  'live.upgrade-failed': 'the WebSocket upgrade failed: __error__',
  'live.socket-failed': 'the WebSocket failed: __error__',
  'live.closed-without-frame':
    'the WebSocket connection ended without a close frame (code __code__)',
  'live.closed-try-later':
    'the device closed the WebSocket with 1013 (out of memory, try again later)',
  'live.closed-by-device': 'the device closed the WebSocket (code __code__)',
  'input.invalid-segment-filter':
    'Invalid segment __value__: use a segment id (0, 1, ...), or leave it empty for every segment',

  'advice.invalid-input': 'Nothing was sent to the device.',
  'advice.stale':
    'A reused connection had been closed by the device or a proxy; the request is repeated once on a new connection.',
  'advice.overloaded':
    'Too many requests are going to the device; send fewer, for example through a delay node that limits the rate.',
  'advice.dropped':
    'The device accepted the connection and closed it without answering, which WLED does when it is short of memory; send fewer requests.',
  'advice.truncated':
    'The answer was cut off before it was complete; check the Wi-Fi signal and the load on the device.',
  'advice.invalid-response':
    'The answer was not valid WLED JSON; check that the address points at a WLED device.',
  'advice.protocol':
    'The device sent HTTP that Node.js cannot parse; update the WLED firmware, or turn on lenient HTTP parsing in the device node.',
  'advice.tls':
    "The https address's certificate or TLS setup was rejected; give the proxy a certificate that Node.js trusts, check the address's scheme and port, or turn on Accept any certificate in the device node.",
  'advice.unreachable': 'The device is not answering; check its power, its Wi-Fi and the address.',
  'advice.timeout':
    'The device did not answer in time; check its power and Wi-Fi, or raise the timeouts.',
  'advice.http': 'The device rejected the request; check the request and the device settings.',
  'advice.indeterminate':
    'Whether the write was applied is unknown; read the state before sending it again.',
  'advice.wrong-device':
    'Writes are refused until the address is checked and the flows are redeployed.',
  'advice.cancelled': 'The request was withdrawn before it completed.',
  'advice.closed': 'The device node was stopped or redeployed before the request could finish.',
} as const;

export type MessageKey = keyof typeof MESSAGES;

/** A value for a placeholder: rendered text, a number, or a message rendered in turn. */
export type MessageParam = string | number | MessageText;

export type MessageParams = Readonly<Record<string, MessageParam>>;

/** A message before rendering: its template key and the values of its placeholders. */
export interface MessageText {
  readonly key: MessageKey;
  readonly params?: MessageParams;
}

/** Renders a template with flat parameters; `RED._` has the same signature. */
export type Translator = (key: MessageKey, params: Record<string, string | number>) => string;

export function messageText(key: MessageKey, params?: MessageParams): MessageText {
  return params === undefined ? { key } : { key, params };
}

/** Renders one template in English, replacing each `__name__` with its parameter. */
export function formatMessage(
  key: MessageKey,
  params: Record<string, string | number> = {},
): string {
  return MESSAGES[key].replace(/__([A-Za-z0-9]+)__/g, (placeholder, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : placeholder,
  );
}

/** Renders a message and the messages among its parameters, in English unless a translator is given. */
export function renderMessage(text: MessageText, translate: Translator = formatMessage): string {
  const flat: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(text.params ?? {})) {
    flat[name] = typeof value === 'object' ? renderMessage(value, translate) : value;
  }
  return translate(text.key, flat);
}
