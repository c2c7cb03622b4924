import { describe, expect, it } from 'vitest';
import type { LiveChange } from '../../../runtime/api.ts';
import { LiveFeed } from '../../../web/index.ts';
import type { PendingChanges, Timers } from '../../../web/index.ts';
import { postForm, readUntil, setup, sseMessages } from './support.ts';

async function connect(app: ReturnType<typeof setup>['app'], query: string) {
  const res = await app.request(`/events?${query}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  return { res, reader: res.body!.getReader() };
}

const dataMessages = (text: string) => sseMessages(text).filter((m) => !m.comment);

describe('the live stream', () => {
  it('opens with a full refresh of the view: status bar, managers and the visible rows', async () => {
    const { app } = setup();
    const { reader } = await connect(app, 'view=bots');
    const text = await readUntil(reader, (t) => dataMessages(t).length >= 1);
    const [first] = dataMessages(text);
    expect(first!.event).toBeNull();
    expect(first!.data).toContain('<hx-partial hx-target="#status-bar" hx-swap="outerHTML"><header id="status-bar"');
    expect(first!.data).toContain('<hx-partial hx-target="#managers-body" hx-swap="outerHTML"><tbody id="managers-body">');
    expect(first!.data).toContain('<hx-partial hx-target="#bots-body" hx-swap="outerHTML"><tbody id="bots-body">');
    await reader.cancel();
  });

  it('sends the changed row out of band, unnamed, after a pause through the console', async () => {
    const { app } = setup();
    const { reader } = await connect(app, 'view=bots');
    let text = await readUntil(reader, (t) => dataMessages(t).length >= 1);
    expect((await postForm(app, '/bots/t-0001/pause')).status).toBe(200);
    text = await readUntil(reader, (t) => dataMessages(t).length >= 2, 5000, text);
    const msg = dataMessages(text)[1]!;
    expect(msg.event).toBeNull();
    expect(msg.id).toBe('2');
    expect(msg.data).toContain('<hx-partial hx-target="#bot-t-0001" hx-swap="outerHTML"><tr id="bot-t-0001" class="bot-row row-paused"');
    expect(msg.data).toContain('data-state="paused"');
    expect(msg.data).toContain('id="status-bar"');
    expect(msg.data).not.toContain('id="bots-body"');
    await reader.cancel();
  });

  it('coalesces a burst of changes into one message', async () => {
    const { app, api } = setup({ coalesceMs: 50 });
    const ids = api.addBots(30);
    const { reader } = await connect(app, 'view=bots');
    let text = await readUntil(reader, (t) => dataMessages(t).length >= 1);
    for (const id of ids) api.updateBot(id, { status: 'error', stateDetail: 'error' });
    text = await readUntil(reader, (t) => ids.every((id) => t.includes(`id="bot-${id}"`) && t.split(`id="bot-${id}"`).length > 2), 5000, text);
    expect(dataMessages(text)).toHaveLength(2);
    await reader.cancel();
  });

  it('re-sends the whole visible table instead of rows when a burst is larger than the row limit', async () => {
    const { app, api } = setup({ coalesceMs: 20, maxRowsPerMessage: 5 });
    const ids = api.addBots(10);
    const { reader } = await connect(app, 'view=bots');
    let text = await readUntil(reader, (t) => dataMessages(t).length >= 1);
    for (const id of ids) api.updateBot(id, { roe: 0.5 });
    text = await readUntil(reader, (t) => dataMessages(t).length >= 2, 5000, text);
    const msg = dataMessages(text)[1]!;
    expect(msg.data).toContain('<hx-partial hx-target="#bots-body" hx-swap="outerHTML"><tbody id="bots-body">');
    expect(msg.data).not.toContain('hx-target="#bot-');
    await reader.cancel();
  });

  it('sends only the rows of the manager a filtered page shows', async () => {
    const { app, api } = setup();
    const { reader } = await connect(app, 'view=bots&manager=m-beta');
    let text = await readUntil(reader, (t) => dataMessages(t).length >= 1);
    api.updateBot('t-0001', { roe: 0.1 });
    api.updateBot('t-0004', { status: 'running', stateDetail: 'running.idle' });
    text = await readUntil(reader, (t) => dataMessages(t).length >= 2, 5000, text);
    const msg = dataMessages(text)[1]!;
    expect(msg.data).toContain('id="bot-t-0004"');
    expect(msg.data).not.toContain('id="bot-t-0001"');
    await reader.cancel();
  });

  it('refreshes the summary of the bot a detail page shows', async () => {
    const { app, api } = setup();
    const { reader } = await connect(app, 'view=bot&id=t-0003');
    let text = await readUntil(reader, (t) => dataMessages(t).length >= 1);
    expect(dataMessages(text)[0]!.data).toContain('<section id="bot-summary"');
    api.updateBot('t-0003', { status: 'running', stateDetail: 'running.idle', error: null, escalated: false });
    text = await readUntil(reader, (t) => dataMessages(t).length >= 2, 5000, text);
    expect(dataMessages(text)[1]!.data).toContain('data-state="running"');
    await reader.cancel();
  });

  it('refreshes the strategies content on strategies.changed', async () => {
    const { app, api } = setup();
    const { reader } = await connect(app, 'view=strategies');
    let text = await readUntil(reader, (t) => dataMessages(t).length >= 1);
    api.setFiles([{ filename: 'new-one.ts', hash: 'ffff', status: 'broken', name: null, version: null, error: 'ReferenceError: x is not defined', updatedAt: 0 }]);
    text = await readUntil(reader, (t) => dataMessages(t).length >= 2, 5000, text);
    const msg = dataMessages(text)[1]!;
    expect(msg.data).toContain('<hx-partial hx-target="#strategies-content" hx-swap="outerHTML"><div id="strategies-content" class="stack">');
    expect(msg.data).toContain('ReferenceError: x is not defined');
    await reader.cancel();
  });

  it('sends heartbeat comments', async () => {
    const { app } = setup({ coalesceMs: 10, heartbeatMs: 20 });
    const { reader } = await connect(app, 'view=status');
    const text = await readUntil(reader, (t) => t.includes(': heartbeat\n\n'));
    expect(sseMessages(text).some((m) => m.comment)).toBe(true);
    await reader.cancel();
  });

  it('unsubscribes from the api when the client disconnects', async () => {
    const { app, api } = setup();
    const { reader } = await connect(app, 'view=status');
    await readUntil(reader, (t) => dataMessages(t).length >= 1);
    expect(api.subscriberCount()).toBe(1);
    await reader.cancel();
    await new Promise((r) => setImmediate(r));
    expect(api.subscriberCount()).toBe(0);
  });

  it('answers an unknown view with 400', async () => {
    const { app } = setup();
    const res = await app.request('/events?view=everything');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('view must be bots, bot, strategies or status');
    expect((await app.request('/events?view=bot')).status).toBe(400);
  });
});

/** Timers the test fires by hand. */
function manualTimers() {
  const timeouts = new Map<number, () => void>();
  let next = 1;
  const timers: Timers = {
    setTimeout: (fn) => {
      const id = next++;
      timeouts.set(id, fn);
      return id;
    },
    clearTimeout: (h) => void timeouts.delete(h as number),
    setInterval: () => 0,
    clearInterval: () => undefined,
  };
  const fireAll = async () => {
    const fns = [...timeouts.values()];
    timeouts.clear();
    for (const fn of fns) fn();
    await new Promise((r) => setImmediate(r));
  };
  return { timers, fireAll, pending: () => timeouts.size };
}

describe('LiveFeed', () => {
  const change = (id: string, roe: number): LiveChange => ({
    type: 'bot.changed',
    bot: { id, roe } as unknown as Extract<LiveChange, { type: 'bot.changed' }>['bot'],
  });

  it('keeps only the latest row per bot and sends one message per window', async () => {
    const { timers, fireAll } = manualTimers();
    const rendered: PendingChanges[] = [];
    const sent: string[] = [];
    const feed = new LiveFeed({
      coalesceMs: 250,
      heartbeatMs: 15_000,
      timers,
      render: async (p) => {
        rendered.push(p);
        return `n=${p.bots.size}`;
      },
      send: async (d) => void sent.push(d),
      ping: async () => undefined,
      onError: (e) => {
        throw e;
      },
    });
    for (let i = 0; i < 100; i++) feed.push(change(`t-${i % 10}`, i));
    expect(sent).toHaveLength(0);
    await fireAll();
    expect(sent).toEqual(['n=10']);
    expect((rendered[0]!.bots.get('t-3')!.roe)).toBe(93);
    feed.push({ type: 'platform.changed', status: {} as never });
    feed.close();
    await fireAll();
    expect(sent).toHaveLength(1);
  });
});
