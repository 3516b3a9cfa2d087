import { tesseraEventRegistry } from '@tessera/contracts';
import { syntheticEvent } from './synthetic-events';

describe('synthetic events for tests and the benchmark', () => {
  it('every kind in the stream matches its contract, so ingest tests exercise real shapes', () => {
    const registry = tesseraEventRegistry();
    for (let n = 1; n <= 10; n++) {
      const { event } = syntheticEvent(n);
      expect(() => registry.parse(JSON.stringify(event))).not.toThrow();
    }
  });

  it('event n is always the same event, and distinct n give distinct event ids', () => {
    expect(syntheticEvent(42)).toEqual(syntheticEvent(42));
    const ids = new Set(Array.from({ length: 1000 }, (_, n) => syntheticEvent(n + 1).event.eventId));
    expect(ids.size).toBe(1000);
  });
});
