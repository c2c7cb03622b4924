/**
 * An in-memory `PlatformApi` for console tests: a few bots in two managers, three strategy
 * versions and a broken file, commands that change state and notify subscribers like the
 * runtime does. Test controls (`updateBot`, `emit`, `refuseNext`, …) sit beside the api.
 */
import { Decimal } from 'decimal.js';
import type {
  Actor,
  BotDetail,
  BotRow,
  CommandResult,
  HealthInfo,
  LiveChange,
  ManagerRow,
  PlatformApi,
  PlatformStatus,
  StrategiesView,
  StrategyVersionRow,
  UserCommandResult,
} from '../../runtime/api.ts';
import { USER_SUSPENDED_REASON } from '../../runtime/api.ts';
import type { PauseInfo, PauseScope, TraderId, TraderStatus } from '../../runtime/domain.ts';
import type { CycleRecord, EventRecord, OrderRecord, StrategyFileRecord } from '../../runtime/store/types.ts';

/** Fixed base time of the fixtures: 2026-11-21 12:00:00 UTC. */
export const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

const INITIAL_CAPITAL = '10000';

/** One recorded api call. */
export interface FakeCall {
  readonly method: string;
  readonly args: readonly unknown[];
}

/** The fake api plus the controls tests use. */
export interface FakeApi extends PlatformApi {
  readonly calls: FakeCall[];
  /** Replaces fields of a bot and notifies subscribers (as a runtime state change would). */
  updateBot(id: string, patch: Partial<Omit<BotRow, 'id'>>): BotRow;
  /** Sends a raw change to subscribers. */
  emit(change: LiveChange): void;
  /** How many listeners are subscribed. */
  subscriberCount(): number;
  /** Makes the next command refuse with this message. */
  refuseNext(error: string): void;
  /** Makes the next command throw this error. */
  throwNext(message: string): void;
  /** Sets the health status. */
  setHealth(patch: Partial<HealthInfo>): void;
  /** Adds bots (for volume tests); returns their ids. */
  addBots(count: number, managerId?: string): string[];
  /** Replaces the registry files (and notifies `strategies.changed`). */
  setFiles(files: StrategyFileRecord[]): void;
}

/** Options of the fake. */
export interface FakeApiOptions {
  readonly now?: () => number;
}

function bot(partial: Partial<BotRow> & Pick<BotRow, 'id' | 'name'>): BotRow {
  return {
    userId: 'u-17',
    userName: 'Ada',
    managerId: 'm-alpha',
    managerName: 'Alpha desk',
    strategy: 'momentum@2',
    status: 'running',
    stateDetail: 'running.idle',
    pause: null,
    error: null,
    escalated: false,
    portfolioValue: '10000.00',
    roe: 0,
    lastCycleAt: T0 - 60_000,
    ...partial,
  };
}

function initialBots(): BotRow[] {
  return [
    bot({ id: 't-0001', name: 'alpha-btc', portfolioValue: '10234.56', roe: 0.023456, stateDetail: 'running.computing' }),
    bot({
      id: 't-0002',
      name: 'alpha-eth',
      userId: 'u-42',
      userName: 'Grace',
      strategy: 'momentum@1',
      status: 'paused',
      stateDetail: 'paused',
      pause: { by: 'risk', reason: 'daily stop-loss hit (-5.0 %)', scope: 'risk', at: T0 - 3_600_000 },
      portfolioValue: '9500.00',
      roe: -0.05,
    }),
    bot({
      id: 't-0003',
      name: 'beta-eq',
      userId: 'u-51',
      userName: 'Linus',
      managerId: 'm-beta',
      managerName: 'Beta desk',
      strategy: 'equal-weight@1',
      status: 'error',
      stateDetail: 'error',
      error: { kind: 'strategy', message: 'strategy threw: TypeError: Cannot read properties of undefined (reading "close")', at: T0 - 120_000, retryable: false },
      escalated: true,
      portfolioValue: null,
      roe: null,
      lastCycleAt: null,
    }),
    bot({
      id: 't-0004',
      name: 'beta-sol',
      managerId: 'm-beta',
      managerName: 'Beta desk',
      status: 'starting',
      stateDetail: 'starting.reconciling',
      portfolioValue: null,
      roe: null,
      lastCycleAt: null,
    }),
  ];
}

function versions(): StrategyVersionRow[] {
  const schema = (props: Record<string, unknown>) => ({ type: 'object', properties: props, additionalProperties: false });
  return [
    {
      name: 'momentum',
      version: 1,
      hash: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4',
      filename: 'momentum.ts',
      createdAt: T0 - 7 * 86_400_000,
      traders: 1,
      meta: {
        description: 'Long the strongest, short the weakest over a lookback window.',
        defaults: { lookback: 20, topN: 2 },
        universe: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
        timeframe: '1h',
        lookback: 20,
        paramsSchema: schema({ lookback: { type: 'integer', minimum: 2 }, topN: { type: 'integer', minimum: 1 } }),
      },
    },
    {
      name: 'momentum',
      version: 2,
      hash: 'b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5',
      filename: 'momentum.ts',
      createdAt: T0 - 86_400_000,
      traders: 2,
      meta: {
        description: 'Momentum with volatility scaling.',
        defaults: { lookback: 30, topN: 2, volTarget: 0.2 },
        universe: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
        timeframe: '1h',
        lookback: 30,
        paramsSchema: schema({ lookback: { type: 'integer', minimum: 2 }, topN: { type: 'integer' }, volTarget: { type: 'number' } }),
      },
    },
    {
      name: 'equal-weight',
      version: 1,
      hash: 'c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6',
      filename: 'equal-weight.js',
      createdAt: T0 - 3 * 86_400_000,
      traders: 1,
      meta: {
        description: 'Equal weight across the universe, rebalanced on drift.',
        defaults: { threshold: 0.05 },
        universe: ['BTCUSDT', 'ETHUSDT'],
        timeframe: '4h',
        lookback: 1,
        paramsSchema: schema({ threshold: { type: 'number' } }),
      },
    },
  ];
}

function initialFiles(): StrategyFileRecord[] {
  return [
    { filename: 'momentum.ts', hash: 'b2c3d4e5f607', status: 'valid', name: 'momentum', version: 2, error: null, updatedAt: T0 - 86_400_000 },
    { filename: 'equal-weight.js', hash: 'c3d4e5f60718', status: 'valid', name: 'equal-weight', version: 1, error: null, updatedAt: T0 - 3 * 86_400_000 },
    {
      filename: 'half-done.ts',
      hash: 'deadbeef0001',
      status: 'broken',
      name: null,
      version: null,
      error: 'SyntaxError: Unexpected token (12:7)\n  export default defineStrategy({\n        ^',
      updatedAt: T0 - 600_000,
    },
  ];
}

function cyclesFor(b: BotRow): CycleRecord[] {
  const trader = b.id as TraderId;
  const at = T0 - 60_000;
  return [
    {
      cycleId: `${b.id}:${at}`,
      traderId: trader,
      strategyRef: b.strategy,
      params: { lookback: 30, topN: 2 },
      candleFrom: at - 30 * 3_600_000,
      candleTo: at,
      targets: { BTCUSDT: { weight: 0.5, stopLoss: 0.05 }, ETHUSDT: { weight: -0.25 } },
      plan: {
        equity: '10000',
        canceled: false,
        lines: [
          {
            order: { symbol: 'BTCUSDT', side: 'buy', kind: 'open', amount: '0.051', price: '97000.0', reduceOnly: false, stopLoss: '92100.0', takeProfit: null },
            risk: { allowed: true },
            outcome: { status: 'sent', clientOrderId: 'pT0001BTCbuy', order: { id: 'x1', status: 'closed', filled: '0.051', average: '97012.5', fee: '2.47', reason: null } },
          },
          {
            order: { symbol: 'ETHUSDT', side: 'sell', kind: 'open', amount: '0.70', price: '3500.1', reduceOnly: false, stopLoss: null, takeProfit: null },
            risk: { allowed: false, check: 'maxOrderNotional', reason: 'order notional 2450.10 exceeds the limit 2000' },
            outcome: { status: 'denied', check: 'maxOrderNotional', reason: 'order notional 2450.10 exceeds the limit 2000' },
          },
        ],
        skipped: [{ symbol: 'SOLUSDT', reason: 'notional 3.2 is under SOLUSDT\'s minimum 5' }],
      },
      status: 'completed',
      error: null,
      startedAt: at,
      finishedAt: at + 850,
    },
    {
      cycleId: `${b.id}:${at - 3_600_000}`,
      traderId: trader,
      strategyRef: b.strategy,
      params: { lookback: 30, topN: 2 },
      candleFrom: null,
      candleTo: null,
      targets: null,
      plan: null,
      status: 'failed',
      error: 'strategy timed out after 2000 ms',
      startedAt: at - 3_600_000,
      finishedAt: at - 3_600_000 + 2000,
    },
  ];
}

function ordersFor(b: BotRow): OrderRecord[] {
  const trader = b.id as TraderId;
  return [
    {
      traderId: trader,
      cycleId: `${b.id}:${T0 - 60_000}`,
      clientOrderId: 'c1t0001BTCbuy',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: '0.051',
      status: 'closed',
      exchangeOrderId: 'ex-1',
      filled: '0.051',
      average: '97012.5',
      fee: '1.9787',
      reason: null,
      createdAt: T0 - 59_500,
      updatedAt: T0 - 59_000,
    },
  ];
}

/** Creates the fake api with its default fixtures. */
export function createFakeApi(opts: FakeApiOptions = {}): FakeApi {
  const now = opts.now ?? (() => T0);
  const bots = new Map<string, BotRow>(initialBots().map((b) => [b.id, b]));
  const managers = new Map<string, { id: string; name: string; paused: PauseInfo | null }>([
    ['m-alpha', { id: 'm-alpha', name: 'Alpha desk', paused: null }],
    ['m-beta', { id: 'm-beta', name: 'Beta desk', paused: null }],
  ]);
  const listeners = new Set<(c: LiveChange) => void>();
  const calls: FakeCall[] = [];
  const events: EventRecord[] = [
    { id: 2, at: T0 - 120_000, type: 'trader.failed', severity: 'error', traderId: 't-0003', managerId: 'm-beta', actor: 'system', message: 'strategy threw: TypeError', data: { attempts: 3 } },
    { id: 1, at: T0 - 3_600_000, type: 'trader.paused', severity: 'warning', traderId: 't-0002', managerId: 'm-alpha', actor: 'risk', message: 'daily stop-loss hit (-5.0 %)' },
  ];
  let files = initialFiles();
  const strategyVersions = versions();
  let platformPause: PauseInfo | null = null;
  let nextRefusal: string | null = null;
  let nextThrow: string | null = null;
  let health: HealthInfo = {
    status: 'ok',
    uptimeMs: 3_723_000,
    database: 'pglite',
    databaseOk: true,
    traders: bots.size,
    tradingPaused: false,
    pool: { threads: 2, queued: 0, completed: 1234 },
    market: { lastCandleAt: T0 - 60_000, symbols: 3 },
    exchanges: [],
    now: T0,
  };
  let eventId = 3;
  /** What a bot was before a user suspension paused it. */
  const underneath = new Map<string, Pick<BotRow, 'status' | 'stateDetail' | 'pause'>>();

  const emit = (change: LiveChange) => {
    for (const l of [...listeners]) l(change);
  };

  const status = (): PlatformStatus => {
    const counts: Record<TraderStatus, number> = { starting: 0, running: 0, paused: 0, error: 0, stopped: 0 };
    let pv = new Decimal(0);
    let capital = new Decimal(0);
    let known = 0;
    for (const b of bots.values()) {
      counts[b.status] += 1;
      if (b.portfolioValue !== null) {
        pv = pv.plus(b.portfolioValue);
        capital = capital.plus(INITIAL_CAPITAL);
        known += 1;
      }
    }
    return {
      tradingPaused: platformPause !== null,
      pause: platformPause,
      counts,
      portfolioValue: known > 0 ? pv.toFixed(2) : null,
      roe: known > 0 ? pv.minus(capital).div(capital).toNumber() : null,
    };
  };

  const record = (method: string, ...args: unknown[]) => calls.push({ method, args });

  const log = (e: Omit<EventRecord, 'id' | 'at'>) => {
    events.unshift({ id: eventId++, at: now(), ...e });
  };

  const set = (id: string, patch: Partial<Omit<BotRow, 'id'>>): BotRow => {
    const current = bots.get(id);
    if (!current) throw new Error(`fake: unknown bot ${id}`);
    const next = { ...current, ...patch };
    bots.set(id, next);
    emit({ type: 'bot.changed', bot: next });
    return next;
  };

  /** Applies the one-shot refusal/throw controls. */
  const gate = (): CommandResult | null => {
    if (nextThrow !== null) {
      const m = nextThrow;
      nextThrow = null;
      throw new Error(m);
    }
    if (nextRefusal !== null) {
      const e = nextRefusal;
      nextRefusal = null;
      return { ok: false, error: e };
    }
    return null;
  };

  const pauseBots = (filter: (b: BotRow) => boolean, pause: PauseInfo) => {
    for (const b of [...bots.values()]) {
      if (filter(b) && (b.status === 'running' || b.status === 'starting')) set(b.id, { status: 'paused', stateDetail: 'paused', pause });
    }
  };
  const resumeBots = (filter: (b: BotRow) => boolean, scope: PauseScope) => {
    for (const b of [...bots.values()]) {
      if (filter(b) && b.status === 'paused' && b.pause?.scope === scope) set(b.id, { status: 'running', stateDetail: 'running.idle', pause: null });
    }
  };

  const api: FakeApi = {
    calls,
    async health() {
      record('health');
      return { ...health, traders: bots.size, tradingPaused: platformPause !== null };
    },
    platformStatus: status,
    getBot(id: string) {
      const b = bots.get(id);
      return b ? { ...b } : null;
    },
    listBots() {
      return [...bots.values()];
    },
    listManagers(): ManagerRow[] {
      return [...managers.values()].map((m) => {
        const mine = [...bots.values()].filter((b) => b.managerId === m.id);
        const valued = mine.filter((b) => b.portfolioValue !== null);
        const pv = valued.reduce((s, b) => s.plus(b.portfolioValue!), new Decimal(0));
        const cap = new Decimal(INITIAL_CAPITAL).times(valued.length);
        return {
          id: m.id,
          name: m.name,
          paused: m.paused,
          traderCount: mine.length,
          portfolioValue: valued.length ? pv.toFixed(2) : null,
          roe: valued.length ? pv.minus(cap).div(cap).toNumber() : null,
        };
      });
    },
    async botDetail(id): Promise<BotDetail | null> {
      record('botDetail', id);
      const b = bots.get(id);
      if (!b) return null;
      return {
        bot: b,
        params: { lookback: 30, topN: 2 },
        cycles: cyclesFor(b),
        orders: ordersFor(b),
        events: events.filter((e) => e.traderId === id),
        positions: [
          {
            symbol: 'BTCUSDT',
            side: 'long',
            amount: '0.051',
            entryPrice: '97012.5',
            markPrice: '97250.0',
            unrealizedPnl: '12.11',
            liquidationPrice: null,
            stopLoss: '92100.0',
            takeProfit: null,
          },
        ],
      };
    },
    async pauseBot(id, who: Actor) {
      record('pauseBot', id, who);
      const g = gate();
      if (g) return g;
      const b = bots.get(id);
      if (!b) return { ok: false, error: `unknown trader ${id}` };
      if (b.status === 'paused') return { ok: false, error: `${b.name} is already paused` };
      if (b.status !== 'running' && b.status !== 'starting') return { ok: false, error: `${b.name} is ${b.status}: restart it instead` };
      set(id, { status: 'paused', stateDetail: 'paused', pause: { by: who.by, reason: who.reason ?? '', scope: 'trader', at: now() } });
      log({ type: 'trader.paused', severity: 'info', traderId: id, managerId: b.managerId, actor: who.by, message: who.reason ?? 'paused' });
      emit({ type: 'platform.changed', status: status() });
      return { ok: true, message: `${b.name} paused` };
    },
    async resumeBot(id, who) {
      record('resumeBot', id, who);
      const g = gate();
      if (g) return g;
      const b = bots.get(id);
      if (!b) return { ok: false, error: `unknown trader ${id}` };
      if (b.status !== 'paused') return { ok: false, error: `${b.name} is not paused` };
      if (platformPause) return { ok: false, error: `trading is paused platform-wide by ${platformPause.by}` };
      set(id, { status: 'running', stateDetail: 'running.idle', pause: null });
      log({ type: 'trader.resumed', severity: 'info', traderId: id, managerId: b.managerId, actor: who.by, message: 'resumed' });
      emit({ type: 'platform.changed', status: status() });
      return { ok: true, message: `${b.name} resumed` };
    },
    async restartBot(id, who) {
      record('restartBot', id, who);
      const g = gate();
      if (g) return g;
      const b = bots.get(id);
      if (!b) return { ok: false, error: `unknown trader ${id}` };
      set(id, { status: 'starting', stateDetail: 'starting.reconciling', error: null, escalated: false, pause: null });
      log({ type: 'trader.restarted', severity: 'info', traderId: id, managerId: b.managerId, actor: who.by, message: 'restarted by operator' });
      emit({ type: 'platform.changed', status: status() });
      return { ok: true, message: `${b.name} restarting` };
    },
    async pauseManager(id, who) {
      record('pauseManager', id, who);
      const g = gate();
      if (g) return g;
      const m = managers.get(id);
      if (!m) return { ok: false, error: `unknown manager ${id}` };
      if (m.paused) return { ok: false, error: `${m.name} is already paused` };
      m.paused = { by: who.by, reason: who.reason ?? '', scope: 'manager', at: now() };
      pauseBots((b) => b.managerId === id, m.paused);
      emit({ type: 'platform.changed', status: status() });
      return { ok: true, message: `${m.name} paused` };
    },
    async resumeManager(id, who) {
      record('resumeManager', id, who);
      const g = gate();
      if (g) return g;
      const m = managers.get(id);
      if (!m) return { ok: false, error: `unknown manager ${id}` };
      if (!m.paused) return { ok: false, error: `${m.name} is not paused` };
      m.paused = null;
      resumeBots((b) => b.managerId === id, 'manager');
      emit({ type: 'platform.changed', status: status() });
      return { ok: true, message: `${m.name} resumed` };
    },
    async pauseUser(userId, who): Promise<UserCommandResult> {
      record('pauseUser', userId, who);
      const g = gate();
      if (g) return g.ok ? { ...g, bots: { changed: [], skipped: [] } } : g;
      const changed: string[] = [];
      const skipped: { id: string; why: string }[] = [];
      for (const b of [...bots.values()].filter((x) => x.userId === userId)) {
        if (b.status === 'stopped') skipped.push({ id: b.id, why: `${b.name} is stopped` });
        else if (b.pause?.scope === 'trader') skipped.push({ id: b.id, why: `${b.name} is already paused by ${b.pause.by}: ${b.pause.reason}` });
        else {
          underneath.set(b.id, { status: b.status, stateDetail: b.stateDetail, pause: b.pause });
          set(b.id, { status: b.status === 'error' ? 'error' : 'paused', stateDetail: b.status === 'error' ? 'error' : 'paused', pause: { by: who.by, reason: USER_SUSPENDED_REASON, scope: 'trader', at: now() } });
          changed.push(b.id);
        }
      }
      emit({ type: 'platform.changed', status: status() });
      return { ok: true, message: `${changed.length} bots paused`, bots: { changed, skipped } };
    },
    async resumeUser(userId, who): Promise<UserCommandResult> {
      record('resumeUser', userId, who);
      const g = gate();
      if (g) return g.ok ? { ...g, bots: { changed: [], skipped: [] } } : g;
      const changed: string[] = [];
      const skipped: { id: string; why: string }[] = [];
      for (const b of [...bots.values()].filter((x) => x.userId === userId)) {
        if (b.pause?.scope !== 'trader' || b.pause.reason !== USER_SUSPENDED_REASON) continue;
        const prior = underneath.get(b.id);
        underneath.delete(b.id);
        const back = prior && prior.status !== 'running' && prior.status !== 'starting' ? prior : { status: 'running' as const, stateDetail: 'running.idle', pause: null };
        set(b.id, back);
        changed.push(b.id);
        if (back.pause) skipped.push({ id: b.id, why: `${b.name} stays paused by ${back.pause.by} (${back.pause.scope})` });
      }
      emit({ type: 'platform.changed', status: status() });
      return { ok: true, message: `${changed.length} bots resumed`, bots: { changed, skipped } };
    },
    async pauseAll(who) {
      record('pauseAll', who);
      const g = gate();
      if (g) return g;
      if (platformPause) return { ok: false, error: `trading is already paused by ${platformPause.by}` };
      platformPause = { by: who.by, reason: who.reason ?? '', scope: 'all', at: now() };
      pauseBots(() => true, platformPause);
      log({ type: 'platform.paused', severity: 'critical', actor: who.by, message: who.reason ?? 'paused' });
      emit({ type: 'platform.changed', status: status() });
      return { ok: true, message: 'all trading paused' };
    },
    async resumeAll(who) {
      record('resumeAll', who);
      const g = gate();
      if (g) return g;
      if (!platformPause) return { ok: false, error: 'trading is not paused' };
      platformPause = null;
      resumeBots(() => true, 'all');
      log({ type: 'platform.resumed', severity: 'warning', actor: who.by, message: who.reason ?? 'resumed' });
      emit({ type: 'platform.changed', status: status() });
      return { ok: true, message: 'trading resumed' };
    },
    async strategies(): Promise<StrategiesView> {
      record('strategies');
      return { versions: strategyVersions, files };
    },
    async assignStrategy(traderId, ref, params, who) {
      record('assignStrategy', traderId, ref, params, who);
      const g = gate();
      if (g) return g;
      const b = bots.get(traderId);
      if (!b) return { ok: false, error: `unknown trader ${traderId}` };
      const v = strategyVersions.find((s) => s.name === ref.name && s.version === ref.version);
      if (!v) return { ok: false, error: `unknown strategy version ${ref.name}@${ref.version}` };
      if (params) {
        const allowed = Object.keys(v.meta.defaults);
        const extra = Object.keys(params).filter((k) => !allowed.includes(k));
        if (extra.length > 0) return { ok: false, error: `params: unrecognized key(s) ${extra.join(', ')} for ${ref.name}@${ref.version}` };
      }
      set(traderId, { strategy: `${ref.name}@${ref.version}` });
      log({ type: 'trader.strategy_assigned', severity: 'info', traderId, managerId: b.managerId, actor: who.by, message: `pinned to ${ref.name}@${ref.version}` });
      return { ok: true, message: `${b.name} now runs ${ref.name}@${ref.version}` };
    },
    async resolveReconciliation(traderId, decision, who) {
      record('resolveReconciliation', traderId, decision, who);
      const b = bots.get(traderId);
      if (!b) return { ok: false, error: `no bot with id ${traderId}` };
      if (b.status !== 'paused' || b.pause?.scope !== 'risk' || b.pause.by !== 'reconcile') return { ok: false, error: `${b.name} is not paused by reconciliation` };
      set(traderId, { status: 'running', stateDetail: 'running.idle', pause: null });
      return { ok: true, message: `${b.name}: ${decision === 'accept' ? 'venue state accepted' : 'venue matches'}, reconciliation pause lifted` };
    },
    async createBot(input, who) {
      record('createBot', input, who);
      const g = gate();
      if (g && !g.ok) return { ok: false, code: 'conflict', error: g.error };
      const v = strategyVersions.find((s) => s.name === input.strategy.name && s.version === input.strategy.version);
      if (!v) return { ok: false, code: 'not_found', error: `unknown strategy version ${input.strategy.name}@${input.strategy.version}` };
      if ([...bots.values()].some((b) => b.userId === input.userId && b.name === input.name))
        return { ok: false, code: 'conflict', error: `the user already has a bot named "${input.name}"` };
      const m = managers.get(input.managerId);
      if (!m) return { ok: false, code: 'not_found', error: `unknown manager ${input.managerId}` };
      const id = `t-new-${bots.size + 1}`;
      const userName = [...bots.values()].find((x) => x.userId === input.userId)?.userName ?? input.userId;
      const b = bot({
        id,
        name: input.name,
        userId: input.userId,
        userName,
        managerId: m.id,
        managerName: m.name,
        strategy: `${v.name}@${v.version}`,
        portfolioValue: input.initialCapital,
        roe: 0,
        lastCycleAt: null,
      });
      bots.set(id, input.startPaused ? { ...b, status: 'paused', stateDetail: 'paused', pause: { by: who.by, reason: 'created paused', scope: 'trader', at: T0 } } : b);
      log({ type: 'trader.created', severity: 'info', traderId: id, managerId: input.managerId, actor: who.by, message: `${input.name} created` });
      return { ok: true, message: `${input.name} created`, botId: id };
    },
    async recentEvents(limit) {
      record('recentEvents', limit);
      return events.slice(0, limit);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    updateBot: set,
    emit,
    subscriberCount: () => listeners.size,
    refuseNext(error) {
      nextRefusal = error;
    },
    throwNext(message) {
      nextThrow = message;
    },
    setHealth(patch) {
      health = { ...health, ...patch };
    },
    addBots(count, managerId = 'm-alpha') {
      const m = managers.get(managerId);
      const ids: string[] = [];
      const start = bots.size + 1;
      for (let i = 0; i < count; i++) {
        const id = `t-${String(start + i).padStart(4, '0')}`;
        bots.set(id, bot({ id, name: `bulk-${start + i}`, managerId, managerName: m?.name ?? managerId }));
        ids.push(id);
      }
      return ids;
    },
    setFiles(next) {
      files = next;
      emit({ type: 'strategies.changed' });
    },
  };
  return api;
}
