import assert from 'node:assert/strict';

import { RequestLane, type Caller, type Job } from '../../src/lib/client/lane';
import { classifyPatch } from '../../src/lib/wled/state-patch';

interface Recorder {
  lane: RequestLane;
  /** Jobs in the order they started. */
  started: Job[];
  /** Finishes the oldest running job. */
  finishNext(): Promise<void>;
}

function createLane(
  options: { maxInFlight?: number; queueLimit?: number; spacingMs?: number } = {},
): Recorder {
  const started: Job[] = [];
  const finishers: Array<() => void> = [];
  const lane = new RequestLane({
    maxInFlight: options.maxInFlight ?? 1,
    queueLimit: options.queueLimit ?? 20,
    writeSpacingMs: () => options.spacingMs ?? 0,
    run: (job) => {
      started.push(job);
      return new Promise<void>((resolve) => finishers.push(resolve));
    },
    complete: () => undefined,
  });
  return {
    lane,
    started,
    finishNext: async () => {
      finishers.shift()?.();
      // Let the lane release the slot and start the next job.
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

function caller(): Caller {
  return { calledAt: Date.now(), queueDepth: 0, resolve: () => undefined, reject: () => undefined };
}

function write(patch: Record<string, unknown>): Job {
  return {
    kind: 'write',
    method: 'POST',
    path: '/json/state',
    patch,
    classification: classifyPatch(patch),
    callers: [caller()],
    mergedWrites: 1,
    started: false,
  };
}

function read(path: string): Job {
  return {
    kind: 'read',
    method: 'GET',
    path,
    callers: [caller()],
    mergedWrites: 1,
    started: false,
  };
}

describe('request lane', () => {
  it('one job on the wire', async () => {
    const { lane, started, finishNext } = createLane();
    lane.enqueue(read('/json/state'));
    lane.enqueue(read('/json/info'));

    assert.equal(started.length, 1);
    assert.equal(lane.inFlight, 1);
    assert.equal(lane.queueDepth, 1);
    await finishNext();
    assert.equal(started.length, 2);
    assert.equal(started[1].path, '/json/info');
  });

  it('queued absolute writes merge', async () => {
    const { lane, started, finishNext } = createLane();
    lane.enqueue(write({ bri: 1 }));
    const queued = write({ bri: 2 });
    lane.enqueue(queued);

    assert.equal(lane.mergeWrite({ bri: 3, on: true }, caller()), queued);
    assert.equal(lane.mergeWrite({ seg: { id: 0, fx: 4 } }, caller()), queued);

    assert.deepEqual(queued.patch, { bri: 3, on: true, seg: { id: 0, fx: 4 } });
    assert.equal(queued.callers.length, 3);
    assert.equal(queued.mergedWrites, 3);
    assert.equal(lane.mergedWrites, 2);
    await finishNext();
    assert.equal(started[1], queued);
  });

  it('write on the wire never merged', () => {
    const { lane } = createLane();
    lane.enqueue(write({ bri: 1 }));

    assert.equal(lane.mergeWrite({ bri: 2 }, caller()), undefined);
  });

  it('barrier neither merged nor merged across', () => {
    const { lane } = createLane();
    lane.enqueue(read('/json/info'));
    const absolute = write({ bri: 2 });
    lane.enqueue(absolute);
    lane.enqueue(write({ on: 't' }));

    assert.equal(lane.mergeWrite({ bri: 3 }, caller()), undefined);
    assert.deepEqual(absolute.patch, { bri: 2 });
  });

  it('write not merged across a read', () => {
    const { lane } = createLane();
    lane.enqueue(read('/json/info'));
    lane.enqueue(write({ bri: 2 }));
    lane.enqueue(read('/json/state'));

    assert.equal(lane.mergeWrite({ bri: 3 }, caller()), undefined);
  });

  it('reads shared until a write is queued', () => {
    const { lane } = createLane();
    const first = read('/json/state');
    lane.enqueue(first);

    assert.equal(lane.findSharedRead('/json/state'), first);
    assert.equal(lane.findSharedRead('/json/info'), undefined);

    lane.enqueue(write({ bri: 1 }));
    assert.equal(lane.findSharedRead('/json/state'), undefined);
  });

  it('fresh read never joins one on the wire', () => {
    const { lane, started } = createLane();
    const onWire = read('/json/state');
    lane.enqueue(onWire);
    assert.equal(started[0], onWire);

    assert.equal(lane.findSharedRead('/json/state'), onWire);
    assert.equal(lane.findSharedRead('/json/state', true), undefined);
  });

  it('withdrawn last caller leaves the queue', () => {
    const { lane } = createLane();
    lane.enqueue(read('/json/info'));
    const queued = read('/json/state');
    lane.enqueue(queued);

    lane.withdraw(queued, queued.callers[0]);

    assert.equal(lane.queueDepth, 0);
  });

  it('read on the wire aborted when unwanted', () => {
    const { lane } = createLane();
    const running = read('/json/state');
    let aborted = false;
    running.abortUnwanted = () => {
      aborted = true;
    };
    lane.enqueue(running);

    lane.withdraw(running, running.callers[0]);

    assert.equal(aborted, true);
  });

  it('two in flight, one write', async () => {
    const { lane, started, finishNext } = createLane({ maxInFlight: 2 });
    lane.enqueue(write({ bri: 1 }));
    lane.enqueue(write({ on: 't' }));
    lane.enqueue(read('/json/info'));

    assert.equal(started.length, 1);
    await finishNext();
    assert.equal(started.length, 3);
  });

  it('write spacing delays the next write', async () => {
    const { lane, started, finishNext } = createLane({ spacingMs: 80 });
    lane.enqueue(write({ bri: 1 }));
    lane.enqueue(write({ on: 't' }));
    const startedAt = Date.now();

    await finishNext();
    assert.equal(started.length, 1);
    while (started.length < 2 && Date.now() - startedAt < 2000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(started.length, 2);
    assert.ok(Date.now() - startedAt >= 75);
    lane.stop();
  });

  it('queue limit', () => {
    const { lane } = createLane({ queueLimit: 2 });
    lane.enqueue(read('/json/info'));
    lane.enqueue(read('/json/state'));
    assert.equal(lane.full, false);
    lane.enqueue(read('/json/eff'));

    assert.equal(lane.full, true);
  });

  it('drain returns the waiting jobs', () => {
    const { lane } = createLane();
    lane.enqueue(read('/json/info'));
    lane.enqueue(read('/json/state'));
    lane.enqueue(read('/json/eff'));

    const waiting = lane.drain();

    assert.deepEqual(
      waiting.map((job) => job.path),
      ['/json/state', '/json/eff'],
    );
    assert.equal(lane.queueDepth, 0);
    assert.equal(lane.inFlight, 1);
  });
});
