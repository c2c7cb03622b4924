/**
 * Reconciling one live trader with its venue account (before it trades again after a start):
 * the expectation comes from the trader's order records on top of a stored baseline, the venue
 * state from the account; each difference is adopted (the platform takes the venue's word:
 * orders are looked up and their records updated, a reduced or closed position moves the
 * baseline) or flagged (exposure or orders the platform did not create: the trader is paused at
 * scope `risk` until an operator decides). Like the risk module's `violationCommands`, nothing
 * is sent from here: the result says what the composition root must send and write.
 */
import { z } from 'zod';
import type { DecimalString, MarketSymbol, TraderId } from './domain.ts';
import {
  expectedFromOrders,
  reconcile,
  signedAmount,
  type ExpectedState,
  type ReconcileDifference,
  type ReconcileReport,
} from './exchange/ccxt/index.ts';
import { dec, type Exchange, type Order } from './exchange/index.ts';
import type { EventRecord, OrdersRepo, SettingsRepo } from './store/types.ts';

/** What the platform accepted as the account's state at `at`: fills of later orders add to it. */
export interface ReconcileBaseline {
  readonly at: number;
  /** Signed amounts (+ long, − short) per symbol. */
  readonly positions: Readonly<Record<MarketSymbol, DecimalString>>;
  /** Venue orders placed outside the platform that an operator accepted (client id, or `#` + venue id). */
  readonly acceptedOrders: readonly string[];
}

const Baseline = z.object({
  at: z.number().int(),
  positions: z.record(z.string(), z.string().regex(/^-?\d+(\.\d+)?$/)),
  acceptedOrders: z.array(z.string()),
});

/** The settings key of a trader's baseline. */
export const baselineKey = (traderId: string): string => `reconcile.baseline.${traderId}`;

/** The stores reconciliation reads and writes (the node's `store` fits). */
export interface ReconcileRepos {
  readonly orders: Pick<OrdersRepo, 'listForTrader' | 'get' | 'updateFromVenue' | 'markFailed'>;
  readonly settings: SettingsRepo;
}

/** The trader being reconciled. */
export interface ReconcileTrader {
  readonly id: TraderId;
  readonly managerId?: string | null;
  readonly name?: string;
}

/** The pause a flagged difference puts on the trader (a `TraderPauseEvent`). */
export interface ReconcilePauseCommand {
  readonly type: 'trader.pause';
  readonly by: 'reconcile';
  readonly reason: string;
  readonly scope: 'risk';
  readonly at: number;
}

/** An audit-log entry, shaped as the accounts module's `AuditInput`. */
export interface ReconcileAuditEntry {
  readonly actor: { readonly userId: null; readonly label: 'reconcile'; readonly ip: '' };
  readonly action: 'reconcile.pause';
  readonly target: { readonly type: 'trader'; readonly id: string };
  readonly outcome: 'ok';
  readonly message: string;
  readonly before: null;
  readonly after: Readonly<Record<string, unknown>>;
}

/** The outcome of reconciling one trader. */
export interface TraderReconciliation {
  /** The final comparison (after adopted orders were looked up). */
  readonly report: ReconcileReport;
  /** Differences the platform took over from the venue. */
  readonly adopted: readonly ReconcileDifference[];
  /** Differences an operator must decide; the trader is paused. */
  readonly flagged: readonly ReconcileDifference[];
  /** The baseline stored (null when it did not change). */
  readonly baseline: ReconcileBaseline | null;
  /** `gate.blockTrader(traderId)` then `ref.send(event)` for each; `emit` each event; `audit.record` each entry. */
  readonly commands: {
    readonly sends: readonly { readonly traderId: string; readonly event: ReconcilePauseCommand }[];
    readonly events: readonly EventRecord[];
    readonly audit: readonly ReconcileAuditEntry[];
  };
}

/** Reads a trader's stored baseline (null when none or unreadable). */
export async function loadBaseline(settings: SettingsRepo, traderId: string): Promise<ReconcileBaseline | null> {
  const raw = await settings.get<unknown>(baselineKey(traderId));
  const parsed = Baseline.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** Venue-order key as the comparison uses it: the client id, or `#` + the venue's id. */
const orderKey = (o: Pick<Order, 'clientOrderId' | 'id'>): string => o.clientOrderId || `#${o.id}`;

/** The expectation: baseline + fills of later orders; open and pending orders of any age. */
async function expectation(repos: ReconcileRepos, traderId: TraderId, baseline: ReconcileBaseline | null): Promise<ExpectedState> {
  const [later, live] = await Promise.all([
    repos.orders.listForTrader(traderId, baseline ? { since: baseline.at } : {}),
    repos.orders.listForTrader(traderId, { statuses: ['open', 'pending'] }),
  ]);
  const fills = expectedFromOrders(later);
  const positions: Record<MarketSymbol, DecimalString> = { ...(baseline?.positions ?? {}) };
  for (const [symbol, amount] of Object.entries(fills.positions)) positions[symbol] = dec(positions[symbol] ?? '0').plus(amount).toFixed();
  const orders = expectedFromOrders(live);
  return { positions, openOrders: orders.openOrders, pendingOrders: orders.pendingOrders ?? [] };
}

/**
 * Reconciles one trader with its account: reads the venue's positions and open orders, adopts
 * what can be adopted (order records updated by lookup; reduced or closed positions moved into
 * the baseline), and returns the `reconcile.adopted` / `reconcile.flagged` events and, when
 * anything is flagged, the `risk`-scope pause and its audit entry.
 * @example const r = await reconcileTrader(accountOf(t), store, t, { at: clock.now() }); r.commands.events.forEach(emit);
 */
export async function reconcileTrader(
  ex: Exchange,
  repos: ReconcileRepos,
  trader: ReconcileTrader,
  opts: { readonly at: number },
): Promise<TraderReconciliation> {
  const { at } = opts;
  const baseline = await loadBaseline(repos.settings, trader.id);
  const accepted = new Set(baseline?.acceptedOrders ?? []);
  const [markets, positions, venueOrders] = await Promise.all([ex.loadMarkets(), ex.fetchPositions(), ex.fetchOpenOrders()]);
  const openOrders = venueOrders.filter((o) => !accepted.has(orderKey(o)));
  const amountSteps = Object.fromEntries(Object.values(markets).map((m) => [m.symbol, m.amountStep]));
  const venue = { positions, openOrders };

  const firstExpected = await expectation(repos, trader.id, baseline);
  const first = reconcile(firstExpected, venue, { amountSteps });
  // Orders first: a lookup can turn an "open" record into a fill, which changes the expected positions.
  const adoptedOrders: ReconcileDifference[] = [];
  const adoptedIds = new Set<string>();
  for (const d of first.differences) {
    if (d.action !== 'adopt' || d.kind === 'position.mismatch') continue;
    const record = await repos.orders.get(d.clientOrderId);
    if (!record || record.traderId !== trader.id) continue;
    const found = await ex.fetchOrderByClientId(d.clientOrderId, d.symbol);
    if (found) await repos.orders.updateFromVenue(d.clientOrderId, found, at);
    else await repos.orders.markFailed(d.clientOrderId, 'not on the venue at reconciliation (resolved by lookup)', at);
    adoptedOrders.push(d);
    adoptedIds.add(d.clientOrderId);
  }
  const expected = adoptedOrders.length > 0 ? await expectation(repos, trader.id, baseline) : firstExpected;
  const report = reconcile(expected, venue, { amountSteps });
  const adoptedPositions = report.differences.filter((d) => d.action === 'adopt' && d.kind === 'position.mismatch');
  const flagged: ReconcileDifference[] = [];
  for (const d of report.differences) {
    if (d.action === 'flag') flagged.push(d);
    // A platform-style id that no order of this trader carries cannot be adopted: a human decides.
    else if (d.kind === 'order.unknown' && !adoptedIds.has(d.clientOrderId))
      flagged.push({ ...d, action: 'flag', message: d.message.replace(/; adopt it$/, '; no order of this trader has that id: an operator must decide') });
  }

  let stored: ReconcileBaseline | null = null;
  if (adoptedPositions.length > 0) {
    const next: Record<MarketSymbol, DecimalString> = { ...expected.positions };
    for (const d of adoptedPositions) if (d.kind === 'position.mismatch') next[d.symbol] = d.actual;
    for (const [s, v] of Object.entries(next)) if (dec(v).isZero()) delete next[s];
    stored = { at, positions: next, acceptedOrders: (baseline?.acceptedOrders ?? []).filter((k) => venueOrders.some((o) => orderKey(o) === k)) };
    await repos.settings.set(baselineKey(trader.id), stored);
  }

  const adopted = [...adoptedOrders, ...adoptedPositions];
  const base = { at, traderId: trader.id, managerId: trader.managerId ?? null, actor: 'reconcile' };
  const events: EventRecord[] = [
    ...adopted.map((d): EventRecord => ({ ...base, type: 'reconcile.adopted', severity: 'warning', message: d.message, data: dataOf(d) })),
    ...flagged.map((d): EventRecord => ({ ...base, type: 'reconcile.flagged', severity: 'critical', message: d.message, data: dataOf(d) })),
  ];
  const sends: { traderId: string; event: ReconcilePauseCommand }[] = [];
  const audit: ReconcileAuditEntry[] = [];
  if (flagged.length > 0) {
    const reason = `reconciliation: ${flagged.map((d) => d.message).join('; ')}`;
    sends.push({ traderId: trader.id, event: { type: 'trader.pause', by: 'reconcile', reason, scope: 'risk', at } });
    audit.push({
      actor: { userId: null, label: 'reconcile', ip: '' },
      action: 'reconcile.pause',
      target: { type: 'trader', id: trader.id },
      outcome: 'ok',
      message: `reconciliation paused ${trader.name ?? trader.id}: ${flagged.length} difference${flagged.length === 1 ? '' : 's'} an operator must decide`,
      before: null,
      after: { pause: 'risk', differences: flagged.map(dataOf) },
    });
  }
  return { report, adopted, flagged, baseline: stored, commands: { sends, events, audit } };
}

function dataOf(d: ReconcileDifference): Record<string, unknown> {
  switch (d.kind) {
    case 'position.mismatch':
      return { kind: d.kind, action: d.action, symbol: d.symbol, expected: d.expected, actual: d.actual };
    case 'order.unknown':
      return { kind: d.kind, action: d.action, symbol: d.symbol, clientOrderId: d.clientOrderId, orderId: d.orderId };
    case 'order.missing':
      return { kind: d.kind, action: d.action, symbol: d.symbol, clientOrderId: d.clientOrderId };
  }
}

/**
 * Takes the venue's current positions and foreign open orders as the trader's baseline: what an
 * operator does after deciding to keep a flagged difference (then resumes the trader).
 */
export async function acceptVenueState(
  ex: Exchange,
  repos: ReconcileRepos,
  traderId: TraderId,
  opts: { readonly at: number },
): Promise<ReconcileBaseline> {
  const [positions, venueOrders, live] = await Promise.all([
    ex.fetchPositions(),
    ex.fetchOpenOrders(),
    repos.orders.listForTrader(traderId, { statuses: ['open', 'pending'] }),
  ]);
  const ours = new Set(live.map((r) => r.clientOrderId));
  const next: Record<MarketSymbol, DecimalString> = {};
  for (const p of positions) next[p.symbol] = dec(next[p.symbol] ?? '0').plus(signedAmount(p)).toFixed();
  const baseline: ReconcileBaseline = {
    at: opts.at,
    positions: next,
    acceptedOrders: venueOrders.filter((o) => !ours.has(o.clientOrderId)).map(orderKey),
  };
  await repos.settings.set(baselineKey(traderId), baseline);
  return baseline;
}
