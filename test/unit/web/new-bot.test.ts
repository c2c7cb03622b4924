/**
 * Creating a bot from the console and the API over the fake api: the form lists the owners and
 * groups of the caller's scope, the strategy versions with their params and the owner's usable
 * keys (refetched for another owner); a created bot opens its page; a refusal shows the form
 * again with its message and what was entered. Also the Exchanges table of the /status page.
 */
import { describe, expect, it } from 'vitest';
import type { NewBotInput } from '../../../runtime/api.ts';
import { ApiSchemas as S } from '../../../web/api/index.ts';
import { ensureRoleUser } from '../../support/accounts.ts';
import { T0 } from '../../support/fake-api.ts';
import { HX, ORIGIN, postForm, setup } from './support.ts';

const form = (over: Record<string, string> = {}) => ({
  name: 'gamma-btc',
  userId: 'u-17',
  managerId: 'm-beta',
  ref: 'equal-weight@1',
  params: '{"threshold": 0.1}',
  account: 'paper',
  initialCapital: '2500.5',
  leverage: '3',
  ...over,
});

const createCalls = (s: ReturnType<typeof setup>) => s.api.calls.filter((c) => c.method === 'createBot').map((c) => c.args[0] as NewBotInput);
const options = (html: string, name: string) => {
  const select = new RegExp(`<select name="${name}"[^>]*>([\\s\\S]*?)</select>`).exec(html)?.[1] ?? '';
  return [...select.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
};

describe('the new-bot form', () => {
  it('offers a New bot button to those who may create bots', async () => {
    const s = setup();
    for (const role of ['admin', 'operator', 'manager'] as const) expect(await (await s.as(role).request('/bots')).text(), role).toContain('href="/bots/new" id="new-bot"');
    for (const role of ['user', 'viewer'] as const) expect(await (await s.as(role).request('/bots')).text(), role).not.toContain('/bots/new');
  });

  it('lists every active user, every group, the strategy versions with their params, and paper or the owner’s usable keys', async () => {
    const s = setup();
    await s.admin.ready;
    await s.as('user').session();
    const res = await s.as('operator').request('/bots/new');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(options(html, 'userId')).toEqual(expect.arrayContaining(['u-17', 'u-42', 'u-51', 'u-operator']));
    expect(options(html, 'managerId')).toEqual(['m-alpha', 'm-beta']);
    expect(options(html, 'ref')).toEqual(['momentum@1', 'momentum@2', 'equal-weight@1']);
    expect(html).toContain('hx-get="/bots/new/strategy-fields"');
    expect(html).toContain('hx-get="/bots/new/keys"');
    expect(options(html, 'account')).toEqual(['paper']);
    expect(html).toContain('name="initialCapital"');
    expect(html).toMatch(/name="leverage" type="number" required="" min="1" max="125"/);
    expect(html).toContain('name="startPaused"');

    const keys = await (await s.as('operator').request('/bots/new/keys?userId=u-17', { headers: HX })).text();
    expect(options(keys, 'account')).toEqual(['paper', 'xk-0001']);
    expect(keys).toContain('binanceusdm — Ada main (Valid)');
    // Grace's only key is invalid: not usable.
    expect(options(await (await s.as('operator').request('/bots/new/keys?userId=u-42', { headers: HX })).text(), 'account')).toEqual(['paper']);
    const fields = await (await s.as('operator').request('/bots/new/strategy-fields?ref=equal-weight%401', { headers: HX })).text();
    expect(fields).toContain('<option value="equal-weight@1" selected="">');
    expect(fields).toContain('&quot;threshold&quot;: 0.05');
  });

  it("limits a manager to their groups and to the owners of their groups' bots", async () => {
    const s = setup();
    await s.admin.ready;
    await s.as('user').session();
    const html = await (await s.as('manager').request('/bots/new')).text();
    expect(options(html, 'managerId')).toEqual(['m-alpha']);
    expect(options(html, 'userId').sort()).toEqual(['u-17', 'u-42', 'u-manager']);
    expect((await s.as('manager').request('/bots/new/keys?userId=u-51', { headers: HX })).status).toBe(404);
    const outGroup = await postForm(s.as('manager'), '/bots', form({ managerId: 'm-beta' }));
    expect(outGroup.status).toBe(403);
    expect(await outGroup.text()).toContain('Not created: the group m-beta is outside what your account may change.');
    const outUser = await postForm(s.as('manager'), '/bots', form({ managerId: 'm-alpha', userId: 'u-51' }));
    expect(outUser.status).toBe(403);
    expect(createCalls(s)).toEqual([]);
    const ok = await postForm(s.as('manager'), '/bots', form({ managerId: 'm-alpha', userId: 'u-42' }));
    expect(ok.headers.get('HX-Redirect')).toMatch(/^\/bots\/t-new-\d+$/);
  });

  it('creates a paper bot and opens its page (htmx: HX-Redirect; plain post: 303)', async () => {
    const s = setup();
    await s.admin.ready;
    await s.as('user').session();
    const res = await postForm(s.as('operator'), '/bots', { ...form(), startPaused: 'on' });
    expect(res.status).toBe(200);
    const to = res.headers.get('HX-Redirect')!;
    expect(to).toBe('/bots/t-new-5');
    expect(createCalls(s)).toEqual([
      {
        name: 'gamma-btc',
        userId: 'u-17',
        managerId: 'm-beta',
        strategy: { name: 'equal-weight', version: 1 },
        params: { threshold: 0.1 },
        venue: 'paper',
        keyId: null,
        initialCapital: '2500.5',
        leverage: 3,
        startPaused: true,
      },
    ]);
    expect(s.api.calls.find((c) => c.method === 'createBot')!.args[1]).toMatchObject({ by: 'Otto Operator', userId: 'u-operator' });
    const page = await (await s.as('operator').request(to)).text();
    expect(page).toContain('gamma-btc');
    expect(page).toContain('data-state="paused"');

    const plain = await postForm(s.as('operator'), '/bots', form({ name: 'gamma-eth', params: '' }), { htmx: false });
    expect(plain.status).toBe(303);
    expect(plain.headers.get('location')).toBe('/bots/t-new-6');
    expect(createCalls(s)[1]).toMatchObject({ name: 'gamma-eth', params: null, startPaused: false });
  });

  it("creates a live bot on one of the owner's usable keys, and refuses a key that is not", async () => {
    const s = setup();
    await s.admin.ready;
    await s.as('user').session();
    const ok = await postForm(s.as('operator'), '/bots', form({ account: 'xk-0001' }));
    expect(ok.headers.get('HX-Redirect')).toMatch(/^\/bots\//);
    expect(createCalls(s)[0]).toMatchObject({ venue: 'binanceusdm', keyId: 'xk-0001' });
    // Grace's key: another user's, and invalid.
    const refused = await postForm(s.as('operator'), '/bots', form({ account: 'xk-0002' }));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('Not created: xk-0002 is not a usable exchange key of the owner');
    expect(createCalls(s)).toHaveLength(1);
  });

  it('shows a refusal of createBot with its message and keeps what was entered', async () => {
    const s = setup();
    await s.admin.ready;
    await s.as('user').session();
    // t-0001 "alpha-btc" belongs to u-17 already.
    const res = await postForm(s.as('operator'), '/bots', form({ name: 'alpha-btc', initialCapital: '777', leverage: '9' }));
    expect(res.status).toBe(409);
    const html = await res.text();
    expect(html).not.toContain('<!DOCTYPE html>');
    expect(html).toContain('id="new-bot-form"');
    expect(html).toContain('Not created: the user already has a bot named &quot;alpha-btc&quot;.');
    expect(html).toContain('value="alpha-btc"');
    expect(html).toContain('value="777"');
    expect(html).toContain('value="9"');
    expect(html).toContain('<option value="u-17" selected="">');
    expect(html).toContain('<option value="m-beta" selected="">');
    expect(html).toContain('<option value="equal-weight@1" selected="">');
    expect(html).toContain('{&quot;threshold&quot;: 0.1}');
    // A plain post gets the whole page with the same message.
    const plain = await postForm(s.as('operator'), '/bots', form({ name: 'alpha-btc' }), { htmx: false });
    expect(plain.status).toBe(409);
    expect(await plain.text()).toContain('<!DOCTYPE html>');
  });

  it('refuses bad input with 400 and the field named, before asking the platform', async () => {
    const s = setup();
    await s.admin.ready;
    await s.as('user').session();
    const op = s.as('operator');
    const cases: [Record<string, string>, string][] = [
      [{ leverage: '200' }, 'the leverage must be at most 125'],
      [{ leverage: '0' }, 'the leverage must be at least 1'],
      [{ initialCapital: '-5' }, 'the initial capital must be an amount of USDT'],
      [{ initialCapital: '0' }, 'the initial capital must be above 0'],
      [{ name: '' }, 'the name is required'],
      [{ params: '[1, 2]' }, 'params: must be a JSON object'],
      [{ ref: 'momentum' }, 'the strategy version must be name@version'],
      [{ userId: 'u-nobody' }, 'there is no active user u-nobody'],
      [{ managerId: 'm-gamma' }, 'there is no group m-gamma'],
    ];
    for (const [over, text] of cases) {
      const res = await postForm(op, '/bots', form(over));
      expect(res.status, JSON.stringify(over)).toBe(400);
      expect(await res.text(), JSON.stringify(over)).toContain(text);
    }
    expect(createCalls(s)).toEqual([]);
  });
});

describe('creating a bot on the API', () => {
  const post = (s: ReturnType<typeof setup>, body: unknown) =>
    s.as('operator').request('/api/v1/bots', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: ORIGIN }, body: JSON.stringify(body) });
  const body = { name: 'api-bot', userId: 'u-42', managerId: 'm-alpha', strategy: 'momentum@2', venue: 'paper', initialCapital: '1000', leverage: 2 };

  it('creates a bot, refuses what createBot refuses with its code, and validates the body', async () => {
    const s = setup();
    await s.admin.ready;
    const ok = await post(s, body);
    expect(ok.status).toBe(200);
    const a = S.CreateBotAnswer.parse(await ok.json());
    expect(s.api.getBot(a.botId)).toMatchObject({ name: 'api-bot', userId: 'u-42', managerId: 'm-alpha', strategy: 'momentum@2' });
    expect(createCalls(s)[0]).toMatchObject({ strategy: { name: 'momentum', version: 2 }, params: null, venue: 'paper', keyId: null, startPaused: false });

    const dup = await post(s, body);
    expect(dup.status).toBe(409);
    expect(((await dup.json()) as { error: { code: string } }).error.code).toBe('conflict');
    const unknown = await post(s, { ...body, name: 'other', strategy: 'nope@1' });
    expect(unknown.status).toBe(404);

    const live = await post(s, { ...body, name: 'live', venue: 'okx' });
    expect(live.status).toBe(400);
    expect(((await live.json()) as { error: { message: string } }).error.message).toContain('keyId: keyId is required for okx');
    expect((await post(s, { ...body, leverage: 126 })).status).toBe(400);
    expect((await post(s, { ...body, initialCapital: 1000 })).status).toBe(400);
    expect(createCalls(s)).toHaveLength(3);
  });

  it('refuses a manager a group outside their scope with 403', async () => {
    const s = setup();
    await ensureRoleUser(s.t.accounts, 'manager');
    const res = await s.as('manager').request('/api/v1/bots', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: ORIGIN }, body: JSON.stringify({ ...body, managerId: 'm-beta' }) });
    expect(res.status).toBe(403);
    expect(createCalls(s)).toEqual([]);
  });
});

describe('the Exchanges table of the status page', () => {
  it('says when no live venue is in use', async () => {
    const s = setup();
    const html = await (await s.app.request('/status')).text();
    expect(html).toContain('id="exchanges-table"');
    expect(html).toContain('No live venue in use (paper trading only).');
  });

  it('shows each venue’s keys, traders, requests, weight, rate-limit hits, queue and back-off', async () => {
    const s = setup();
    s.api.setHealth({
      exchanges: [
        { venue: 'binanceusdm', keys: 2, traders: 3, requests: 12345, weightUsed: 960, weightCapacity: 2400, rateLimitHits: 0, queued: 0, pausedUntil: null },
        { venue: 'okx', keys: 1, traders: 1, requests: 310, weightUsed: 19, weightCapacity: 20, rateLimitHits: 4, queued: 2, pausedUntil: T0 + 30_000 },
      ],
    });
    const html = await (await s.app.request('/status')).text();
    const row = (venue: string) => {
      const start = html.indexOf(`data-venue="${venue}"`);
      return html.slice(start, html.indexOf('</tr>', start));
    };
    expect(row('binanceusdm')).toContain('12,345');
    expect(row('binanceusdm')).toContain('960 / 2,400');
    expect(row('binanceusdm')).toContain('not backing off');
    expect(row('okx')).toContain('19 / 20');
    expect(row('okx')).toContain('>4<');
    expect(row('okx')).toContain('2026-11-21 12:00:30');
    expect(html).not.toContain('No live venue in use');
  });
});
