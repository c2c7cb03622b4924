/**
 * What each role sees and is offered: rows in scope, groups, buttons, navigation, events and the
 * live stream. (What each role may *do* is proven route by route in access.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { readUntil, setup, sseMessages } from './support.ts';

const rowIds = (html: string) => [...html.matchAll(/<tr id="bot-(t-\d+)"/g)].map((m) => m[1]);
const groupIds = (html: string) => [...html.matchAll(/<tr id="mgr-([\w-]+)"/g)].map((m) => m[1]);
const navLabels = (html: string) => [...html.matchAll(/<li><a href="[^"]+"[^>]*>([^<]+)<\/a><\/li>/g)].map((m) => m[1]);

describe('what each role sees', () => {
  it('shows an operator every bot and group, every command and Pause All', async () => {
    const { as } = setup();
    const html = await (await as('operator').request('/bots')).text();
    expect(rowIds(html)).toEqual(['t-0001', 't-0002', 't-0003', 't-0004']);
    expect(groupIds(html)).toEqual(['m-alpha', 'm-beta']);
    expect(html).toContain('data-dialog-open="pause-all-dialog"');
    expect(html).toContain('id="pause-all-dialog"');
    expect(html).toContain('hx-post="/bots/t-0003/restart"');
    expect(navLabels(html)).toEqual(['Bots', 'Users', 'Strategies', 'Events', 'Risk', 'Security', 'Health', 'Account']);
    expect(html).toContain('<span class="badge role-badge role-operator">operator</span>');
  });

  it('shows a viewer everything and offers no command at all', async () => {
    const { as } = setup();
    const html = await (await as('viewer').request('/bots')).text();
    expect(rowIds(html)).toEqual(['t-0001', 't-0002', 't-0003', 't-0004']);
    expect(groupIds(html)).toEqual(['m-alpha', 'm-beta']);
    expect(html).not.toContain('hx-post=');
    expect(html).not.toContain('pause-all-dialog');
    expect(html).not.toContain('Pause All Trading');
    const detail = await (await as('viewer').request('/bots/t-0001')).text();
    expect(detail).not.toContain('hx-post=');
    expect(detail).not.toContain('id="assign-form"');
  });

  it("shows a manager only their group's bots, with their commands, and no Pause All", async () => {
    const { as } = setup();
    const html = await (await as('manager').request('/bots')).text();
    expect(rowIds(html)).toEqual(['t-0001', 't-0002']);
    expect(groupIds(html)).toEqual(['m-alpha']);
    expect(html).toContain('hx-post="/managers/m-alpha/pause"');
    expect(html).toContain('hx-post="/bots/t-0001/restart"');
    expect(html).not.toContain('Pause All Trading');
    // A filter naming another group shows nothing rather than that group.
    expect(rowIds(await (await as('manager').request('/bots?manager=m-beta')).text())).toEqual([]);
    const detail = await (await as('manager').request('/bots/t-0001')).text();
    expect(detail).toContain('id="assign-form"');
  });

  it('shows a user only their own bots, pause and resume only, no groups and no health page', async () => {
    const { as } = setup();
    const html = await (await as('user').request('/bots')).text();
    expect(rowIds(html)).toEqual(['t-0001', 't-0004']);
    expect(html).not.toContain('id="managers-table"');
    expect(html).toContain('hx-post="/bots/t-0001/pause"');
    expect(html).not.toContain('/restart"');
    expect(html).not.toContain('Pause All Trading');
    expect(navLabels(html)).toEqual(['Bots', 'Strategies', 'Events', 'Account']);
    expect((await as('user').request('/bots/t-0002')).status).toBe(404);
  });

  it("sums only the role's own traders in the status bar (trading-paused stays platform-wide)", async () => {
    const { as } = setup();
    const counts = (html: string) => Object.fromEntries([...html.matchAll(/<span class="count-n">(\d+)<\/span><span class="count-label">(\w+)<\/span>/g)].map((m) => [m[2], Number(m[1])]));
    const pv = (html: string) => /<span class="kpi-value num"><span>([^<]+)<\/span>/.exec(html)?.[1];
    const operator = await (await as('operator').request('/bots')).text();
    expect(counts(operator)).toEqual({ running: 1, starting: 1, paused: 1, error: 1, stopped: 0 });
    const manager = await (await as('manager').request('/bots')).text();
    expect(counts(manager)).toEqual({ running: 1, starting: 0, paused: 1, error: 0, stopped: 0 });
    expect(pv(manager)).toBe('19,734.56');
    const user = await (await as('user').request('/bots')).text();
    expect(counts(user)).toEqual({ running: 1, starting: 1, paused: 0, error: 0, stopped: 0 });
    expect(pv(user)).toBe('10,234.56');
    expect(user).toContain('+2.35 %');
  });

  it("shows managers and users only their traders' events and the platform's", async () => {
    const { as } = setup();
    const manager = await (await as('manager').request('/events/recent')).text();
    expect(manager).toContain('daily stop-loss hit');
    expect(manager).not.toContain('strategy threw: TypeError');
    const user = await (await as('user').request('/events/recent')).text();
    expect(user).not.toContain('daily stop-loss hit');
    expect(user).not.toContain('strategy threw: TypeError');
    const viewer = await (await as('viewer').request('/events/recent')).text();
    expect(viewer).toContain('strategy threw: TypeError');
  });

  it("streams a user only their own rows, and no group table", async () => {
    const { as, api } = setup();
    const res = await as('user').request('/events?view=bots');
    const reader = res.body!.getReader();
    let text = await readUntil(reader, (t) => sseMessages(t).filter((m) => !m.comment).length >= 1);
    const first = sseMessages(text)[0]!.data;
    expect(rowIds(first)).toEqual(['t-0001', 't-0004']);
    expect(first).not.toContain('managers-body');
    expect(first).not.toContain('Pause All Trading');
    api.updateBot('t-0002', { roe: 0.2 });
    api.updateBot('t-0004', { roe: 0.3 });
    text = await readUntil(reader, (t) => sseMessages(t).filter((m) => !m.comment).length >= 2, 5000, text);
    const second = sseMessages(text).filter((m) => !m.comment)[1]!.data;
    expect(second).toContain('hx-target="#bot-t-0004"');
    expect(second).not.toContain('t-0002');
    await reader.cancel();
  });

  it("streams a manager their group's table only", async () => {
    const { as } = setup();
    const res = await as('manager').request('/events?view=bots');
    const reader = res.body!.getReader();
    const text = await readUntil(reader, (t) => sseMessages(t).filter((m) => !m.comment).length >= 1);
    const first = sseMessages(text)[0]!.data;
    expect(groupIds(first)).toEqual(['m-alpha']);
    expect(rowIds(first)).toEqual(['t-0001', 't-0002']);
    await reader.cancel();
  });

  it('refuses a stream of a bot outside the scope with 404', async () => {
    const { as } = setup();
    const res = await as('user').request('/events?view=bot&id=t-0003');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('Not found: no trader with id "t-0003"');
  });
});
