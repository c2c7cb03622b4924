import { describe, expect, it } from 'vitest';
import { postForm, setup } from './support.ts';

describe('bot commands', () => {
  it('pauses a bot and answers with its refreshed row and an out-of-band status bar', async () => {
    const { app, api } = setup();
    const res = await postForm(app, '/bots/t-0001/pause');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith('<tr id="bot-t-0001"')).toBe(true);
    expect(html).toContain('data-state="paused"');
    expect(html).toContain('alpha-btc paused');
    expect(html).toContain('hx-post="/bots/t-0001/resume"');
    expect(html).toContain('<hx-partial hx-target="#status-bar" hx-swap="outerHTML"><header id="status-bar"');
    expect(api.calls.find((c) => c.method === 'pauseBot')?.args).toEqual([
      't-0001',
      { by: 'Ada Admin', reason: 'pause from the console', userId: 'u-admin', ip: 'unknown' },
    ]);
  });

  it('resumes a paused bot as the signed-in user (a posted name is ignored) and restarts a failed one', async () => {
    const { app, api } = setup();
    const resumed = await postForm(app, '/bots/t-0002/resume', { by: 'ops-anna', reason: 'limit reviewed' });
    expect(resumed.status).toBe(200);
    expect(await resumed.text()).toContain('data-state="running"');
    expect(api.calls.find((c) => c.method === 'resumeBot')?.args[1]).toEqual({ by: 'Ada Admin', reason: 'limit reviewed', userId: 'u-admin', ip: 'unknown' });
    const restarted = await postForm(app, '/bots/t-0003/restart');
    expect(restarted.status).toBe(200);
    const html = await restarted.text();
    expect(html).toContain('data-state="starting"');
    expect(html).not.toContain('badge-flag');
  });

  it('shows a refused command inline with 409, never a 500', async () => {
    const { app } = setup();
    const res = await postForm(app, '/bots/t-0002/pause');
    expect(res.status).toBe(409);
    const html = await res.text();
    expect(html).toContain('<div class="row-msg err" role="alert">alpha-eth is already paused</div>');
    expect(html.startsWith('<tr id="bot-t-0002"')).toBe(true);
  });

  it('shows a command that throws inline in its row without a stack', async () => {
    const { app, api } = setup();
    api.throwNext('actor mailbox closed');
    const res = await postForm(app, '/bots/t-0001/pause');
    expect(res.status).toBe(409);
    const html = await res.text();
    expect(html).toContain('pause failed: actor mailbox closed');
    expect(html).not.toContain('at ');
  });

  it('answers the summary fragment when the command comes from the detail page', async () => {
    const { app } = setup();
    const res = await postForm(app, '/bots/t-0001/pause', { view: 'summary' });
    const html = await res.text();
    expect(html.startsWith('<section id="bot-summary"')).toBe(true);
    expect(html).toContain('hx-target="#bot-summary"');
  });

  it('answers a command for an unknown bot with 404', async () => {
    const { app, api } = setup();
    const res = await postForm(app, '/bots/t-9999/pause');
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('No trader with id &quot;t-9999&quot;.');
    expect(api.calls.some((c) => c.method === 'pauseBot')).toBe(false);
  });

  it('answers a bad command form with 400 and a readable message', async () => {
    const { app } = setup();
    const res = await postForm(app, '/bots/t-0001/pause', { view: 'sideways' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Invalid option');
  });

  it('redirects a plain (non-htmx) form post back to the page', async () => {
    const { app } = setup();
    const res = await postForm(app, '/bots/t-0001/pause', {}, { htmx: false });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/bots');
  });

  it('refuses a cross-origin form post (CSRF) and leaves the bot alone', async () => {
    const { app, api } = setup();
    const res = await postForm(app, '/bots/t-0001/pause', {}, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Cross-site form submissions are refused');
    expect(api.calls.some((c) => c.method === 'pauseBot')).toBe(false);
    expect(api.listBots().find((b) => b.id === 't-0001')?.status).toBe('running');
  });

  it('refuses a JSON post, which the CSRF check does not cover, with 415', async () => {
    const { app, api } = setup();
    const res = await app.request('/bots/t-0001/pause', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'https://evil.example' },
      body: '{}',
    });
    expect(res.status).toBe(415);
    expect(api.calls.some((c) => c.method === 'pauseBot')).toBe(false);
  });

  it('refuses a form post that names no origin at all', async () => {
    const { app } = setup();
    const res = await postForm(app, '/platform/pause-all', { reason: 'y' }, { origin: null });
    expect(res.status).toBe(403);
  });
});

describe('manager groups', () => {
  it('pauses a manager group and answers with its row', async () => {
    const { app, api } = setup();
    const res = await postForm(app, '/managers/m-alpha/pause');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith('<tr id="mgr-m-alpha"')).toBe(true);
    expect(html).toContain('Resume group');
    expect(api.listBots().find((b) => b.id === 't-0001')?.status).toBe('paused');
    const resumed = await postForm(app, '/managers/m-alpha/resume');
    expect(resumed.status).toBe(200);
    expect(api.listBots().find((b) => b.id === 't-0001')?.status).toBe('running');
  });

  it('shows a refused group command inline and answers an unknown manager with 404', async () => {
    const { app } = setup();
    const refused = await postForm(app, '/managers/m-beta/resume');
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('Beta desk is not paused');
    expect((await postForm(app, '/managers/m-nope/pause')).status).toBe(404);
  });
});

describe('pause all trading', () => {
  it('pauses all trading with who and why and answers with the status bar showing the banner', async () => {
    const { app, api } = setup();
    const res = await postForm(app, '/platform/pause-all', { reason: 'exchange incident' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith('<header id="status-bar"')).toBe(true);
    expect(html).toContain('TRADING PAUSED');
    expect(html).toContain('<b class="paused-by">Ada Admin</b>');
    expect(html).toContain('exchange incident');
    expect(html).toContain('Resume All Trading');
    expect(api.platformStatus().tradingPaused).toBe(true);
    const page = await (await app.request('/bots')).text();
    expect(page).toContain('TRADING PAUSED');
  });

  it('requires a reason (400, message retargeted into the dialog)', async () => {
    const { app, api } = setup();
    const res = await postForm(app, '/platform/pause-all', { reason: '  ' });
    expect(res.status).toBe(400);
    expect(res.headers.get('hx-retarget')).toBe('#pause-all-error');
    expect(res.headers.get('hx-reswap')).toBe('innerHTML');
    expect(await res.text()).toContain('a reason is required');
    expect(api.calls.some((c) => c.method === 'pauseAll')).toBe(false);
  });

  it('shows a refused pause-all in the dialog with 409', async () => {
    const { app, api } = setup();
    api.refuseNext('the order gate is owned by another node');
    const res = await postForm(app, '/platform/pause-all', { reason: 'drill' });
    expect(res.status).toBe(409);
    expect(res.headers.get('hx-retarget')).toBe('#pause-all-error');
    expect(await res.text()).toContain('the order gate is owned by another node');
  });

  it('resumes all trading with a name and an optional reason', async () => {
    const { app, api } = setup();
    await postForm(app, '/platform/pause-all', { reason: 'drill' });
    const tooLong = await postForm(app, '/platform/resume-all', { reason: 'x'.repeat(501) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.headers.get('hx-retarget')).toBe('#resume-all-error');
    expect(await tooLong.text()).toContain('reason is too long');
    const res = await postForm(app, '/platform/resume-all', {});
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain('TRADING PAUSED');
    expect(html).toContain('Pause All Trading');
    expect(api.calls.find((c) => c.method === 'resumeAll')?.args[0]).toEqual({ by: 'Ada Admin', userId: 'u-admin', ip: 'unknown' });
  });
});

describe('assign strategy', () => {
  it('pins a bot to a version with params and refreshes its summary out of band', async () => {
    const { app, api } = setup();
    const res = await postForm(app, '/bots/t-0001/strategy', { ref: 'momentum@1', params: '{"lookback": 10}', by: 'Ada', reason: 'rollback' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('alpha-btc now runs momentum@1');
    expect(html).toContain('<hx-partial hx-target="#bot-summary" hx-swap="outerHTML"><section id="bot-summary"');
    expect(api.calls.find((c) => c.method === 'assignStrategy')?.args).toEqual([
      't-0001',
      { name: 'momentum', version: 1 },
      { lookback: 10 },
      { by: 'Ada Admin', reason: 'rollback', userId: 'u-admin', ip: 'unknown' },
    ]);
  });

  it('passes null params when the textarea is empty', async () => {
    const { app, api } = setup();
    const res = await postForm(app, '/bots/t-0001/strategy', { ref: 'equal-weight@1', params: '  ', by: 'Ada' });
    expect(res.status).toBe(200);
    expect(api.calls.find((c) => c.method === 'assignStrategy')?.args[2]).toBeNull();
  });

  it('answers bad JSON with 400 and the parser message', async () => {
    const { app, api } = setup();
    const res = await postForm(app, '/bots/t-0001/strategy', { ref: 'momentum@1', params: '{lookback: 10', by: 'Ada' });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/params: not valid JSON \(.+\)/);
    expect(api.calls.some((c) => c.method === 'assignStrategy')).toBe(false);
  });

  it('answers params that are not an object, a malformed version or a missing version with 400', async () => {
    const { app } = setup();
    const arr = await postForm(app, '/bots/t-0001/strategy', { ref: 'momentum@1', params: '[1,2]', by: 'Ada' });
    expect(arr.status).toBe(400);
    expect(await arr.text()).toContain('params: must be a JSON object');
    const ref = await postForm(app, '/bots/t-0001/strategy', { ref: 'momentum', params: '', by: 'Ada' });
    expect(ref.status).toBe(400);
    expect(await ref.text()).toContain('&quot;momentum&quot; is not a strategy version (name@version)');
    const none = await postForm(app, '/bots/t-0001/strategy', { params: '' });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('choose a strategy version');
  });

  it('shows the api refusal (unknown version, params rejected by the schema) inline with 409', async () => {
    const { app } = setup();
    const unknown = await postForm(app, '/bots/t-0001/strategy', { ref: 'momentum@9', params: '', by: 'Ada' });
    expect(unknown.status).toBe(409);
    expect(await unknown.text()).toContain('unknown strategy version momentum@9');
    const extra = await postForm(app, '/bots/t-0001/strategy', { ref: 'momentum@1', params: '{"bogus": 1}', by: 'Ada' });
    expect(extra.status).toBe(409);
    const html = await extra.text();
    expect(html).toContain('params: unrecognized key(s) bogus');
    expect(html).not.toContain('hx-partial');
  });

  it('answers an assignment for an unknown bot with 404', async () => {
    const { app } = setup();
    const res = await postForm(app, '/bots/t-9999/strategy', { ref: 'momentum@1', by: 'Ada' });
    expect(res.status).toBe(404);
  });
});

describe('settling a bot that reconciliation paused', () => {
  const flagged = { by: 'reconcile', reason: 'reconciliation: ETHUSDT: the venue holds long 3, the platform expects long 1', scope: 'risk' as const, at: 0 };

  it('offers Accept and Re-check on the bot page only when reconciliation holds it', async () => {
    const { app, api } = setup();
    api.updateBot('t-0001', { status: 'paused', stateDetail: 'paused', pause: flagged });
    const html = await (await app.request('/bots/t-0001')).text();
    expect(html).toContain('hx-post="/bots/t-0001/reconcile"');
    expect(html).toContain('data-action="reconcile-accept"');
    expect(html).toContain('data-action="reconcile-recheck"');
    const other = await (await app.request('/bots/t-0002')).text();
    expect(other).not.toContain('/reconcile"');
  });

  it('accepts the venue state as the signed-in user and answers the refreshed summary', async () => {
    const { app, api } = setup();
    api.updateBot('t-0001', { status: 'paused', stateDetail: 'paused', pause: flagged });
    const res = await postForm(app, '/bots/t-0001/reconcile', { decision: 'accept', reason: 'client added ETH by hand' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith('<section id="bot-summary"')).toBe(true);
    expect(html).toContain('data-state="running"');
    expect(html).toContain('venue state accepted, reconciliation pause lifted');
    expect(api.calls.find((c) => c.method === 'resolveReconciliation')?.args).toEqual([
      't-0001',
      'accept',
      { by: 'Ada Admin', reason: 'client added ETH by hand', userId: 'u-admin', ip: 'unknown' },
    ]);
  });

  it('refuses a bot that reconciliation does not hold with 409, and a bad decision with 400', async () => {
    const { app, api } = setup();
    const refused = await postForm(app, '/bots/t-0002/reconcile', { decision: 'recheck' });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('is not paused by reconciliation');
    const bad = await postForm(app, '/bots/t-0001/reconcile', { decision: 'ignore' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('decision must be accept or recheck');
    expect(api.calls.filter((c) => c.method === 'resolveReconciliation')).toHaveLength(1);
  });
});
