/** Builders shared by the actor tests. */
import { fromPromise } from 'xstate';
import type { ManagerId, StrategyRef, TargetWeights, TraderId } from '../../../runtime/domain.ts';
import type {
  ComputeTargetsInput,
  ExecuteRebalanceInput,
  LoadTraderInput,
  LoadTraderOutput,
  TraderInput,
} from '../../../actors/index.ts';

export const T0 = 1_700_000_000_000;

/** Lets pending promise callbacks (and the actor events they send) run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A trader input with defaults. */
export function traderInput(overrides: Partial<TraderInput> & { traderId?: TraderId } = {}): TraderInput {
  return {
    traderId: 't-1' as TraderId,
    managerId: 'm-1' as ManagerId,
    strategyRef: 'momentum@3' as StrategyRef,
    desired: 'running',
    ...overrides,
  };
}

/** Records the calls of fake effects and lets each test decide how they settle. */
export interface Fakes {
  loads: LoadTraderInput[];
  computes: { input: ComputeTargetsInput; signal: AbortSignal }[];
  rebalances: { input: ExecuteRebalanceInput; signal: AbortSignal }[];
}

/** Fake trader effects: load resolves at once; compute and rebalance follow `behaviour`. */
export function fakeEffects(
  behaviour: {
    load?: (input: LoadTraderInput) => Promise<LoadTraderOutput>;
    compute?: (input: ComputeTargetsInput, signal: AbortSignal) => Promise<TargetWeights>;
    rebalance?: (input: ExecuteRebalanceInput, signal: AbortSignal) => Promise<unknown>;
  } = {},
) {
  const fakes: Fakes = { loads: [], computes: [], rebalances: [] };
  const actors = {
    loadTrader: fromPromise<LoadTraderOutput, LoadTraderInput>(async ({ input }) => {
      fakes.loads.push(input);
      return behaviour.load ? behaviour.load(input) : { strategyRef: 'momentum@3' as StrategyRef };
    }),
    computeTargets: fromPromise<TargetWeights, ComputeTargetsInput>(async ({ input, signal }) => {
      fakes.computes.push({ input, signal });
      return behaviour.compute ? behaviour.compute(input, signal) : { BTCUSDT: { weight: 0.5 } };
    }),
    executeRebalance: fromPromise<unknown, ExecuteRebalanceInput>(async ({ input, signal }) => {
      fakes.rebalances.push({ input, signal });
      return behaviour.rebalance ? behaviour.rebalance(input, signal) : undefined;
    }),
  };
  return { fakes, actors };
}

/** A promise that settles only when the signal aborts (then rejects). */
export function untilAborted<T>(signal: AbortSignal): Promise<T> {
  return new Promise<T>((_, reject) => {
    signal.addEventListener('abort', () => reject(new Error('aborted')));
  });
}
