/**
 * One's own exchange keys over the fake api and the real admin layer (in-memory key store, fake
 * venue check): the page lists only the caller's keys with status, reason, last check and the
 * bots using them; Add checks the key at once and shows the verdict; Check now; Delete refuses a
 * key a bot trades with; nobody touches another user's key without keys.manage; no secret ever
 * reaches a page, a log line or the audit log. The same through /api/v1/exchange-keys.
 */
import { describe, expect, it } from 'vitest';
import type { Role } from '../../../runtime/accounts/index.ts';
import { Ids } from '../../../runtime/domain.ts';
import { createWebApp } from '../../../web/index.ts';
import type { WebLogger } from '../../../web/index.ts';
import { ApiSchemas as S } from '../../../web/api/index.ts';
import { createTestAccounts } from '../../support/accounts.ts';
import { T0, createFakeApi } from '../../support/fake-api.ts';
import { createTestAdmin, fakeTraderRecords } from '../../support/fake-admin.ts';
import { clientAs, postForm } from './support.ts';

const SECRET = 'super-secret-value-never-shown-0042';
const API_KEY = 'APIKEYVALUE000000000077AB';
const PASSPHRASE = 'my pass phrase 9';

/** An app whose log lines are kept, with the fake admin's parts. */
function setupWithLog() {
  const api = createFakeApi();
  const t = createTestAccounts();
  const admin = createTestAdmin(api, t.accounts, t.clock);
  const lines: string[] = [];
  const keep = (obj: object, msg?: string) => void lines.push(JSON.stringify({ ...obj, msg }));
  const log: WebLogger = { debug: keep, info: keep, warn: keep, error: keep };
  const raw = createWebApp({ api, accounts: t.accounts, admin: admin.admin, log, startedAt: T0 - 90_000, now: () => T0 });
  return { api, t, admin, raw, lines, as: (role: Role) => clientAs(raw, t, role) };
}

const addForm = (over: Record<string, string> = {}) => ({ exchange: 'binanceusdm', label: 'Main account', apiKey: API_KEY, secret: SECRET, ...over });

/** Everything a secret could leak into: the answers, the log lines and the audit log. */
async function leaks(s: ReturnType<typeof setupWithLog>, answers: string[]): Promise<string[]> {
  const audit = JSON.stringify(await s.t.accounts.store.audit.list({ limit: 10_000 }));
  const history = JSON.stringify(await s.admin.keys.history());
  const all = [...answers, ...s.lines, audit, history].join('\n');
  return [SECRET, API_KEY, PASSPHRASE].filter((v) => all.includes(v));
}

describe('the exchange keys page', () => {
  it("lists only the caller's keys with status, reason, last check and the bots that use them", async () => {
    const s = setupWithLog();
    await s.admin.ready;
    // t-0001 (u-17's) trades with xk-0001 on Binance.
    const t1 = fakeTraderRecords(s.api).find((t) => t.id === 't-0001')!;
    await s.admin.store.traders.upsert({ ...t1, venue: 'binanceusdm', accountId: 'xk-0001' });
    const res = await s.as('user').request('/account/exchange-keys');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="own-keys-table"');
    expect(html).toContain('Ada main');
    expect(html).toContain('…1234');
    expect(html).toContain('data-key-status="valid"');
    expect(html).toContain('>Valid<');
    expect(html).toContain('<a href="/bots/t-0001">alpha-btc</a>');
    // Grace's and Linus's keys are not listed.
    expect(html).not.toContain('Grace okx');
    expect(html).not.toContain('Linus bybit');
    // The add form: the four live venues, credentials as password inputs, the passphrase note.
    expect(html).toContain('id="add-key-form"');
    for (const v of ['binanceusdm', 'bybit', 'okx', 'bitget']) expect(html).toContain(`<option value="${v}"`);
    expect(html).not.toContain('<option value="paper"');
    expect(html).toMatch(/<input type="password" name="apiKey"/);
    expect(html).toMatch(/<input type="password" name="secret"/);
    expect(html).toContain('Passphrase (OKX and Bitget only)');
    expect(html).toContain('required for okx and bitget keys');
  });

  it('shows the verdict of a key the venue refuses: "Invalid: <reason>", and keeps the key (htmx fragment)', async () => {
    const s = setupWithLog();
    s.admin.validator.next({ status: 'invalid', reason: 'venue answered 401: invalid API key' });
    const res = await postForm(s.as('user'), '/account/exchange-keys', addForm());
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain('<!DOCTYPE html>');
    expect(html).toContain('id="own-keys-section"');
    expect(html).toContain('Invalid: venue answered 401: invalid API key');
    expect(html).toContain('data-tone="bad"');
    const keys = await s.admin.keys.list({ userId: 'u-17' });
    const added = keys.find((k) => k.label === 'Main account')!;
    expect(added).toMatchObject({ exchange: 'binanceusdm', status: 'invalid', statusReason: 'venue answered 401: invalid API key', hint: '77AB' });
    expect(s.admin.validator.calls).toEqual([{ keyId: added.id, by: 'Ada' }]);
    // The row shows the reason and the check time; the form is empty again.
    expect(html).toContain('checked <time');
    expect(html).not.toContain('value="Main account"');
    const [entry] = await s.t.accounts.store.audit.list({ limit: 1, actions: ['exchange_key.add'] });
    expect(entry).toMatchObject({ actorUserId: 'u-17', targetId: added.id, outcome: 'ok' });
    expect(entry!.message).toContain('Invalid: venue answered 401: invalid API key');
    expect(await leaks(s, [html])).toEqual([]);
  });

  it('answers a plain form post with the whole page and the verdict "Valid"', async () => {
    const s = setupWithLog();
    const res = await postForm(s.as('user'), '/account/exchange-keys', addForm({ exchange: 'okx', passphrase: PASSPHRASE }), { htmx: false });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<!DOCTYPE html>');
    expect(html).toContain('Added okx key “Main account” (…77AB). Valid');
    expect((await s.admin.keys.list({ userId: 'u-17' })).find((k) => k.exchange === 'okx')).toMatchObject({ status: 'valid', hasPassphrase: true });
    expect(await leaks(s, [html])).toEqual([]);
  });

  it('reports a check that cannot reach the venue, and keeps the key unchecked', async () => {
    const s = setupWithLog();
    s.admin.validator.next({ throws: 'connect ETIMEDOUT 203.0.113.7:443' });
    const html = await (await postForm(s.as('user'), '/account/exchange-keys', addForm({ exchange: 'bybit' }))).text();
    expect(html).toContain('Could not reach bybit: connect ETIMEDOUT 203.0.113.7:443');
    expect(html).toContain('data-tone="warn"');
    const added = (await s.admin.keys.list({ userId: 'u-17' })).find((k) => k.exchange === 'bybit')!;
    expect(added.status).toBe('unchecked');
    expect(html).toContain('not checked yet');
  });

  it('refuses bad input with 400 and the field named, keeps venue and label, never echoes a credential', async () => {
    const s = setupWithLog();
    await s.admin.ready;
    const before = await s.admin.keys.list();
    const res = await postForm(s.as('user'), '/account/exchange-keys', addForm({ exchange: 'okx', label: 'My OKX' }));
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('Key not added: passphrase: passphrase is required for okx.');
    expect(html).toContain('<option value="okx" selected="">');
    expect(html).toContain('value="My OKX"');
    const short = await postForm(s.as('user'), '/account/exchange-keys', addForm({ apiKey: 'short' }));
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('apiKey: api key must be 16 to 256 characters');
    expect(await s.admin.keys.list()).toEqual(before);
    expect(s.admin.validator.calls).toEqual([]);
    expect(await leaks(s, [html])).toEqual([]);
  });

  it('checks a key on request and shows when it was checked', async () => {
    const s = setupWithLog();
    await s.admin.ready;
    s.admin.validator.next({ status: 'invalid', reason: 'IP 198.51.100.4 is not on the key’s allow-list' });
    const res = await postForm(s.as('user'), '/account/exchange-keys/xk-0001/check');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('binanceusdm key “Ada main” (…1234): Invalid: IP 198.51.100.4 is not on the key’s allow-list');
    expect((await s.admin.keys.get('xk-0001'))!.status).toBe('invalid');
    expect(html).toContain('checked <time datetime="2026-11-21T12:00:00.000Z"');
  });

  it("refuses to check or delete another user's key (403), and an unknown key (404), changing nothing", async () => {
    const s = setupWithLog();
    await s.admin.ready;
    const user = s.as('user');
    const check = await postForm(user, '/account/exchange-keys/xk-0002/check');
    expect(check.status).toBe(403);
    expect(await check.text()).toContain('Not checked: exchange key xk-0002 is not yours.');
    const del = await postForm(user, '/account/exchange-keys/xk-0002/delete', {}, { htmx: false });
    expect(del.status).toBe(403);
    expect(await s.admin.keys.get('xk-0002')).not.toBeNull();
    expect(s.admin.validator.calls).toEqual([]);
    expect((await postForm(user, '/account/exchange-keys/xk-9999/check')).status).toBe(404);
    expect((await postForm(user, '/account/exchange-keys/xk-9999/delete')).status).toBe(404);
    // A manager has no keys.manage either; an operator has.
    expect((await postForm(s.as('manager'), '/account/exchange-keys/xk-0002/check')).status).toBe(403);
    expect((await postForm(s.as('operator'), '/account/exchange-keys/xk-0002/check')).status).toBe(200);
    const refused = await s.t.accounts.store.audit.list({ limit: 10, actions: ['exchange_key.check'] });
    expect(refused.filter((e) => e.outcome === 'refused').map((e) => e.actorUserId).sort()).toEqual(['u-17', 'u-manager']);
  });

  it('refuses to delete a key a bot trades with, naming the bot; deletes an unused one', async () => {
    const s = setupWithLog();
    await s.admin.ready;
    const t4 = fakeTraderRecords(s.api).find((t) => t.id === 't-0004')!;
    await s.admin.store.traders.upsert({ ...t4, venue: 'binanceusdm', accountId: 'xk-0001' });
    const user = s.as('user');
    const refused = await postForm(user, '/account/exchange-keys/xk-0001/delete', { reason: 'rotating' });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('Not deleted: exchange key binanceusdm …1234 is used by the bot beta-sol (t-0004)');
    expect(await s.admin.keys.get('xk-0001')).not.toBeNull();
    // Once the bot trades on paper again the key can go.
    await s.admin.store.traders.upsert({ ...t4, venue: 'paper', accountId: 'paper:t-0004', id: Ids.trader('t-0004') });
    const res = await postForm(user, '/account/exchange-keys/xk-0001/delete', { reason: 'rotating' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Deleted binanceusdm key “Ada main” (…1234).');
    expect(await s.admin.keys.get('xk-0001')).toBeNull();
    expect(s.admin.keys.events.at(-1)).toMatchObject({ keyId: 'xk-0001', action: 'deleted', by: 'Ada', reason: 'rotating' });
    const [entry] = await s.t.accounts.store.audit.list({ limit: 1, actions: ['exchange_key.delete'] });
    expect(entry).toMatchObject({ outcome: 'ok', targetId: 'xk-0001' });
  });

  it('is linked from the account page and the user menu of those who may keep keys', async () => {
    const s = setupWithLog();
    const account = await (await s.as('user').request('/account')).text();
    expect(account).toContain('href="/account/exchange-keys" id="account-keys-link"');
    expect(account).toContain('id="userbox-keys"');
    const viewer = await (await s.as('viewer').request('/account')).text();
    expect(viewer).not.toContain('/account/exchange-keys');
  });
});

describe('exchange keys on the API', () => {
  it("lists the caller's keys, adds one (with its check), checks and deletes it", async () => {
    const s = setupWithLog();
    await s.admin.ready;
    const user = s.as('user');
    const json = (method: string, path: string, body?: unknown) =>
      user.request(path, { method, headers: { 'Content-Type': 'application/json', Origin: 'http://localhost' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const list = S.OwnKeysAnswer.parse(await (await user.request('/api/v1/exchange-keys')).json());
    expect(list.keys.map((k) => k.id)).toEqual(['xk-0001']);
    expect(list.keys[0]).toMatchObject({ bots: [], lastCheckedAt: expect.any(Number) });

    s.admin.validator.next({ status: 'invalid', reason: 'venue answered 401: API key expired' });
    const added = await json('POST', '/api/v1/exchange-keys', { exchange: 'bitget', label: 'Bitget sub', apiKey: API_KEY, secret: SECRET, passphrase: PASSPHRASE });
    expect(added.status).toBe(200);
    const addedText = await added.text();
    const a = S.CheckedKeyAnswer.parse(JSON.parse(addedText));
    expect(a.result.validation).toMatchObject({ status: 'invalid', reason: 'venue answered 401: API key expired' });
    expect(a.message).toContain('Invalid: venue answered 401: API key expired');
    const id = a.result.key.id;

    const checked = S.CheckedKeyAnswer.parse(await (await json('POST', `/api/v1/exchange-keys/${id}/check`, {})).json());
    expect(checked.result.validation.status).toBe('valid');
    expect(checked.result.key.status).toBe('valid');

    const bad = await json('POST', '/api/v1/exchange-keys', { exchange: 'bitget', label: 'x', apiKey: API_KEY, secret: SECRET });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('passphrase is required for bitget');

    const other = await json('POST', '/api/v1/exchange-keys', { exchange: 'bybit', label: 'for Grace', apiKey: API_KEY, secret: SECRET, userId: 'u-42' });
    expect(other.status).toBe(403);
    expect((await json('POST', '/api/v1/exchange-keys/xk-0002/check', {})).status).toBe(403);
    expect((await user.request('/api/v1/exchange-keys/xk-0002', { method: 'DELETE', headers: { Origin: 'http://localhost' } })).status).toBe(403);

    const del = await user.request(`/api/v1/exchange-keys/${id}`, { method: 'DELETE', headers: { Origin: 'http://localhost' } });
    expect(del.status).toBe(200);
    expect(await s.admin.keys.get(id)).toBeNull();
    expect((await user.request(`/api/v1/exchange-keys/${id}`, { method: 'DELETE', headers: { Origin: 'http://localhost' } })).status).toBe(404);
    expect(await leaks(s, [addedText])).toEqual([]);
  });

  it('lets an operator add a key for another user (keys.manage) and refuses deleting a bound key with 409', async () => {
    const s = setupWithLog();
    await s.admin.ready;
    const op = s.as('operator');
    const post = (path: string, body: unknown) => op.request(path, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'http://localhost' }, body: JSON.stringify(body) });
    const res = await post('/api/v1/exchange-keys', { exchange: 'bybit', label: 'for Grace', apiKey: API_KEY, secret: SECRET, userId: 'u-42' });
    expect(res.status).toBe(200);
    expect((await s.admin.keys.list({ userId: 'u-42' })).map((k) => k.label)).toContain('for Grace');
    const t2 = fakeTraderRecords(s.api).find((t) => t.id === 't-0002')!;
    await s.admin.store.traders.upsert({ ...t2, venue: 'okx', accountId: 'xk-0002' });
    const del = await op.request('/api/v1/exchange-keys/xk-0002', { method: 'DELETE', headers: { Origin: 'http://localhost' } });
    expect(del.status).toBe(409);
    expect(((await del.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'conflict', message: expect.stringContaining('alpha-eth (t-0002)') });
  });
});
