/**
 * WLED's single JSON document and its lock. Since 0.13 every JSON request serialises into or
 * parses from one static buffer. The lock is taken when handling starts and released once the
 * whole response has been handed to the TCP stack. A second request meanwhile waits or gets
 * the firmware line's busy reply.
 */
export class JsonBufferLock {
  private locked = false;
  private readonly waiters: Array<() => void> = [];

  get busy(): boolean {
    return this.locked;
  }

  /**
   * Takes the lock, waiting up to `waitMs` (Infinity waits until `signal` aborts). Resolves
   * `true` once the lock is held, `false` when the wait ran out or was aborted. Waiters get the
   * lock in arrival order, as the 16.x request queue serves them.
   */
  acquire(waitMs: number, signal?: AbortSignal): Promise<boolean> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve(true);
    }
    if (waitMs <= 0 || signal?.aborted) {
      return Promise.resolve(false);
    }

    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;

      const grant = (): void => {
        cleanup();
        resolve(true);
      };
      const giveUp = (): void => {
        cleanup();
        const index = this.waiters.indexOf(grant);
        if (index >= 0) {
          this.waiters.splice(index, 1);
        }
        resolve(false);
      };
      const cleanup = (): void => {
        if (timer !== undefined) {
          clearTimeout(timer);
        }
        signal?.removeEventListener('abort', giveUp);
      };

      this.waiters.push(grant);
      if (Number.isFinite(waitMs)) {
        timer = setTimeout(giveUp, waitMs);
      }
      signal?.addEventListener('abort', giveUp, { once: true });
    });
  }

  /** Releases the lock, handing it straight to the longest waiter if there is one. */
  release(): void {
    const next = this.waiters.shift();
    if (next === undefined) {
      this.locked = false;
      return;
    }
    next();
  }
}
