/**
 * Reads a cycle's stored plan (JSON of unknown shape at this boundary) into rows the console
 * can show: each planned order with its risk decision and outcome, and the orders dropped
 * before sending. Anything it cannot read is shown raw instead.
 */
import { z } from 'zod';

/** A risk decision or an outcome, reduced to a verdict and a reason. */
export interface Verdict {
  readonly verdict: string;
  readonly reason: string | null;
}

/** One planned order as the console shows it. */
export interface PlanOrderView {
  readonly clientOrderId: string | null;
  readonly symbol: string | null;
  readonly side: string | null;
  readonly type: string | null;
  readonly amount: string | null;
  readonly price: string | null;
  readonly reduceOnly: boolean;
  readonly stopLoss: string | null;
  readonly takeProfit: string | null;
  readonly risk: Verdict | null;
  readonly outcome: Verdict | null;
}

/** An order the planner dropped (e.g. under the exchange minimum). */
export interface DroppedView {
  readonly symbol: string | null;
  readonly reason: string;
}

/** A readable plan. */
export interface PlanView {
  readonly orders: readonly PlanOrderView[];
  readonly dropped: readonly DroppedView[];
}

// The stored shape is the rebalance executor's report (runtime `RebalanceReport`), read back
// from JSON: validated here because rows from the database are a boundary.
const riskSchema = z.union([
  z.object({ allowed: z.literal(true) }),
  z.object({ allowed: z.literal(false), check: z.string(), reason: z.string() }),
]);
const outcomeSchema = z.looseObject({
  status: z.string(),
  reason: z.string().optional(),
  clientOrderId: z.string().optional(),
  orderStatus: z.string().optional(),
  order: z.looseObject({ status: z.string(), reason: z.string().nullish() }).optional(),
});
const orderSchema = z.looseObject({
  symbol: z.string(),
  side: z.string(),
  kind: z.string(),
  amount: z.string(),
  price: z.string(),
  reduceOnly: z.boolean(),
  stopLoss: z.string().nullable(),
  takeProfit: z.string().nullable(),
});
const reportSchema = z.looseObject({
  lines: z.array(z.object({ order: orderSchema, risk: riskSchema, outcome: outcomeSchema })),
  skipped: z.array(z.looseObject({ symbol: z.string(), reason: z.string() })),
});

function outcomeVerdict(o: z.infer<typeof outcomeSchema>): Verdict {
  if (o.status === 'sent' && o.order) {
    return { verdict: o.order.status === 'closed' ? 'filled' : o.order.status, reason: o.order.reason ?? null };
  }
  if (o.status === 'already-sent') return { verdict: 'already sent', reason: o.orderStatus ? `recorded as ${o.orderStatus}` : null };
  return { verdict: o.status, reason: o.reason ?? null };
}

/**
 * Reads a stored plan into rows. Returns null when the value has another shape (the caller
 * then shows the raw JSON).
 */
export function readPlan(plan: unknown): PlanView | null {
  if (plan === null || plan === undefined) return { orders: [], dropped: [] };
  const r = reportSchema.safeParse(plan);
  if (!r.success) return null;
  return {
    orders: r.data.lines.map(({ order, risk, outcome }) => ({
      clientOrderId: outcome.clientOrderId ?? null,
      symbol: order.symbol,
      side: order.side,
      type: `market · ${order.kind}`,
      amount: order.amount,
      price: order.price,
      reduceOnly: order.reduceOnly,
      stopLoss: order.stopLoss,
      takeProfit: order.takeProfit,
      risk: risk.allowed ? { verdict: 'approved', reason: null } : { verdict: 'denied', reason: `${risk.check}: ${risk.reason}` },
      outcome: outcomeVerdict(outcome),
    })),
    dropped: r.data.skipped.map((d) => ({ symbol: d.symbol, reason: d.reason })),
  };
}

/** Tone of a verdict word for its badge: ok, bad, warn or neutral. */
export function verdictTone(verdict: string): 'ok' | 'bad' | 'warn' | 'neutral' {
  const v = verdict.toLowerCase();
  if (/(den|reject|refus|block|fail|error|cancel|not)/.test(v)) return 'bad';
  if (/(approv|allow|accept|pass|fill|closed|done|sent|ok)/.test(v)) return 'ok';
  if (/(pend|open|partial|skip|drop)/.test(v)) return 'warn';
  return 'neutral';
}
