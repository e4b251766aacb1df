/** A clock tests move by hand, so time-based rules (throttle windows, key lifetimes, retention) need no sleeping. */
export interface TestClock {
  now: () => Date;
  advance(seconds: number): void;
  set(date: Date): void;
}

export function testClock(start = new Date()): TestClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance: (seconds) => {
      current += seconds * 1000;
    },
    set: (date) => {
      current = date.getTime();
    },
  };
}
