/**
 * Identity of a device as read from its documents: the MAC address recorded on first
 * contact, the firmware version, reboots (from `info.uptime`) and the last known state. This
 * module only records and compares, and the client decides what each finding changes.
 */

import { messageText, type MessageText } from '../messages';
import { RESOURCE_PATHS } from '../wled/resources';
import type { WledInfo, WledState } from './types';

/** How far the boot time implied by `info.uptime` may move between two reads without being
 *  taken for a reboot, in milliseconds. It covers the whole-second uptime and the request
 *  latency; the clock drift of a device between two reads is far smaller. */
export const BOOT_TIME_TOLERANCE_MS = 5000;

/** A change found in a document. */
export type IdentityFinding =
  | { kind: 'other-device'; mac: string; expectedMac: string }
  | { kind: 'reboot'; uptime: number; previousUptime: number }
  | { kind: 'version-changed'; from: string; to: string };

export class DeviceIdentity {
  /** `info.mac` recorded on first contact. */
  mac: string | undefined;
  /** `info.mac` of another device seen at the address later. */
  otherMac: string | undefined;
  /** `info.ver` of the last info read. */
  version: string | undefined;
  /** Whether an info document has been read, so that a device whose info has no `mac` is
   *  not read again before every call. */
  infoSeen = false;
  /** State from the last state document: a read, a write's response or `/json`. */
  lastKnownState: WledState | undefined;

  private uptime: number | undefined;
  /** Time of the last boot on the `now` clock, as implied by the last uptime read. */
  private bootedAt: number | undefined;

  /** Describes the other device at the address, for the errors of rejected writes. */
  describeOtherDevice(): MessageText {
    return messageText('client.other-device', {
      mac: this.otherMac ?? 'unknown',
      expectedMac: this.mac ?? 'unknown',
    });
  }

  /** Records what a parsed response body of `path` shows and returns what changed. `now` is
   *  in milliseconds on a monotonic clock, so that a wall-clock jump is not taken for a reboot. */
  observe(path: string, data: unknown, now: number = performance.now()): IdentityFinding[] {
    if (path === RESOURCE_PATHS.state) {
      this.lastKnownState = data as WledState;
      return [];
    }
    if (path === RESOURCE_PATHS.info) {
      return this.observeInfo(data as WledInfo, now);
    }
    if (path === RESOURCE_PATHS.full || path === '/json/si') {
      const document = data as { state?: WledState; info?: WledInfo };
      if (document.state !== undefined) {
        this.lastKnownState = document.state;
      }
      return document.info === undefined ? [] : this.observeInfo(document.info, now);
    }
    return [];
  }

  private observeInfo(info: WledInfo, now: number): IdentityFinding[] {
    const findings: IdentityFinding[] = [];
    this.infoSeen = true;

    const mac = typeof info.mac === 'string' ? info.mac : undefined;
    if (mac !== undefined && this.mac === undefined) {
      this.mac = mac;
    } else if (mac !== undefined && mac !== this.mac) {
      this.otherMac = mac;
      findings.push({ kind: 'other-device', mac, expectedMac: this.mac as string });
    }

    if (typeof info.uptime === 'number') {
      const reboot = this.observeUptime(info.uptime, now);
      if (reboot !== undefined) {
        findings.push(reboot);
      }
    }

    const version = typeof info.ver === 'string' ? info.ver : undefined;
    if (version !== undefined && this.version !== undefined && version !== this.version) {
      findings.push({ kind: 'version-changed', from: this.version, to: version });
    }
    if (version !== undefined) {
      this.version = version;
    }

    return findings;
  }

  /**
   * Detects a reboot: the uptime went backwards, or the boot time it implies moved later by
   * more than the tolerance. The second case is a reboot between two reads that are so far
   * apart that the new uptime has grown past the previous one.
   */
  private observeUptime(uptime: number, now: number): IdentityFinding | undefined {
    const bootedAt = now - uptime * 1000;
    const previousUptime = this.uptime;
    const previousBootedAt = this.bootedAt;
    this.uptime = uptime;
    this.bootedAt = bootedAt;

    if (previousUptime === undefined || previousBootedAt === undefined) {
      return undefined;
    }
    const backwards = uptime < previousUptime;
    const bootMoved = bootedAt - previousBootedAt > BOOT_TIME_TOLERANCE_MS;
    return backwards || bootMoved ? { kind: 'reboot', uptime, previousUptime } : undefined;
  }
}
