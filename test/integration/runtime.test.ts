/**
 * The whole runtime in-process, on PGlite and on PostgreSQL: the demo fleet trading over many
 * cycles on a manual market clock, pause and Pause All stopping orders, a throwing strategy
 * going error → restart → escalation on a simulated actor clock, and a restart rebuilding
 * the same tree without doubling an order.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeNode } from '../../runtime/index.ts';
import { Dec } from '../../runtime/exchange/precision.ts';
import { releaseCommands, type ReleasedViolation } from '../../runtime/risk/index.ts';
import { dbTargets } from '../support/db.ts';
import { harness, type Harness } from '../support/runtime.ts';

async function orderCount(node: RuntimeNode, traderId?: string): Promise<number> {
  if (traderId) return node.store.orders.countForTrader(traderId as never);
  let n = 0;
  for (const id of node.traders().keys()) n += await node.store.orders.countForTrader(id as never);
  return n;
}

describe.each(dbTargets())('the runtime on $name', ({ name }) => {
  let h: Harness;

  beforeAll(async () => {
    h = await harness(name, { fixtures: ['throws.ts'] });
    await h.start();
  }, 120_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('runs the demo fleet of 8 traders under 2 managers over many cycles and places paper orders', async () => {
    await h.minute(10);
    const node = h.node;
    expect(node.traders().size).toBe(8);
    expect(node.managers()).toHaveLength(2);
    for (const v of node.traders().values()) expect(v.status).toBe('running');

    let tradersWithOrders = 0;
    for (const id of node.traders().keys()) {
      const cycles = await node.store.cycles.recentForTrader(id as never, 50);
      expect(cycles.filter((c) => c.status === 'completed').length).toBeGreaterThanOrEqual(10);
      const orders = await node.store.orders.recentForTrader(id as never, 500);
      if (orders.length > 0) tradersWithOrders++;
      expect(orders.every((o) => o.status !== 'pending')).toBe(true);
    }
    expect(tradersWithOrders).toBeGreaterThanOrEqual(3);
  });

  it('keeps every paper wallet equal to its deposit plus realized P&L minus fees', async () => {
    for (const v of h.node.traders().values()) {
      const balance = await h.node.account(v.record.id)!.fetchBalance();
      const net = await h.node.store.fills.netForAccount(v.record.accountId);
      expect(new Dec(balance.wallet).eq(new Dec(v.record.initialCapital).plus(net))).toBe(true);
    }
  });

  it('records why each order was placed in the cycle decision record', async () => {
    const [some] = [...h.node.traders().values()];
    const orders = await h.node.store.orders.recentForTrader(some!.record.id, 1);
    const id = orders[0]?.cycleId ?? (await h.node.store.cycles.recentForTrader(some!.record.id, 1))[0]!.cycleId;
    const cycle = await h.node.store.cycles.get(id);
    expect(cycle).not.toBeNull();
    expect(cycle!.strategyRef).toMatch(/@\d+$/);
    expect(cycle!.candleTo).not.toBeNull();
    expect(cycle!.targets).not.toBeNull();
    expect(cycle!.plan).toHaveProperty('lines');
  });

  it('sends no order for a paused trader while the others go on', async () => {
    const ids = [...h.node.traders().keys()];
    const paused = ids[1]!;
    const res = await h.node.api.pauseBot(paused, { by: 'tester', reason: 'integration test' });
    expect(res).toEqual({ ok: true, message: expect.stringContaining('paused') });
    const before = await orderCount(h.node, paused);
    const cyclesBefore = (await h.node.store.cycles.recentForTrader(paused as never, 100)).length;
    await h.minute(3);
    expect(h.node.traders().get(paused)!.status).toBe('paused');
    expect(await orderCount(h.node, paused)).toBe(before);
    expect((await h.node.store.cycles.recentForTrader(paused as never, 100)).length).toBe(cyclesBefore);
    const other = h.node.traders().get(ids[0]!)!;
    expect(other.status).toBe('running');
    expect(other.lastCycleAt).toBe(h.node.lastCandleAt());
  });

  it('stops every order under Pause All and trades again after Resume All', async () => {
    const refused = await h.node.api.pauseAll({ by: 'tester', reason: '' });
    expect(refused).toEqual({ ok: false, error: 'a reason is required to pause all trading' });
    expect((await h.node.api.pauseAll({ by: 'tester', reason: 'exchange incident' })).ok).toBe(true);
    expect(h.node.gate.isOpen()).toBe(false);
    for (const v of h.node.traders().values()) expect(v.status).toBe('paused');
    const before = await orderCount(h.node);
    await h.minute(2);
    expect(await orderCount(h.node)).toBe(before);

    expect((await h.node.api.resumeAll({ by: 'tester' })).ok).toBe(true);
    expect(h.node.gate.isOpen()).toBe(true);
    const ids = [...h.node.traders().keys()];
    // The bot paused on its own stays paused: a platform resume lifts only the platform pause.
    expect(h.node.traders().get(ids[1]!)!.status).toBe('paused');
    expect(h.node.traders().get(ids[0]!)!.status).toBe('running');
    await h.minute(1);
    expect(h.node.traders().get(ids[0]!)!.lastCycleAt).toBe(h.node.lastCandleAt());
  });

  it('pauses a trader in breach of a risk policy within a minute, lists the violation, and resumes it on release', async () => {
    const t = [...h.node.traders().values()].find((v) => v.record.leverage === 3 && v.status === 'running')!;
    expect(t).toBeDefined();
    const set = await h.node.risk.setPolicy('trader', t.record.id, { maxLeverage: 2 }, 'tester');
    expect(set.ok).toBe(true);
    await h.minute(1);
    const view = h.node.traders().get(t.record.id)!;
    expect(view.status).toBe('paused');
    expect(view.pause?.scope).toBe('risk');
    expect(view.pause?.reason).toContain('leverage 3 is over the cap 2');
    const open = await h.node.risk.openViolations();
    const v = open.find((x) => x.traderId === t.record.id)!;
    expect(v.policy).toBe('maxLeverage');
    // Orders stop while the violation stands.
    const before = await orderCount(h.node, t.record.id);
    await h.minute(1);
    expect(await orderCount(h.node, t.record.id)).toBe(before);
    expect((await h.node.risk.openViolations()).filter((x) => x.traderId === t.record.id)).toHaveLength(1);

    await h.node.risk.clearPolicy('trader', t.record.id);
    const released = await h.node.risk.release(v.id, 'tester', 'cap lifted');
    expect(released.ok).toBe(true);
    const c = releaseCommands((released as { ok: true; value: ReleasedViolation }).value, h.clock.now());
    for (const send of c.sends) h.node.traders().get(send.traderId)!.ref.send(send.event);
    await h.node.settle();
    expect(h.node.traders().get(t.record.id)!.status).toBe('running');
    const events = await h.node.store.events.recent({ limit: 50, traderId: t.record.id, types: ['risk.violated'] });
    expect(events.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses to assign a version whose params make the strategy fail', async () => {
    const ids = [...h.node.traders().keys()];
    const target = ids[7]!;
    const v = h.node.registry.latest('throws');
    expect(v).toBeDefined();
    const refused = await h.node.api.assignStrategy(target, { name: 'throws', version: v!.version }, { fail: true }, { by: 'tester' });
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.error).toContain('boom');
    expect(h.node.traders().get(target)!.record.strategyName).not.toBe('throws');
  });

  it('restarts a trader whose strategy throws with backoff, then escalates it and keeps it in error', async () => {
    const ids = [...h.node.traders().keys()];
    const target = ids[7]!;
    const v = h.node.registry.latest('throws')!;
    // An operator edit that makes the strategy throw on every cycle.
    await h.node.store.traders.assignStrategy(target as never, 'throws', v.version, { fail: true }, h.clock.now());
    expect((await h.node.api.restartBot(target, { by: 'tester' })).ok).toBe(true);
    await h.node.settle();
    // It already ran the latest candle with its old strategy: the next candle is its first failure.
    expect(h.node.traders().get(target)!.status).toBe('running');
    await h.minute(1);
    // From then on a restarted trader retries that failed candle at once, and fails again.
    const delays = [1000, 2000, 4000, 8000, 16000];
    for (const delay of delays) {
      const view = h.node.traders().get(target)!;
      expect(view.status).toBe('error');
      expect(view.error?.message).toContain('boom');
      expect(h.node.api.getBot(target)!.escalated).toBe(false);
      // Not a millisecond early: the backoff holds the restart until its delay has passed.
      h.actorClock.increment(delay - 1);
      await h.node.settle();
      expect(h.node.traders().get(target)!.status).toBe('error');
      h.actorClock.increment(1);
      await h.node.settle();
    }
    // The sixth failure inside the window escalates: no restart comes however long we wait.
    expect(h.node.traders().get(target)!.status).toBe('error');
    h.actorClock.increment(120_000);
    await h.node.settle();
    await h.minute(1);
    expect(h.node.traders().get(target)!.status).toBe('error');
    const row = h.node.api.listBots().find((b) => b.id === target)!;
    expect(row.escalated).toBe(true);
    await h.node.flush();
    const escalations = await h.node.store.events.recent({ limit: 20, traderId: target, types: ['trader.escalated'] });
    expect(escalations).toHaveLength(1);
    expect(escalations[0]!.severity).toBe('critical');
    // The others were not disturbed.
    expect(h.node.traders().get(ids[0]!)!.status).toBe('running');
  });

  it('rebuilds the same tree in the same states after a restart and doubles no order', async () => {
    await h.node.flush();
    const before = new Map([...h.node.traders()].map(([id, v]) => [id, v.status]));
    const ordersBefore = await orderCount(h.node);
    const ids = [...h.node.traders().keys()];
    const STATUS_TYPES = ['trader.running', 'trader.paused', 'trader.failed', 'trader.starting', 'node.restored'];
    const statusEvents = async () => h.node.store.events.recent({ limit: 10_000, types: STATUS_TYPES });
    const eventsBefore = await statusEvents();
    await h.node.stop();

    await h.start();
    const after = new Map([...h.node.traders()].map(([id, v]) => [id, v.status]));
    expect(after).toEqual(before);
    expect(after.get(ids[1]!)).toBe('paused');
    expect(after.get(ids[7]!)).toBe('error');
    expect(h.node.api.listBots().find((b) => b.id === ids[7])!.escalated).toBe(true);
    // Back in the states they had is not news: no event per trader (the one in error is not
    // "failed" again), one for the node.
    await h.node.settle();
    const since = (await statusEvents()).slice(0, -eventsBefore.length || undefined);
    expect(since.map((e) => e.type)).toEqual(['node.restored']);
    expect(since[0]!.message).toBe('8 traders back in their states: 6 running, 1 paused, 1 in error');
    expect(since[0]!.data).toMatchObject({ traders: 8, running: 6, paused: 1, error: 1 });
    // The same candle again: nothing is re-run, nothing is sent twice.
    await h.node.step();
    await h.node.settle();
    expect(await orderCount(h.node)).toBe(ordersBefore);
    // And trading continues on the next candle.
    await h.minute(1);
    expect(h.node.traders().get(ids[0]!)!.lastCycleAt).toBe(h.node.lastCandleAt());
  });

  it('picks up a strategy file copied into the registry folder as a new version and reports a broken one', async () => {
    writeFileSync(
      path.join(h.strategyDir, 'flat.ts'),
      `import { defineStrategy, z } from '@platform/strategy';
export default defineStrategy({ name: 'flat', params: z.object({}), defaults: {}, compute() { return {}; } });`,
    );
    writeFileSync(path.join(h.strategyDir, 'broken.ts'), 'export default defineStrategy({ name: "x", ');
    await h.node.registry.scan();
    const view = await h.node.api.strategies();
    expect(view.versions.some((v) => v.name === 'flat' && v.version === 1)).toBe(true);
    const broken = view.files.find((f) => f.filename === 'broken.ts');
    expect(broken?.status).toBe('broken');
    expect(broken?.error).toBeTruthy();
    const ids = [...h.node.traders().keys()];
    const res = await h.node.api.assignStrategy(ids[0]!, { name: 'flat', version: 1 }, {}, { by: 'tester' });
    expect(res.ok).toBe(true);
    await h.node.settle();
    expect(h.node.traders().get(ids[0]!)!.record.strategyName).toBe('flat');
    expect(h.node.traders().get(ids[0]!)!.status).toBe('running');
  });
});
