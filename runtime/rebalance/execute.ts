/**
 * Executes one rebalance cycle of one trader: read the account, plan (pure), review each order
 * against the pre-trade checks, then send the approved orders batch by batch. Every order is
 * recorded before it is sent and carries a deterministic client order id, so neither a retry
 * nor a restart can double it. A pause (the AbortSignal) or a closed order gate stops the cycle
 * before the next order leaves.
 */
import type { Clock } from '../clock.ts';
import { errorMessage, type MarketSymbol, type TargetWeights, type TraderId } from '../domain.ts';
import { clientOrderId } from '../exchange/clientId.ts';
import type { OrderGate } from '../exchange/gate.ts';
import { ExchangeError, type Exchange, type Market, type Order, type Position, type PositionSide } from '../exchange/port.ts';
import { dec } from '../exchange/precision.ts';
import { reviewPlan, type RiskDecision } from '../risk/pretrade.ts';
import type { EventRecord, OrderRecord, OrdersRepo, RiskLimits } from '../store/types.ts';
import { triggeredExits, type ExitTrigger, type ManagedExits, type TriggeredExit } from './exits.ts';
import { planRebalance, type PlannedOrder } from './plan.ts';

/** What became of one planned order. */
export type OrderOutcome =
  | { readonly status: 'sent'; readonly clientOrderId: string; readonly order: Pick<Order, 'id' | 'status' | 'filled' | 'average' | 'fee' | 'reason'> }
  | { readonly status: 'denied'; readonly reason: string; readonly check: string }
  | { readonly status: 'canceled'; readonly reason: string }
  | { readonly status: 'already-sent'; readonly clientOrderId: string; readonly orderStatus: string }
  | { readonly status: 'failed'; readonly clientOrderId: string; readonly reason: string };

/** One line of a cycle's decision record. */
export interface PlanLine {
  readonly order: PlannedOrder;
  readonly risk: RiskDecision;
  readonly outcome: OrderOutcome;
  /** Present on the close leg of a runtime-managed exit: the level that forced it. */
  readonly exit?: { readonly trigger: ExitTrigger; readonly level: string };
}

/** A runtime-managed exit of one cycle: which level the candles met and the close it caused. */
export interface ExitLine {
  readonly symbol: MarketSymbol;
  readonly side: PositionSide;
  readonly trigger: ExitTrigger;
  readonly level: string;
  /** The range of the candles since the last cycle. */
  readonly high: string;
  readonly low: string;
  /** The position amount being closed. */
  readonly amount: string;
  /** The order whose levels were in force. */
  readonly levelOrderId: string;
  /** Client id of the close leg; null when the plan could not close (see `skipped`). */
  readonly closeOrderId: string | null;
}

/** The decision record of a rebalance (stored as the cycle's `plan`). */
export interface RebalanceReport {
  readonly equity: string;
  readonly lines: readonly PlanLine[];
  readonly skipped: readonly { readonly symbol: string; readonly reason: string; readonly amount?: string }[];
  readonly canceled: boolean;
  /** The managed exits of the cycle; present only when the cycle managed exits. */
  readonly exits?: readonly ExitLine[];
}

/** One rebalance cycle: its id, the strategy's targets and, for venues without attached stops, the managed exits. */
export interface RebalanceCycle {
  readonly cycleId: string;
  readonly targets: TargetWeights;
  /**
   * Given for a venue that cannot attach SL/TP to an order: positions whose level the ranges
   * met are closed this cycle (their target forced to 0, whatever the strategy asked), and
   * orders go to the venue without stopLoss/takeProfit while their records keep them.
   */
  readonly managedExits?: ManagedExits;
}

/** The trader facts a rebalance needs. */
export interface RebalanceTrader {
  readonly id: TraderId;
  readonly managerId: string;
  readonly leverage: number;
  readonly limits: Required<RiskLimits>;
}

/** Dependencies of the executor (all injected). */
export interface ExecuteDeps {
  readonly clock: Clock;
  readonly orders: OrdersRepo;
  readonly gate: OrderGate;
  /** The venue's markets; read from the account (`loadMarkets`, cached by adapters) when absent. */
  readonly markets?: Readonly<Record<MarketSymbol, Market>>;
  readonly threshold: number;
  readonly emit: (e: EventRecord) => void;
  /** Transient retries of one order before giving up (default 3). */
  readonly maxAttempts?: number;
  /** Backoff before retry n (ms); defaults to 200 × 2^n with jitter from `random`. */
  readonly backoffMs?: (attempt: number) => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Equity at the start of the trader's day, for the daily loss limit. */
  readonly dayStartEquity: (traderId: TraderId, equity: string) => string;
  /** Leverage already set per trader and symbol, so it is set once. */
  readonly leverageSet?: Set<string>;
}

/**
 * An operational failure that stops the trader (not a strategy fault). It is not retried by
 * supervision: a human must look (invalid key, insufficient margin, restricted account).
 */
export class TradingHalted extends Error {
  readonly kind = 'operational';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'TradingHalted';
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs one rebalance; returns the decision record. Throws `TradingHalted` on operational failure. */
export async function executeRebalance(
  deps: ExecuteDeps,
  ex: Exchange,
  trader: RebalanceTrader,
  cycle: RebalanceCycle,
  signal: { readonly aborted: boolean },
): Promise<RebalanceReport> {
  const [balance, positions, markets] = await Promise.all([
    ex.fetchBalance(),
    ex.fetchPositions(),
    deps.markets ? Promise.resolve(deps.markets) : ex.loadMarkets(),
  ]);
  const managed = cycle.managedExits;
  const triggered = managed ? triggeredExits(positions, managed.levels, managed.ranges) : [];
  const exitOf = new Map(triggered.map((e) => [e.symbol, e] as const));
  // A triggered position is closed now and stays flat until the next cycle.
  const targets: TargetWeights =
    triggered.length === 0 ? cycle.targets : { ...cycle.targets, ...Object.fromEntries(triggered.map((e) => [e.symbol, { weight: 0 }])) };
  const symbols = [...new Set([...Object.keys(targets), ...positions.map((p) => p.symbol)])];
  const prices = await ex.fetchPrices(symbols);
  const plan = planRebalance({
    equity: balance.equity,
    positions,
    targets,
    prices,
    markets,
    leverage: trader.leverage,
    threshold: deps.threshold,
  });
  const reviewed = reviewPlan(plan, {
    limits: trader.limits,
    leverage: trader.leverage,
    positions,
    equity: balance.equity,
    dayStartEquity: deps.dayStartEquity(trader.id, balance.equity),
  });
  const decisionOf = new Map(reviewed.map((r) => [r.order, r.decision] as const));
  const lines: PlanLine[] = [];
  let canceled = false;

  // Legs are numbered per symbol in plan order: the client ids do not depend on outcomes.
  const legs = new Map<string, number>();
  const legOf = new Map<PlannedOrder, number>();
  for (const order of plan.orders) {
    const leg = legs.get(order.symbol) ?? 0;
    legs.set(order.symbol, leg + 1);
    legOf.set(order, leg);
  }
  const exitLines = managed ? triggered.map((e) => exitLine(e, managed, positions, plan.orders, legOf, trader.id, cycle.cycleId)) : [];
  for (const line of exitLines) emitExit(deps, trader, cycle.cycleId, line, plan.skipped.find((s) => s.symbol === line.symbol)?.reason);

  // Batches go out in order and, inside a batch, one order after another: closes and
  // reductions free margin before the opens that need it.
  for (const order of plan.orders) {
    const risk = decisionOf.get(order) ?? { allowed: true as const };
    const leg = legOf.get(order) ?? 0;
    const hit = order.kind === 'close' ? exitOf.get(order.symbol) : undefined;
    const exit = hit ? { exit: { trigger: hit.trigger, level: hit.level } } : {};
    if (canceled) {
      lines.push({ order, risk, outcome: { status: 'canceled', reason: stopReason(deps, trader, signal) ?? 'cycle canceled' }, ...exit });
      continue;
    }
    if (!risk.allowed) {
      deps.emit({
        at: deps.clock.now(),
        type: 'order.denied',
        severity: 'warning',
        traderId: trader.id,
        managerId: trader.managerId,
        actor: 'risk',
        message: `${order.side} ${order.amount} ${order.symbol} denied: ${risk.reason}`,
        data: { cycleId: cycle.cycleId, check: risk.check, symbol: order.symbol },
      });
      lines.push({ order, risk, outcome: { status: 'denied', reason: risk.reason, check: risk.check }, ...exit });
      continue;
    }
    const stop = stopReason(deps, trader, signal);
    if (stop) {
      canceled = true;
      lines.push({ order, risk, outcome: { status: 'canceled', reason: stop }, ...exit });
      continue;
    }
    const id = clientOrderId(trader.id, cycle.cycleId, order.symbol, leg);
    const outcome = await sendOne(deps, ex, trader, cycle.cycleId, order, id, signal, managed === undefined);
    if (outcome.status === 'canceled') canceled = true;
    lines.push({ order, risk, outcome, ...exit });
  }
  return { equity: balance.equity, lines, skipped: plan.skipped, canceled, ...(managed ? { exits: exitLines } : {}) };
}

function exitLine(
  e: TriggeredExit,
  managed: ManagedExits,
  positions: readonly Position[],
  orders: readonly PlannedOrder[],
  legOf: ReadonlyMap<PlannedOrder, number>,
  traderId: TraderId,
  cycleId: string,
): ExitLine {
  // triggeredExits only returns symbols with both a range and a level.
  const range = managed.ranges[e.symbol];
  const level = managed.levels[e.symbol];
  let amount = dec(0);
  for (const p of positions) if (p.symbol === e.symbol && p.side === e.side) amount = amount.plus(dec(p.amount).abs());
  const close = orders.find((o) => o.symbol === e.symbol && o.kind === 'close');
  return {
    symbol: e.symbol,
    side: e.side,
    trigger: e.trigger,
    level: e.level,
    high: range?.high ?? '',
    low: range?.low ?? '',
    amount: amount.toFixed(),
    levelOrderId: level?.clientOrderId ?? '',
    closeOrderId: close ? clientOrderId(traderId, cycleId, e.symbol, legOf.get(close) ?? 0) : null,
  };
}

function emitExit(deps: ExecuteDeps, trader: RebalanceTrader, cycleId: string, e: ExitLine, skippedReason: string | undefined): void {
  const what = e.trigger === 'stopLoss' ? 'stop-loss' : 'take-profit';
  // Long: the stop-loss is met by the low, the take-profit by the high; short mirrored.
  const byLow = (e.side === 'long') === (e.trigger === 'stopLoss');
  const seen = byLow ? `low ${groupDigits(e.low)}` : `high ${groupDigits(e.high)}`;
  const action =
    e.closeOrderId !== null
      ? `closing ${e.side} ${e.amount} ${e.symbol}`
      : `cannot close ${e.side} ${e.amount} ${e.symbol}: ${skippedReason ?? 'no close was planned'}`;
  deps.emit({
    at: deps.clock.now(),
    type: 'order.exit',
    severity: 'warning',
    traderId: trader.id,
    managerId: trader.managerId,
    actor: 'system',
    message: `${what} ${groupDigits(e.level)} hit (${seen}): ${action}`,
    data: {
      cycleId,
      symbol: e.symbol,
      side: e.side,
      trigger: e.trigger,
      level: e.level,
      high: e.high,
      low: e.low,
      amount: e.amount,
      levelOrderId: e.levelOrderId,
      clientOrderId: e.closeOrderId,
    },
  });
}

/** `61200.5` → `61,200.5`: thousands separators on the integer part, the digits kept as they are. */
function groupDigits(x: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(x);
  if (!m) return x;
  return `${m[1] ?? ''}${(m[2] ?? '').replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}`;
}

function stopReason(deps: ExecuteDeps, trader: RebalanceTrader, signal: { readonly aborted: boolean }): string | null {
  if (signal.aborted) return 'cycle canceled: the trader was paused or stopped';
  const g = deps.gate.check(trader.id, trader.managerId);
  return g.allowed ? null : `order gate closed: ${g.reason}`;
}

async function sendOne(
  deps: ExecuteDeps,
  ex: Exchange,
  trader: RebalanceTrader,
  cycleId: string,
  order: PlannedOrder,
  id: string,
  signal: { readonly aborted: boolean },
  /** False when the venue cannot attach SL/TP: the request omits them, the record keeps them. */
  attachStops: boolean,
): Promise<OrderOutcome> {
  const now = deps.clock.now();
  const record: OrderRecord = {
    clientOrderId: id,
    traderId: trader.id,
    cycleId,
    symbol: order.symbol,
    side: order.side,
    type: 'market',
    amount: order.amount,
    reduceOnly: order.reduceOnly,
    ...(order.stopLoss ? { stopLoss: order.stopLoss } : {}),
    ...(order.takeProfit ? { takeProfit: order.takeProfit } : {}),
    leverage: trader.leverage,
    status: 'pending',
    exchangeOrderId: null,
    filled: '0',
    average: null,
    fee: '0',
    reason: null,
    createdAt: now,
    updatedAt: now,
  };
  const inserted = await deps.orders.insertPending(record);
  if (!inserted) {
    // This exact order was decided before (a restart re-ran the cycle): resolve, never resend.
    const existing = await deps.orders.get(id);
    if (existing?.status === 'pending') {
      const found = await ex.fetchOrderByClientId(id, order.symbol);
      if (found) await deps.orders.updateFromVenue(id, found, deps.clock.now());
      else await deps.orders.markFailed(id, 'never reached the venue (resolved by lookup)', deps.clock.now());
    }
    return { status: 'already-sent', clientOrderId: id, orderStatus: existing?.status ?? 'unknown' };
  }

  if (!order.reduceOnly && deps.leverageSet) {
    const key = `${trader.id}|${order.symbol}`;
    if (!deps.leverageSet.has(key)) {
      await ex.setLeverage(order.symbol, trader.leverage);
      deps.leverageSet.add(key);
    }
  }

  const maxAttempts = deps.maxAttempts ?? 3;
  const sleep = deps.sleep ?? defaultSleep;
  const backoff = deps.backoffMs ?? ((n: number) => 200 * 2 ** n);
  let lastError = '';
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (attempt > 0) {
      // An ambiguous submit is resolved by lookup before anything is sent again.
      const found = await ex.fetchOrderByClientId(id, order.symbol).catch(() => null);
      if (found) return settle(deps, trader, cycleId, id, found);
      await sleep(backoff(attempt));
      const stop = stopReason(deps, trader, signal);
      if (stop) {
        await deps.orders.markFailed(id, stop, deps.clock.now());
        return { status: 'canceled', reason: stop };
      }
    }
    try {
      const placed = await ex.createOrder({
        clientOrderId: id,
        symbol: order.symbol,
        side: order.side,
        type: 'market',
        amount: order.amount,
        reduceOnly: order.reduceOnly,
        ...(attachStops && order.stopLoss ? { stopLoss: order.stopLoss } : {}),
        ...(attachStops && order.takeProfit ? { takeProfit: order.takeProfit } : {}),
        leverage: trader.leverage,
      });
      return settle(deps, trader, cycleId, id, placed);
    } catch (err) {
      lastError = errorMessage(err);
      if (err instanceof ExchangeError) {
        if (err.kind === 'duplicate') {
          const found = await ex.fetchOrderByClientId(id, order.symbol);
          if (found) return settle(deps, trader, cycleId, id, found);
          continue;
        }
        if (err.kind === 'transient') continue;
        if (err.kind === 'order') {
          await deps.orders.markFailed(id, lastError, deps.clock.now());
          return { status: 'failed', clientOrderId: id, reason: lastError };
        }
        // operational: a closed gate is a pause, anything else halts the trader.
        if (/order gate closed/.test(lastError)) {
          await deps.orders.markFailed(id, lastError, deps.clock.now());
          return { status: 'canceled', reason: lastError };
        }
        await deps.orders.markFailed(id, lastError, deps.clock.now());
        throw new TradingHalted(`${order.symbol}: ${lastError}`);
      }
      // Unknown failure: treat as ambiguous and resolve by lookup on the next attempt.
    }
  }
  const found = await ex.fetchOrderByClientId(id, order.symbol).catch(() => null);
  if (found) return settle(deps, trader, cycleId, id, found);
  await deps.orders.markFailed(id, `gave up after ${maxAttempts} attempts: ${lastError}`, deps.clock.now());
  throw new TradingHalted(`${order.symbol}: order failed after ${maxAttempts} attempts: ${lastError}`);
}

async function settle(
  deps: ExecuteDeps,
  trader: RebalanceTrader,
  cycleId: string,
  id: string,
  o: Order,
): Promise<OrderOutcome> {
  await deps.orders.updateFromVenue(id, o, deps.clock.now());
  const rejected = o.status === 'rejected';
  deps.emit({
    at: deps.clock.now(),
    type: rejected ? 'order.rejected' : 'order.placed',
    severity: rejected ? 'warning' : 'info',
    traderId: trader.id,
    managerId: trader.managerId,
    actor: 'system',
    message: rejected
      ? `${o.side} ${o.amount} ${o.symbol} rejected: ${o.reason ?? 'no reason given'}`
      : `${o.side} ${o.filled}/${o.amount} ${o.symbol} ${o.status}${o.average ? ` @ ${o.average}` : ''}`,
    data: { cycleId, clientOrderId: id, orderId: o.id, status: o.status },
  });
  return {
    status: 'sent',
    clientOrderId: id,
    order: { id: o.id, status: o.status, filled: o.filled, average: o.average, fee: o.fee, reason: o.reason },
  };
}
