import type { EmulatorStats } from './types';

/** Request and connection counters of one emulator. */
export class StatsCounter {
  private data: EmulatorStats = emptyStats();

  /** Counts a request that has been fully received and is now being handled. */
  requestStarted(method: string, path: string): void {
    this.data.requests += 1;
    this.data.current += 1;
    this.data.maxConcurrent = Math.max(this.data.maxConcurrent, this.data.current);

    const byPath = method === 'GET' ? this.data.getsByPath : this.data.postsByPath;
    if (method === 'GET' || method === 'POST' || method === 'PUT' || method === 'PATCH') {
      byPath[path] = (byPath[path] ?? 0) + 1;
    }
  }

  /** Counts the end of a request: its response was written or its socket closed first. */
  requestFinished(): void {
    this.data.current = Math.max(0, this.data.current - 1);
  }

  busyReply(): void {
    this.data.busyReplies += 1;
  }

  connectionAccepted(): void {
    this.data.connections += 1;
  }

  /** Copies the counters, with the live gauges passed in. */
  snapshot(openConnections: number, wsClients: number): EmulatorStats {
    return {
      ...this.data,
      openConnections,
      wsClients,
      postsByPath: { ...this.data.postsByPath },
      getsByPath: { ...this.data.getsByPath },
    };
  }

  /** Zeroes the counters; requests still in progress stay counted in `current`. */
  reset(): void {
    const current = this.data.current;
    this.data = emptyStats();
    this.data.current = current;
    this.data.maxConcurrent = current;
  }
}

function emptyStats(): EmulatorStats {
  return {
    requests: 0,
    current: 0,
    maxConcurrent: 0,
    connections: 0,
    openConnections: 0,
    wsClients: 0,
    busyReplies: 0,
    postsByPath: {},
    getsByPath: {},
  };
}
