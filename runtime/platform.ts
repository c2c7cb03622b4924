/**
 * The platform's command and query layer over the live actor tree and the store. Every command
 * is validated, sent to the actors, made durable (state and event rows written) and then
 * answered, so an acknowledged pause survives a crash.
 */
import type { AnyActorRef } from 'xstate';
import type { AuditSink } from './accounts/index.ts';
import type {
  Actor,
  BotDetail,
  BotRow,
  CommandResult,
  CreateBotResult,
  ExchangeStats,
  HealthInfo,
  LiveChange,
  ManagerRow,
  NewBotInput,
  PlatformApi,
  PlatformStatus,
  StrategiesView,
  UserCommandResult,
} from './api.ts';
import { MAX_RECENT_EVENTS, USER_SUSPENDED_REASON } from './api.ts';
import type { Clock } from './clock.ts';
import { errorMessage, Ids, type PauseInfo, type PauseScope, type TraderStatus } from './domain.ts';
import type { EventBus } from './events/index.ts';
import type { OrderGate, Position } from './exchange/index.ts';
import type { MetricsCollector } from './metrics/index.ts';
import type { PauseSet } from '../actors/index.ts';
import type { TraderView } from './node.ts';
import type { ManagerRecord, Store, TraderRecord } from './store/types.ts';
import type { Registry, StrategyPool } from './strategy/index.ts';

/** What the API needs from the node. */
export interface PlatformDeps {
  readonly clock: Clock;
  readonly store: Store;
  readonly bus: EventBus;
  readonly gate: OrderGate;
  readonly registry: Registry;
  readonly pool: StrategyPool;
  readonly views: ReadonlyMap<string, TraderView>;
  readonly managers: readonly ManagerRecord[];
  managerRef(id: string): AnyActorRef | undefined;
  readonly supervisor: AnyActorRef;
  readonly startedAt: number;
  readonly databaseKind: 'pglite' | 'postgres';
  lastCandleAt(): number | null;
  readonly symbols: number;
  /** Writes pending actor states and events. */
  durable(): Promise<void>;
  /** Runs a version once for a trader with the given params; used to refuse a bad assignment. */
  dryRun(
    traderId: string,
    ref: { name: string; version: number },
    params: Record<string, unknown>,
  ): Promise<{ ok: true } | { ok: false; error: string }>;
  onAssigned(t: TraderRecord): void;
  /** Open positions of a trader's account. */
  positions(traderId: string): Promise<readonly Position[]>;
  /** Where every command is recorded with who, from where, and the state before and after. */
  readonly audit?: AuditSink;
  /** Creates a bot (the node stores it and spawns its trader); absent: refused. */
  createBot?(input: NewBotInput, who: Actor): Promise<CreateBotResult>;
  /** Accepts or re-checks a reconciliation difference and resumes the bot (the node's live accounts). */
  resolveReconciliation?(traderId: string, decision: 'accept' | 'recheck', who: { by: string; reason: string }): Promise<CommandResult>;
  /** Request counters of the live venues in use. */
  exchanges?(): readonly ExchangeStats[];
}

const MAX_REASON = 500;

/** The API plus two hooks the node uses while wiring. */
export interface PlatformApiImpl extends PlatformApi {
  botRow(id: string): BotRow | null;
  attachMetrics(m: MetricsCollector): void;
}

/** Creates the platform API over a node's live state. */
export function createPlatformApi(deps: PlatformDeps): PlatformApiImpl {
  let metrics: MetricsCollector | null = null;
  // Uptime is a fact about the process, so it is measured on the wall clock, not market time.
  const startedWall = Date.now();
  const users = new Map<string, string>();
  const refreshUsers = async () => {
    for (const u of await deps.store.users.list()) users.set(u.id, u.displayName);
  };
  void refreshUsers();
  const managerName = new Map(deps.managers.map((m) => [m.id as string, m.name]));

  const metricOf = (scope: 'trader' | 'manager' | 'platform', id: string) => metrics?.latest(scope, id) ?? null;

  const botRow = (id: string): BotRow | null => {
    const v = deps.views.get(id);
    if (!v) return null;
    const t = v.record;
    const m = metricOf('trader', t.id);
    const escalated = Boolean(
      (deps.managerRef(t.managerId)?.getSnapshot().context as { escalated?: Record<string, boolean> } | undefined)?.escalated?.[t.id],
    );
    return {
      id: t.id,
      name: t.name,
      userId: t.userId,
      userName: users.get(t.userId) ?? t.userId,
      managerId: t.managerId,
      managerName: managerName.get(t.managerId) ?? t.managerId,
      strategy: `${t.strategyName}@${t.strategyVersion}`,
      status: v.status,
      stateDetail: v.detail,
      pause: v.pause,
      error: v.error,
      escalated,
      portfolioValue: m?.pv ?? null,
      roe: m?.roe ?? null,
      lastCycleAt: v.lastCycleAt,
    };
  };

  const who = (a: Actor, fallbackReason: string): { by: string; reason: string } | string => {
    const by = (a.by ?? '').trim();
    if (!by) return 'who is asking must be given';
    if (by.length > 100) return 'the name is longer than 100 characters';
    const reason = (a.reason ?? '').trim() || fallbackReason;
    if (reason.length > MAX_REASON) return `the reason is longer than ${MAX_REASON} characters`;
    return { by, reason };
  };

  const audit = (type: string, by: string, message: string, data: Record<string, unknown>, traderId?: string, managerId?: string) => {
    const e = {
      at: deps.clock.now(),
      type,
      severity: 'info' as const,
      actor: by,
      message,
      data,
      traderId: traderId ?? null,
      managerId: managerId ?? null,
    };
    deps.bus.publish({ kind: 'event', event: e });
    return e;
  };

  /**
   * Every pause a trader holds, from its actor (the view's copy is refreshed only when the pause
   * shown changes, so it can miss a group pause added under a trader pause).
   */
  const pausesOf = (v: TraderView): PauseSet => (v.ref.getSnapshot() as { context?: { pauses?: PauseSet } } | undefined)?.context?.pauses ?? v.pauses;

  const ok = (message: string): CommandResult => ({ ok: true, message });
  const fail = (error: string): CommandResult => ({ ok: false, error });

  const countStatuses = (): Record<TraderStatus, number> => {
    const counts: Record<TraderStatus, number> = { starting: 0, running: 0, paused: 0, error: 0, stopped: 0 };
    for (const v of deps.views.values()) counts[v.status]++;
    return counts;
  };

  const platformStatus = (): PlatformStatus => {
    const pause = (deps.supervisor.getSnapshot().context as { pause: PauseInfo | null }).pause ?? null;
    const m = metricOf('platform', 'platform');
    return {
      tradingPaused: pause !== null || !deps.gate.isOpen(),
      pause,
      counts: countStatuses(),
      portfolioValue: m?.pv ?? null,
      roe: m?.roe ?? null,
    };
  };

  /** Sends a command and waits until the actor state it produces is stored. */
  const settleCommand = async (eventType: string, by: string, message: string, data: Record<string, unknown>, traderId?: string, managerId?: string) => {
    const e = audit(eventType, by, message, data, traderId, managerId);
    await deps.store.events.appendMany([e]);
    await deps.durable();
  };

  const api: PlatformApiImpl = {
    botRow,
    attachMetrics(m) {
      metrics = m;
    },

    async health(): Promise<HealthInfo> {
      let databaseOk = true;
      try {
        await deps.store.settings.get('health');
      } catch {
        databaseOk = false;
      }
      const ps = deps.pool.stats();
      return {
        status: databaseOk ? 'ok' : 'degraded',
        uptimeMs: Date.now() - startedWall,
        database: deps.databaseKind,
        databaseOk,
        traders: deps.views.size,
        tradingPaused: platformStatus().tradingPaused,
        pool: { threads: ps.threads, queued: ps.queued, completed: ps.completed },
        market: { lastCandleAt: deps.lastCandleAt(), symbols: deps.symbols },
        exchanges: deps.exchanges?.() ?? [],
        now: deps.clock.now(),
      };
    },

    platformStatus,
    getBot: botRow,

    listBots() {
      const rows: BotRow[] = [];
      for (const id of deps.views.keys()) {
        const r = botRow(id);
        if (r) rows.push(r);
      }
      return rows;
    },

    listManagers(): ManagerRow[] {
      return deps.managers.map((m) => {
        const ctx = deps.managerRef(m.id)?.getSnapshot().context as { pause?: PauseInfo | null } | undefined;
        const mm = metricOf('manager', m.id);
        let n = 0;
        for (const v of deps.views.values()) if (v.record.managerId === m.id) n++;
        return { id: m.id, name: m.name, paused: ctx?.pause ?? null, traderCount: n, portfolioValue: mm?.pv ?? null, roe: mm?.roe ?? null };
      });
    },

    async botDetail(id): Promise<BotDetail | null> {
      const bot = botRow(id);
      const v = deps.views.get(id);
      if (!bot || !v) return null;
      const tid = Ids.trader(id);
      const [cycles, orders, events, positions] = await Promise.all([
        deps.store.cycles.recentForTrader(tid, 20),
        deps.store.orders.recentForTrader(tid, 50),
        deps.store.events.recent({ limit: 50, traderId: id }),
        deps.positions(id).catch(() => []),
      ]);
      return {
        bot,
        params: v.record.params,
        cycles,
        orders,
        events,
        positions: positions.map((p) => ({
          symbol: p.symbol,
          side: p.side,
          amount: p.amount,
          entryPrice: p.entryPrice,
          markPrice: p.markPrice,
          unrealizedPnl: p.unrealizedPnl,
          liquidationPrice: p.liquidationPrice,
          stopLoss: p.stopLoss,
          takeProfit: p.takeProfit,
        })),
      };
    },

    async pauseBot(id, a) {
      const v = deps.views.get(id);
      if (!v) return fail(`no bot with id ${id}`);
      const w = who(a, 'paused from the console');
      if (typeof w === 'string') return fail(w);
      if (v.status === 'paused') return fail(`${v.record.name} is already paused`);
      if (v.status !== 'running' && v.status !== 'starting') return fail(`${v.record.name} is ${v.status}; only a running bot can be paused`);
      // The gate first: an order in flight is refused even before the actor leaves its cycle.
      deps.gate.blockTrader(id);
      v.ref.send({ type: 'trader.pause', by: w.by, reason: w.reason, scope: 'trader', at: deps.clock.now() });
      await settleCommand('command.pause', w.by, `${w.by} paused ${v.record.name}: ${w.reason}`, { reason: w.reason }, id, v.record.managerId);
      return ok(`${v.record.name} paused`);
    },

    async resumeBot(id, a) {
      const v = deps.views.get(id);
      if (!v) return fail(`no bot with id ${id}`);
      const w = who(a, 'resumed from the console');
      if (typeof w === 'string') return fail(w);
      if (v.status !== 'paused') return fail(`${v.record.name} is ${v.status}, not paused`);
      if (platformStatus().tradingPaused) return fail('trading is paused for the whole platform: Resume All first');
      const group = deps.managerRef(v.record.managerId)?.getSnapshot().context as { pause?: PauseInfo | null } | undefined;
      if (group?.pause) {
        return fail(`${managerName.get(v.record.managerId) ?? v.record.managerId} is paused (${group.pause.by}: ${group.pause.reason}): resume the group first`);
      }
      v.ref.send({ type: 'trader.resume', by: w.by, scope: 'trader', at: deps.clock.now() });
      await settleCommand('command.resume', w.by, `${w.by} resumed ${v.record.name}`, {}, id, v.record.managerId);
      const after = deps.views.get(id);
      if (after?.status === 'paused') return fail(`${v.record.name} stays paused (${after.pause?.scope ?? 'unknown'} pause)`);
      return ok(`${v.record.name} resumed`);
    },

    async restartBot(id, a) {
      const v = deps.views.get(id);
      if (!v) return fail(`no bot with id ${id}`);
      const w = who(a, 'restarted from the console');
      if (typeof w === 'string') return fail(w);
      if (v.status === 'stopped') return fail(`${v.record.name} is stopped`);
      if (v.status === 'starting') return fail(`${v.record.name} is already starting`);
      const mref = deps.managerRef(v.record.managerId);
      if (!mref) return fail(`manager ${v.record.managerId} is not running`);
      mref.send({ type: 'manager.restartTrader', traderId: id, by: w.by });
      await settleCommand('command.restart', w.by, `${w.by} restarted ${v.record.name}`, {}, id, v.record.managerId);
      return ok(`${v.record.name} restarting`);
    },

    async pauseManager(id, a) {
      const mref = deps.managerRef(id);
      if (!mref) return fail(`no manager with id ${id}`);
      const w = who(a, 'group paused from the console');
      if (typeof w === 'string') return fail(w);
      deps.gate.blockManager(id);
      mref.send({ type: 'manager.pause', by: w.by, reason: w.reason, at: deps.clock.now() });
      await settleCommand('command.pause_group', w.by, `${w.by} paused ${managerName.get(id) ?? id}: ${w.reason}`, { reason: w.reason }, undefined, id);
      return ok(`${managerName.get(id) ?? id} paused`);
    },

    async resumeManager(id, a) {
      const mref = deps.managerRef(id);
      if (!mref) return fail(`no manager with id ${id}`);
      const w = who(a, 'group resumed from the console');
      if (typeof w === 'string') return fail(w);
      if (platformStatus().tradingPaused) return fail('trading is paused for the whole platform: Resume All first');
      mref.send({ type: 'manager.resume', by: w.by, at: deps.clock.now() });
      await settleCommand('command.resume_group', w.by, `${w.by} resumed ${managerName.get(id) ?? id}`, {}, undefined, id);
      return ok(`${managerName.get(id) ?? id} resumed`);
    },

    async pauseUser(userId, a): Promise<UserCommandResult> {
      const w = who(a, USER_SUSPENDED_REASON);
      if (typeof w === 'string') return { ok: false, error: w };
      const mine = [...deps.views.values()].filter((v) => v.record.userId === userId);
      const changed: string[] = [];
      const skipped: { id: string; why: string }[] = [];
      const at = deps.clock.now();
      for (const v of mine) {
        const id = v.record.id as string;
        const held = pausesOf(v).trader;
        if (v.status === 'stopped') skipped.push({ id, why: `${v.record.name} is stopped` });
        else if (held) skipped.push({ id, why: `${v.record.name} is already paused by ${held.by}: ${held.reason}` });
        else {
          // The gate first, as for a bot's Pause: an order in flight is refused at once.
          deps.gate.blockTrader(id);
          v.ref.send({ type: 'trader.pause', by: w.by, reason: USER_SUSPENDED_REASON, scope: 'trader', at });
          changed.push(id);
        }
      }
      const name = users.get(userId) ?? userId;
      await settleCommand(
        'command.pause_user',
        w.by,
        `${w.by} paused ${changed.length} bot${changed.length === 1 ? '' : 's'} of ${name}: ${w.reason}`,
        { userId, reason: w.reason, paused: changed, skipped },
      );
      return { ok: true, message: `${changed.length} bot${changed.length === 1 ? '' : 's'} of ${name} paused`, bots: { changed, skipped } };
    },

    async resumeUser(userId, a): Promise<UserCommandResult> {
      const w = who(a, 'user reinstated');
      if (typeof w === 'string') return { ok: false, error: w };
      const mine = [...deps.views.values()].filter((v) => v.record.userId === userId);
      const changed: string[] = [];
      const skipped: { id: string; why: string }[] = [];
      const at = deps.clock.now();
      for (const v of mine) {
        const id = v.record.id as string;
        const pauses = pausesOf(v);
        const held = pauses.trader;
        if (!held || held.reason !== USER_SUSPENDED_REASON) {
          if (held) skipped.push({ id, why: `${v.record.name} stays paused by ${held.by}: ${held.reason}` });
          continue;
        }
        // A resume at scope `trader` lifts every pause: the ones the suspension did not put go
        // back at once, in the same synchronous turn, so no cycle or order starts in between.
        const others = (['risk', 'manager', 'all'] as const satisfies readonly PauseScope[])
          .map((scope) => pauses[scope])
          .filter((p): p is PauseInfo => p !== undefined);
        v.ref.send({ type: 'trader.resume', by: w.by, scope: 'trader', at });
        for (const p of others) v.ref.send({ type: 'trader.pause', by: p.by, reason: p.reason, scope: p.scope, at: p.at });
        changed.push(id);
        if (others.length > 0) skipped.push({ id, why: `${v.record.name} stays paused by ${others.map((p) => `${p.by} (${p.scope})`).join(', ')}` });
      }
      const name = users.get(userId) ?? userId;
      await settleCommand(
        'command.resume_user',
        w.by,
        `${w.by} lifted the suspension pause of ${changed.length} bot${changed.length === 1 ? '' : 's'} of ${name}`,
        { userId, reason: w.reason, resumed: changed, skipped },
      );
      return { ok: true, message: `${changed.length} bot${changed.length === 1 ? '' : 's'} of ${name} no longer paused by the suspension`, bots: { changed, skipped } };
    },

    async pauseAll(a) {
      const w = who(a, '');
      if (typeof w === 'string') return fail(w);
      if (!w.reason) return fail('a reason is required to pause all trading');
      if (platformStatus().tradingPaused) return fail('trading is already paused');
      deps.supervisor.send({ type: 'supervisor.pauseAll', by: w.by, reason: w.reason, at: deps.clock.now() });
      await settleCommand('command.pause_all', w.by, `${w.by} paused ALL trading: ${w.reason}`, { reason: w.reason });
      return ok('all trading paused');
    },

    async resumeAll(a) {
      const w = who(a, 'resumed from the console');
      if (typeof w === 'string') return fail(w);
      if (!platformStatus().tradingPaused) return fail('trading is not paused');
      deps.supervisor.send({ type: 'supervisor.resumeAll', by: w.by, at: deps.clock.now() });
      await settleCommand('command.resume_all', w.by, `${w.by} resumed all trading`, {});
      return ok('all trading resumed');
    },

    async strategies(): Promise<StrategiesView> {
      const pinned = new Map<string, number>();
      for (const v of deps.views.values()) {
        const k = `${v.record.strategyName}@${v.record.strategyVersion}`;
        pinned.set(k, (pinned.get(k) ?? 0) + 1);
      }
      return {
        versions: deps.registry
          .versions()
          .map((v) => ({
            name: v.name,
            version: v.version,
            hash: v.hash,
            filename: v.filename,
            createdAt: v.createdAt,
            meta: v.meta,
            traders: pinned.get(`${v.name}@${v.version}`) ?? 0,
          }))
          .sort((x, y) => x.name.localeCompare(y.name) || y.version - x.version),
        files: [...deps.registry.files()].sort((x, y) => x.filename.localeCompare(y.filename)),
      };
    },

    async assignStrategy(traderId, ref, params, a) {
      const v = deps.views.get(traderId);
      if (!v) return fail(`no bot with id ${traderId}`);
      const w = who(a, 'strategy assigned from the console');
      if (typeof w === 'string') return fail(w);
      const version = deps.registry.get(ref.name, ref.version);
      if (!version) return fail(`strategy ${ref.name}@${ref.version} is not registered`);
      const merged = { ...version.meta.defaults, ...(params ?? {}) };
      let check: { ok: true } | { ok: false; error: string };
      try {
        check = await deps.dryRun(traderId, ref, merged);
      } catch (err) {
        check = { ok: false, error: errorMessage(err) };
      }
      if (!check.ok) return fail(`${ref.name}@${ref.version} refused these params: ${check.error}`);
      const before = `${v.record.strategyName}@${v.record.strategyVersion}`;
      await deps.store.traders.assignStrategy(Ids.trader(traderId), ref.name, ref.version, merged, deps.clock.now());
      const updated = await deps.store.traders.get(Ids.trader(traderId));
      if (updated) deps.onAssigned(updated);
      // Reload so the next cycle runs the new version; a paused bot reloads and stays paused.
      if (v.status !== 'stopped') {
        deps.managerRef(v.record.managerId)?.send({ type: 'manager.restartTrader', traderId, by: w.by });
      }
      await settleCommand(
        'command.assign_strategy',
        w.by,
        `${w.by} assigned ${ref.name}@${ref.version} to ${v.record.name} (was ${before})`,
        { before, after: `${ref.name}@${ref.version}`, params: merged },
        traderId,
        v.record.managerId,
      );
      return ok(`${v.record.name} now runs ${ref.name}@${ref.version}`);
    },

    async createBot(input, w) {
      if (!deps.createBot) return { ok: false, code: 'invalid', error: 'this node cannot create bots' };
      return deps.createBot(input, w);
    },

    async resolveReconciliation(traderId, decision, a) {
      const v = deps.views.get(traderId);
      if (!v) return fail(`no bot with id ${traderId}`);
      if (decision !== 'accept' && decision !== 'recheck') return fail('the decision must be accept or recheck');
      const w = who(a, decision === 'accept' ? 'venue state accepted' : 'venue corrected, re-checked');
      if (typeof w === 'string') return fail(w);
      const held = (v.pauses as PauseSet).risk;
      if (v.status !== 'paused' || held?.by !== 'reconcile') return fail(`${v.record.name} is not paused by reconciliation`);
      if (!deps.resolveReconciliation) return fail('this node has no live accounts');
      const r = await deps.resolveReconciliation(traderId, decision, w);
      if (!r.ok) return r;
      await settleCommand(
        decision === 'accept' ? 'command.reconcile_accept' : 'command.reconcile_recheck',
        w.by,
        `${w.by} ${decision === 'accept' ? 'accepted the venue state of' : 're-checked'} ${v.record.name}: ${w.reason}`,
        {},
        traderId,
        v.record.managerId,
      );
      const after = deps.views.get(traderId);
      if (after?.status === 'paused') return ok(`${r.message}; ${v.record.name} stays paused (${after.pause?.scope ?? 'unknown'} pause)`);
      return r;
    },

    recentEvents(limit) {
      return deps.store.events.recent({ limit: Math.max(1, Math.min(MAX_RECENT_EVENTS, Math.trunc(limit) || 1)) });
    },

    subscribe(listener: (c: LiveChange) => void) {
      return deps.bus.subscribe((msg) => {
        if (msg.kind === 'live') listener(msg.change);
      });
    },
  };
  return deps.audit ? withAudit(api, deps, deps.audit) : api;
}

/** What the audit log records of a trader, a group or the platform before and after a command. */
function auditSnapshots(api: PlatformApiImpl, deps: PlatformDeps) {
  return {
    trader: (id: string) => {
      const b = api.botRow(id);
      return b ? { status: b.status, pause: b.pause, strategy: b.strategy, params: deps.views.get(id)?.record.params ?? null } : null;
    },
    manager: (id: string) => {
      const m = api.listManagers().find((x) => x.id === id);
      return m ? { paused: m.paused } : null;
    },
    platform: () => {
      const p = api.platformStatus();
      return { tradingPaused: p.tradingPaused, pause: p.pause };
    },
    user: (id: string) => ({
      bots: [...deps.views.values()]
        .filter((v) => v.record.userId === id)
        .map((v) => ({ id: v.record.id, status: v.status, pause: v.pause })),
    }),
  };
}

/**
 * Wraps every command so that each call, done or refused, writes one audit-log entry: who (user
 * id and name), from which address, what, on what, and the target's state before and after.
 */
function withAudit(api: PlatformApiImpl, deps: PlatformDeps, sink: AuditSink): PlatformApiImpl {
  const snap = auditSnapshots(api, deps);
  const run = async <R extends CommandResult>(
    action: string,
    target: { type: 'trader' | 'manager' | 'platform' | 'user'; id: string | null },
    a: Actor,
    extra: Record<string, unknown>,
    call: () => Promise<R>,
  ): Promise<R> => {
    const read = () =>
      target.type === 'trader'
        ? snap.trader(target.id!)
        : target.type === 'manager'
          ? snap.manager(target.id!)
          : target.type === 'user'
            ? snap.user(target.id!)
            : snap.platform();
    const before = read();
    let result: R;
    try {
      result = await call();
    } catch (err) {
      await write(action, target, a, extra, before, read(), { ok: false, error: `${action} failed: ${errorMessage(err)}` });
      throw err;
    }
    await write(action, target, a, extra, before, read(), result);
    return result;
  };
  const write = async (
    action: string,
    target: { type: string; id: string | null },
    a: Actor,
    extra: Record<string, unknown>,
    before: unknown,
    after: unknown,
    result: CommandResult,
  ) => {
    try {
      await sink.record({
        actor: { userId: a.userId ?? null, label: a.by, ip: a.ip ?? '' },
        action,
        target,
        outcome: result.ok ? 'ok' : 'refused',
        message: result.ok ? result.message : result.error,
        before: before === null ? null : { ...(before as object), ...(a.reason ? { reason: a.reason } : {}) },
        after: after === null ? null : { ...(after as object), ...extra },
      });
    } catch (err) {
      // The command already happened: say so loudly in the events table rather than undo it.
      await deps.store.events
        .appendMany([
          {
            at: deps.clock.now(),
            type: 'audit.write_failed',
            severity: 'critical',
            actor: a.by,
            message: `audit log write failed for ${action} on ${target.type} ${target.id ?? ''}: ${errorMessage(err)}`,
            data: { action, target },
          },
        ])
        .catch(() => undefined);
    }
  };
  return {
    ...api,
    pauseBot: (id, a) => run('bot.pause', { type: 'trader', id }, a, {}, () => api.pauseBot(id, a)),
    resumeBot: (id, a) => run('bot.resume', { type: 'trader', id }, a, {}, () => api.resumeBot(id, a)),
    restartBot: (id, a) => run('bot.restart', { type: 'trader', id }, a, {}, () => api.restartBot(id, a)),
    pauseManager: (id, a) => run('group.pause', { type: 'manager', id }, a, {}, () => api.pauseManager(id, a)),
    resumeManager: (id, a) => run('group.resume', { type: 'manager', id }, a, {}, () => api.resumeManager(id, a)),
    pauseAll: (a) => run('platform.pause_all', { type: 'platform', id: null }, a, {}, () => api.pauseAll(a)),
    resumeAll: (a) => run('platform.resume_all', { type: 'platform', id: null }, a, {}, () => api.resumeAll(a)),
    pauseUser: (id, a) => run('user.pause_bots', { type: 'user', id }, a, {}, () => api.pauseUser(id, a)),
    resumeUser: (id, a) => run('user.resume_bots', { type: 'user', id }, a, {}, () => api.resumeUser(id, a)),
    resolveReconciliation: (traderId, decision, a) =>
      run(`bot.reconcile_${decision === 'accept' ? 'accept' : 'recheck'}`, { type: 'trader', id: traderId }, a, {}, () =>
        api.resolveReconciliation(traderId, decision, a),
      ),
    createBot: (input, a) =>
      run(
        'bot.create',
        { type: 'user', id: typeof input?.userId === 'string' ? input.userId : '' },
        a,
        { requested: { name: input?.name, managerId: input?.managerId, strategy: input?.strategy, venue: input?.venue, keyId: input?.keyId, initialCapital: input?.initialCapital, leverage: input?.leverage, startPaused: input?.startPaused ?? false } },
        () => api.createBot(input, a),
      ),
    assignStrategy: (traderId, ref, params, a) =>
      run('bot.assign_strategy', { type: 'trader', id: traderId }, a, { requested: { ref: `${ref.name}@${ref.version}`, params } }, () =>
        api.assignStrategy(traderId, ref, params, a),
      ),
  };
}
