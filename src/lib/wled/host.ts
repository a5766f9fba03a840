/**
 * Parsing of the device address that users type into the config node.
 */

import { isIPv4, isIPv6 } from 'node:net';

import { invalidInput } from '../errors';
import { messageText } from '../messages';

/** A device address split into the parts the HTTP client needs. */
export interface DeviceAddress {
  /** Scheme, host and port without a trailing slash, e.g. `http://[fe80::1]:8080`. */
  baseUrl: string;
  /** Hostname or IP address, lower case, IPv6 without brackets. */
  host: string;
  port: number;
  secure: boolean;
}

const ACCEPTED_FORMS = messageText('input.address-forms');

// One DNS label: letters, digits, hyphens and underscores (mDNS and some routers hand out
// names with underscores), not starting or ending with a hyphen.
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * Parses a device address: a hostname, IPv4 or IPv6 address (bracketed when a port follows),
 * an optional `:port` and an optional `http://` or `https://` prefix. Without a prefix the
 * scheme is http; without a port it is 80 (443 for https). Surrounding whitespace and one
 * trailing slash are ignored. Throws an `invalid-input` WledError for anything else,
 * including paths, queries and credentials in the address.
 */
export function parseHost(input: string): DeviceAddress {
  if (typeof input !== 'string') {
    throw invalid(input, 'it is not text');
  }

  let rest = input.trim();
  if (rest === '') {
    throw invalidInput('input.missing-address', { forms: ACCEPTED_FORMS });
  }

  let secure = false;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    const name = scheme[1].toLowerCase();
    if (name !== 'http' && name !== 'https') {
      throw invalid(input, `the scheme ${name}:// is not supported`);
    }
    secure = name === 'https';
    rest = rest.slice(scheme[0].length);
  }

  if (rest.endsWith('/')) {
    rest = rest.slice(0, -1);
  }
  checkNoExtraParts(input, rest);

  const { host, portText } = splitHostPort(input, rest);
  const defaultPort = secure ? 443 : 80;
  const port = portText === undefined ? defaultPort : parsePort(input, portText);

  const hostInUrl = isIPv6(host) ? `[${host}]` : host;
  const portInUrl = port === defaultPort ? '' : `:${port}`;

  return {
    baseUrl: `${secure ? 'https' : 'http'}://${hostInUrl}${portInUrl}`,
    host,
    port,
    secure,
  };
}

/**
 * Replaces the user-info part of an address (`user:password@`) with `***@`, so an address
 * typed with credentials can be shown in errors, logs and node names.
 */
export function maskCredentials(address: string): string {
  return address.replace(/^(\s*(?:[a-z][a-z0-9+.-]*:\/\/)?)[^/?#]*@/i, '$1***@');
}

function invalid(input: unknown, reason: string) {
  const shown = typeof input === 'string' ? JSON.stringify(maskCredentials(input)) : String(input);
  return invalidInput('input.invalid-address', { address: shown, reason, forms: ACCEPTED_FORMS });
}

/** Rejects the URL parts that a device address must not carry. */
function checkNoExtraParts(input: string, rest: string): void {
  if (/\s/.test(rest)) {
    throw invalid(input, 'it contains a space');
  }
  if (rest.includes('@')) {
    // Credentials in the address would end up in logs and in the editor; the config node
    // stores them as Node-RED credentials instead.
    throw invalid(
      input,
      'it contains credentials; enter the user name and password in their own fields',
    );
  }
  if (rest.includes('/')) {
    throw invalid(input, 'it contains a path');
  }
  if (rest.includes('?') || rest.includes('#')) {
    throw invalid(input, 'it contains a query or fragment');
  }
  if (rest === '') {
    throw invalid(input, 'the host name is missing');
  }
}

function splitHostPort(input: string, rest: string): { host: string; portText?: string } {
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) {
      throw invalid(input, 'the IPv6 address has no closing bracket');
    }
    const host = rest.slice(1, close).toLowerCase();
    const after = rest.slice(close + 1);
    if (!isIPv6(host)) {
      throw invalid(input, `${host} is not a valid IPv6 address`);
    }
    if (after === '') {
      return { host };
    }
    if (!after.startsWith(':')) {
      throw invalid(input, 'only a :port may follow the IPv6 address');
    }
    return { host, portText: after.slice(1) };
  }

  // More than one colon without brackets can only be a bare IPv6 address (no port possible).
  if (rest.indexOf(':') !== rest.lastIndexOf(':')) {
    const host = rest.toLowerCase();
    if (!isIPv6(host)) {
      throw invalid(
        input,
        'it is not a valid IPv6 address; write an IPv6 address with a port as [address]:port',
      );
    }
    return { host };
  }

  const colon = rest.indexOf(':');
  const host = (colon < 0 ? rest : rest.slice(0, colon)).toLowerCase();
  checkHostname(input, host);
  return colon < 0 ? { host } : { host, portText: rest.slice(colon + 1) };
}

function checkHostname(input: string, host: string): void {
  if (host === '') {
    throw invalid(input, 'the host name is missing');
  }

  // All-numeric dotted names are IPv4 addresses and must be complete and in range.
  if (/^[0-9.]+$/.test(host)) {
    if (!isIPv4(host)) {
      throw invalid(input, `${host} is not a valid IPv4 address`);
    }
    return;
  }

  const labels = host.endsWith('.') ? host.slice(0, -1).split('.') : host.split('.');
  if (host.length > 253 || !labels.every((label) => LABEL.test(label))) {
    throw invalid(input, `${host} is not a valid host name`);
  }
}

function parsePort(input: string, portText: string): number {
  if (!/^[0-9]{1,5}$/.test(portText)) {
    throw invalid(
      input,
      `the port ${JSON.stringify(portText)} is not a whole number from 1 to 65535`,
    );
  }
  const port = Number(portText);
  if (port < 1 || port > 65535) {
    throw invalid(input, `the port ${port} is not a whole number from 1 to 65535`);
  }
  return port;
}
