import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  backoffDelay,
  decideRestart,
  pendingRestartDelay,
  pruneLog,
} from '../../../actors/index.ts';
import type { SupervisionPolicy } from '../../../actors/index.ts';

const T = 1_700_000_000_000;

/** Feeds failures at the given times through the policy; returns each decision. */
function run(times: readonly number[], policy: SupervisionPolicy) {
  let log: readonly number[] = [];
  return times.map((now) => {
    const d = decideRestart(log, now, policy);
    log = d.log;
    return { now, d };
  });
}

const policyArb = fc.record({
  maxRestarts: fc.integer({ min: 1, max: 10 }),
  windowMs: fc.integer({ min: 1_000, max: 3_600_000 }),
  baseDelayMs: fc.integer({ min: 1, max: 10_000 }),
  maxDelayMs: fc.integer({ min: 1, max: 120_000 }),
});

describe('decideRestart', () => {
  it('restarts the first failure after the base delay and logs its time', () => {
    expect(decideRestart([], T, DEFAULT_POLICY)).toEqual({ action: 'restart', delayMs: 1_000, log: [T] });
  });

  it('doubles the delay with each restart in the window and escalates after five', () => {
    const times = [0, 1_000, 3_000, 7_000, 15_000, 31_000].map((d) => T + d);
    const decisions = run(times, DEFAULT_POLICY).map(({ d }) => d);
    expect(decisions.slice(0, 5).map((d) => (d.action === 'restart' ? d.delayMs : null))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000,
    ]);
    expect(decisions[5]).toEqual({
      action: 'escalate',
      log: times.slice(0, 5),
      reason: 'restart limit reached: 5 restarts within 600000 ms',
    });
  });

  it('caps the delay at the maximum', () => {
    const policy = { ...DEFAULT_POLICY, maxRestarts: 10 };
    const delays = run(
      Array.from({ length: 9 }, (_, i) => T + i),
      policy,
    ).map(({ d }) => (d.action === 'restart' ? d.delayMs : null));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('drops log entries once they are a full window old', () => {
    const log = [T, T + 1, T + 2, T + 3, T + 4];
    expect(decideRestart(log, T + 600_000, DEFAULT_POLICY)).toEqual({
      action: 'restart',
      delayMs: 16_000,
      log: [T + 1, T + 2, T + 3, T + 4, T + 600_000],
    });
    expect(decideRestart(log, T + 599_999, DEFAULT_POLICY).action).toBe('escalate');
  });

  it('never returns a delay outside [min(base, max), max]', () => {
    fc.assert(
      fc.property(policyArb, fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 20 }), fc.integer({ min: 0, max: 10_000_000 }), (policy, log, now) => {
        const d = decideRestart(log, now, policy);
        if (d.action === 'restart') {
          expect(d.delayMs).toBeGreaterThanOrEqual(Math.min(policy.baseDelayMs, policy.maxDelayMs));
          expect(d.delayMs).toBeLessThanOrEqual(policy.maxDelayMs);
        }
      }),
    );
  });

  it('escalates exactly when the window already holds maxRestarts restarts', () => {
    fc.assert(
      fc.property(policyArb, fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 20 }), fc.integer({ min: 0, max: 10_000_000 }), (policy, log, now) => {
        const d = decideRestart(log, now, policy);
        expect(d.action === 'escalate').toBe(pruneLog(log, now, policy).length >= policy.maxRestarts);
        expect(d.log.every((t) => now - t < policy.windowMs)).toBe(true);
        if (d.action === 'restart') {
          expect(d.log.length).toBeLessThanOrEqual(policy.maxRestarts);
          expect(d.log.at(-1)).toBe(now);
        }
      }),
    );
  });

  it('never allows more than maxRestarts restarts in any window, whatever the failure times', () => {
    fc.assert(
      fc.property(policyArb, fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 60 }), (policy, gaps) => {
        let now = T;
        const times = gaps.map((g) => (now += g));
        const restarts = run(times, policy)
          .filter(({ d }) => d.action === 'restart')
          .map(({ now: t }) => t);
        for (const r of restarts) {
          const inWindow = restarts.filter((x) => x <= r && r - x < policy.windowMs).length;
          expect(inWindow).toBeLessThanOrEqual(policy.maxRestarts);
        }
      }),
    );
  });

  it('never shortens the delay as restarts accumulate in the window', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 0, max: 100 }), (policy, n) => {
        expect(backoffDelay(n + 1, policy)).toBeGreaterThanOrEqual(backoffDelay(n, policy));
      }),
    );
  });
});

describe('pendingRestartDelay', () => {
  it('keeps the original due time of the restart decided last', () => {
    // Decided at T+5000 with one earlier restart in the window: due at T+5000+2000.
    expect(pendingRestartDelay([T, T + 5_000], T + 6_000, DEFAULT_POLICY)).toBe(1_000);
  });

  it('is zero when the due time has passed', () => {
    expect(pendingRestartDelay([T], T + 60_000, DEFAULT_POLICY)).toBe(0);
  });

  it('is the base delay when nothing is logged inside the window', () => {
    expect(pendingRestartDelay([], T, DEFAULT_POLICY)).toBe(1_000);
    expect(pendingRestartDelay([T], T + 600_000, DEFAULT_POLICY)).toBe(1_000);
  });
});
