/**
 * Risk policies (pure): the daily stop-loss, the total stop-loss and the leverage cap, set
 * per trader, per user and for the platform, resolved in that order, and evaluated on a
 * trader's portfolio value. A breach is a value with an exact message, never an exception.
 */
import { Decimal } from 'decimal.js';
import type { DecimalString } from '../domain.ts';
import { dec, type Dec } from '../exchange/precision.ts';

/** The policies a violation can name. */
export const RiskPolicyName = {
  dailyStopLoss: 'dailyStopLoss',
  totalStopLoss: 'totalStopLoss',
  maxLeverage: 'maxLeverage',
} as const;
export type RiskPolicyName = (typeof RiskPolicyName)[keyof typeof RiskPolicyName];

/** Where a policy row applies. */
export const PolicyScope = { platform: 'platform', user: 'user', trader: 'trader' } as const;
export type PolicyScope = (typeof PolicyScope)[keyof typeof PolicyScope];

/** The scope id of the platform's row. */
export const PLATFORM_POLICY_ID = 'platform';

/**
 * The limits of one layer; null (or absent) inherits from the next layer. Stop-losses are in
 * percent (10 = 10 %) of the basis PV; leverage is a multiple.
 */
export interface PolicyLimits {
  readonly dailyStopLossPct?: number | null;
  readonly totalStopLossPct?: number | null;
  readonly maxLeverage?: number | null;
}

/** Every limit set, as the evaluation uses it. */
export interface ResolvedLimits {
  readonly dailyStopLossPct: number;
  readonly totalStopLossPct: number;
  readonly maxLeverage: number;
}

/** Resolved limits and the layer each one came from (for the console). */
export interface ResolvedPolicy extends ResolvedLimits {
  readonly sources: { readonly [K in keyof ResolvedLimits]: PolicyScope | 'default' };
}

/** The limits used when no platform row exists (the migration seeds the same values). */
export const DEFAULT_POLICY: ResolvedLimits = Object.freeze({ dailyStopLossPct: 10, totalStopLossPct: 30, maxLeverage: 10 });

const LIMIT_KEYS = ['dailyStopLossPct', 'totalStopLossPct', 'maxLeverage'] as const;

/**
 * Resolves a trader's limits: its own row wins over its user's, which wins over the
 * platform's, which wins over `DEFAULT_POLICY`; a null, non-finite or non-positive value
 * inherits.
 * @example resolvePolicy({ platform, user: rows.get(`user:${t.userId}`), trader: rows.get(`trader:${t.id}`) })
 */
export function resolvePolicy(layers: { platform?: PolicyLimits | null; user?: PolicyLimits | null; trader?: PolicyLimits | null }): ResolvedPolicy {
  const out: Record<keyof ResolvedLimits, number> = { ...DEFAULT_POLICY };
  const sources: Record<keyof ResolvedLimits, PolicyScope | 'default'> = {
    dailyStopLossPct: 'default',
    totalStopLossPct: 'default',
    maxLeverage: 'default',
  };
  const order: readonly [PolicyScope, PolicyLimits | null | undefined][] = [
    ['platform', layers.platform],
    ['user', layers.user],
    ['trader', layers.trader],
  ];
  for (const [scope, layer] of order) {
    if (!layer) continue;
    for (const key of LIMIT_KEYS) {
      const v = layer[key];
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) {
        out[key] = v;
        sources[key] = scope;
      }
    }
  }
  return { ...out, sources };
}

/** The trader facts a policy looks at. */
export interface PolicyTrader {
  readonly id: string;
  readonly userId: string;
  /** The trader's configured leverage. */
  readonly leverage: number;
  readonly initialCapital: DecimalString;
}

/** What `evaluatePolicies` needs for one trader at one sample. */
export interface PolicyInput {
  readonly trader: PolicyTrader;
  readonly policy: ResolvedLimits;
  /** The first PV of the UTC day (or the PV at a release of the daily stop-loss that day). */
  readonly dayStartPv: DecimalString;
  readonly pv: DecimalString;
  /** Gross position notional over equity, when known. */
  readonly positionsLeverage?: number | null;
  /** The total stop-loss basis: the initial capital unless a release re-based it. */
  readonly totalBasePv?: DecimalString | null;
}

/** One breached policy. `observed` and `limit` are decimal strings (percent, or a leverage multiple). */
export interface PolicyBreach {
  readonly policy: RiskPolicyName;
  readonly observed: DecimalString;
  readonly limit: DecimalString;
  readonly message: string;
}

/**
 * Evaluates the three policies for one trader and returns the breached ones, in the order
 * daily, total, leverage. A loss breaches when it reaches its limit (≥); leverage breaches
 * only above its cap (>). A non-positive basis skips its stop-loss.
 * @example evaluatePolicies({ trader, policy, dayStartPv: '1000', pv: '876' }) // daily loss 12.4 % reached the limit 10 %
 */
export function evaluatePolicies(input: PolicyInput): PolicyBreach[] {
  const out: PolicyBreach[] = [];
  const pv = dec(input.pv);
  const limits = input.policy;

  const daily = lossPct(dec(input.dayStartPv), pv);
  if (daily !== null && daily.gte(limits.dailyStopLossPct)) {
    out.push({
      policy: 'dailyStopLoss',
      observed: observed(daily),
      limit: plain(limits.dailyStopLossPct),
      message: `daily loss ${shown(daily)} % reached the limit ${plain(limits.dailyStopLossPct)} %`,
    });
  }

  const base = input.totalBasePv ?? input.trader.initialCapital;
  const total = lossPct(dec(base), pv);
  if (total !== null && total.gte(limits.totalStopLossPct)) {
    const since = input.totalBasePv != null ? ` since the release at PV ${dec(base).toFixed()}` : '';
    out.push({
      policy: 'totalStopLoss',
      observed: observed(total),
      limit: plain(limits.totalStopLossPct),
      message: `total loss ${shown(total)} %${since} reached the limit ${plain(limits.totalStopLossPct)} %`,
    });
  }

  const configured = input.trader.leverage;
  const positions = input.positionsLeverage ?? null;
  const positionsOver = positions !== null && Number.isFinite(positions) && positions > limits.maxLeverage;
  const configuredOver = Number.isFinite(configured) && configured > limits.maxLeverage;
  if (configuredOver || positionsOver) {
    const usePositions = positionsOver && (!configuredOver || positions! > configured);
    const value = dec(usePositions ? positions! : configured);
    const what = usePositions ? 'position leverage' : 'leverage';
    out.push({
      policy: 'maxLeverage',
      observed: observed(value),
      limit: plain(limits.maxLeverage),
      message: `${what} ${shown(value)} is over the cap ${plain(limits.maxLeverage)}`,
    });
  }
  return out;
}

/** Loss in percent from `basis` to `pv`, or null when the basis is not positive. */
function lossPct(basis: Dec, pv: Dec): Dec | null {
  if (!basis.gt(0)) return null;
  return basis.minus(pv).div(basis).mul(100);
}

/** Stored figure: 6 decimals, trailing zeros dropped. */
function observed(x: Dec): DecimalString {
  return x.toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN).toString();
}

/** Shown figure: truncated to 2 decimals, so a loss that reached a limit never shows under it. */
function shown(x: Dec): string {
  return x.toDecimalPlaces(2, Decimal.ROUND_DOWN).toString();
}

function plain(n: number): string {
  return dec(n).toString();
}
