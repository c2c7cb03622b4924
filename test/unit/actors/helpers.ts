/** Builders shared by the actor tests. */
import type { ManagerId, StrategyRef, TargetWeights, TraderId } from '../../../runtime/domain.ts';
import { traderEffect } from '../../../actors/index.ts';
import type {
  CancelSignal,
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
  computes: { input: ComputeTargetsInput; signal: CancelSignal }[];
  rebalances: { input: ExecuteRebalanceInput; signal: CancelSignal }[];
}

/** Fake trader effects: load resolves at once; compute and rebalance follow `behaviour`. */
export function fakeEffects(
  behaviour: {
    load?: (input: LoadTraderInput) => Promise<LoadTraderOutput>;
    compute?: (input: ComputeTargetsInput, signal: CancelSignal) => Promise<TargetWeights>;
    rebalance?: (input: ExecuteRebalanceInput, signal: CancelSignal) => Promise<unknown>;
  } = {},
) {
  const fakes: Fakes = { loads: [], computes: [], rebalances: [] };
  const actions = {
    loadTrader: traderEffect<LoadTraderInput, LoadTraderOutput>(async ({ input }) => {
      fakes.loads.push(input);
      return behaviour.load ? behaviour.load(input) : { strategyRef: 'momentum@3' as StrategyRef };
    }),
    computeTargets: traderEffect<ComputeTargetsInput, TargetWeights>(async ({ input, signal }) => {
      fakes.computes.push({ input, signal });
      return behaviour.compute ? behaviour.compute(input, signal) : { BTCUSDT: { weight: 0.5 } };
    }),
    executeRebalance: traderEffect<ExecuteRebalanceInput, unknown>(async ({ input, signal }) => {
      fakes.rebalances.push({ input, signal });
      return behaviour.rebalance ? behaviour.rebalance(input, signal) : undefined;
    }),
  };
  return { fakes, actions };
}

/** A promise that settles only when the signal aborts (then rejects); it polls the flag. */
export function untilAborted<T>(signal: CancelSignal): Promise<T> {
  return new Promise<T>((_, reject) => {
    const poll = () => {
      if (signal.aborted) reject(new Error('aborted'));
      else setTimeout(poll, 1).unref();
    };
    poll();
  });
}
