/**
 * Creating a bot on a running node (PGlite and PostgreSQL): the bot is stored, starts under its
 * group and trades on the next candle, comes back after a restart, and every refusal (unknown
 * group, duplicate name, bad capital, params the strategy rejects, a key of another user or
 * venue) leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewBotInput } from '../../runtime/api.ts';
import { Dec } from '../../runtime/exchange/precision.ts';
import { dbTargets } from '../support/db.ts';
import { harness, type Harness } from '../support/runtime.ts';

const who = { by: 'Olivia Ops', userId: 'u-admin', reason: 'new bot for Alice' };

const base: NewBotInput = {
  name: 'Alice trend 2',
  userId: 'u-alice',
  managerId: 'm-beta',
  strategy: { name: 'momentum', version: 1 },
  params: { lookback: 15 },
  venue: 'paper',
  keyId: null,
  initialCapital: '2500',
  leverage: 2,
};

describe.each(dbTargets())('creating a bot on $name', ({ name }) => {
  let h: Harness;
  let ids = 0;

  beforeAll(async () => {
    h = await harness(name);
    await h.start();
    const version = (await h.node.api.strategies()).versions.find((v) => v.name === 'momentum');
    expect(version).toBeDefined();
    Object.assign(base, { strategy: { name: 'momentum', version: version!.version } });
  }, 120_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('stores a paper bot, starts it under its group and trades it on the next candle', async () => {
    const before = h.node.api.listBots().length;
    const r = await h.node.api.createBot(base, who);
    expect(r).toMatchObject({ ok: true });
    if (!r.ok) return;
    ids++;
    expect(h.node.api.listBots()).toHaveLength(before + 1);
    const row = h.node.api.getBot(r.botId)!;
    expect(row).toMatchObject({ name: 'Alice trend 2', userId: 'u-alice', managerId: 'm-beta' });

    const stored = await h.node.store.traders.get(r.botId as never);
    expect(stored).toMatchObject({ venue: 'paper', accountId: `paper:${r.botId}`, initialCapital: '2500', leverage: 2 });
    expect(stored!.params).toMatchObject({ lookback: 15 });

    await h.minute(2);
    const view = h.node.traders().get(r.botId)!;
    expect(view.status).toBe('running');
    expect(view.lastCycleAt).toBe(h.node.lastCandleAt());
    const cycles = await h.node.store.cycles.recentForTrader(r.botId as never, 10);
    expect(cycles.some((c) => c.status === 'completed')).toBe(true);
    // Its own paper account, funded with its capital: wallet = deposit + realized P&L − fees.
    const balance = await h.node.account(r.botId)!.fetchBalance();
    const net = await h.node.store.fills.netForAccount(`paper:${r.botId}`);
    expect(new Dec(balance.wallet).eq(new Dec('2500').plus(net))).toBe(true);

    await h.node.flush();
    const audit = await h.node.admin.auditLog({ action: 'bot.create', limit: 10 });
    expect(audit.entries.some((e) => e.outcome === 'ok' && e.actorLabel === 'Olivia Ops')).toBe(true);
  });

  it('creates a bot paused when asked, and it stays paused until resumed', async () => {
    const r = await h.node.api.createBot({ ...base, name: 'Alice held', startPaused: true }, who);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    ids++;
    await h.minute(1);
    expect(h.node.traders().get(r.botId)!.status).toBe('paused');
    expect(await h.node.store.orders.countForTrader(r.botId as never)).toBe(0);
    expect((await h.node.api.resumeBot(r.botId, who)).ok).toBe(true);
    await h.minute(1);
    expect(h.node.traders().get(r.botId)!.status).toBe('running');
  });

  it('refuses bad input with a reason and stores nothing', async () => {
    const count = async () => (await h.node.store.traders.list()).length;
    const n = await count();
    const cases: [Partial<NewBotInput> | Record<string, unknown>, string, RegExp][] = [
      [{ managerId: 'm-nope' }, 'not_found', /no group with id m-nope/],
      [{ userId: 'u-ghost' }, 'not_found', /no user with id u-ghost/],
      [{ name: 'alice TREND 2' }, 'conflict', /already has a bot named "Alice trend 2"/],
      [{ name: ' ' }, 'invalid', /name is required/],
      [{ initialCapital: '-5' }, 'invalid', /initial capital/],
      [{ initialCapital: '1e9' }, 'invalid', /initial capital/],
      [{ leverage: 500 }, 'invalid', /leverage must be at most 125/],
      [{ strategy: { name: 'momentum', version: 999 } }, 'not_found', /not registered/],
      [{ params: { lookback: 'soon' } }, 'invalid', /refused these params/],
      [{ venue: 'kraken' }, 'invalid', /venue must be one of/],
      [{ venue: 'binanceusdm', keyId: null }, 'invalid', /needs one of the owner's binanceusdm exchange keys/],
      [{ venue: 'binanceusdm', keyId: 'k-missing' }, 'not_found', /no exchange key/],
      [{ keyId: 'k-1' }, 'invalid', /paper bot takes no exchange key/],
      [{ extra: true }, 'invalid', /Unrecognized key/i],
    ];
    for (const [patch, code, message] of cases) {
      const r = await h.node.api.createBot({ ...base, name: 'Alice fresh', ...patch } as NewBotInput, who);
      expect(r, JSON.stringify(patch)).toMatchObject({ ok: false, code });
      if (!r.ok) expect(r.error, JSON.stringify(patch)).toMatch(message);
    }
    expect(await count()).toBe(n);
  });

  it('binds a live bot only to a usable key of its owner on that venue', async () => {
    const bobs = await h.node.keyStore.add(
      { userId: 'u-bob', exchange: 'binanceusdm', label: 'Bob main', apiKey: 'BOBKEY0000000000000077AB', secret: 'bob-secret-0000000000001' },
      'Bob Lee',
    );
    const alices = await h.node.keyStore.add(
      { userId: 'u-alice', exchange: 'bybit', label: 'Alice bybit', apiKey: 'ALICEKEY00000000000077AB', secret: 'alice-secret-0000000000001' },
      'Alice Kim',
    );
    const other = await h.node.api.createBot({ ...base, name: 'Alice live', venue: 'binanceusdm', keyId: bobs.id }, who);
    expect(other).toMatchObject({ ok: false, code: 'conflict' });
    if (!other.ok) expect(other.error).toMatch(/belongs to another user/);
    const venue = await h.node.api.createBot({ ...base, name: 'Alice live', venue: 'binanceusdm', keyId: alices.id }, who);
    expect(venue).toMatchObject({ ok: false, code: 'conflict' });
    if (!venue.ok) expect(venue.error).toMatch(/is a bybit key, not binanceusdm/);
    await h.node.keyStore.disable(alices.id, 'lost laptop', 'Alice Kim');
    const disabled = await h.node.api.createBot({ ...base, name: 'Alice live', venue: 'bybit', keyId: alices.id }, who);
    expect(disabled).toMatchObject({ ok: false, code: 'conflict' });
    if (!disabled.ok) expect(disabled.error).toMatch(/is disabled \(lost laptop\)/);
  });

  it('brings created bots back after a restart in the same states', async () => {
    await h.node.flush();
    const created = h.node.api.listBots().filter((b) => b.userId === 'u-alice' && /Alice (trend 2|held)/.test(b.name));
    expect(created).toHaveLength(ids);
    const states = new Map(created.map((b) => [b.id, b.status]));
    await h.node.stop();
    await h.start();
    for (const [id, status] of states) expect(h.node.traders().get(id)?.status).toBe(status);
  });
});
