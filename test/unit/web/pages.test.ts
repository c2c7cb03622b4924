import { describe, expect, it } from 'vitest';
import { HX, setup } from './support.ts';

describe('console pages', () => {
  it('redirects / to /bots', async () => {
    const { app } = setup();
    const res = await app.request('/');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/bots');
  });

  it('renders the bots page as a whole page with every bot, its state badge and the status bar', async () => {
    const { app } = setup();
    const res = await app.request('/bots');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    for (const name of ['alpha-btc', 'alpha-eth', 'beta-eq', 'beta-sol']) expect(html).toContain(name);
    expect(html).toContain('id="bot-t-0001"');
    expect(html).toContain('class="badge state-running"');
    expect(html).toContain('<span class="badge-sub">computing</span>');
    expect(html).toContain('+2.35 %');
    expect(html).toContain('10,234.56');
    expect(html).toContain('id="status-bar"');
    expect(html).toContain('Pause All Trading');
    expect(html).toContain('hx-sse:connect="/events?view=bots"');
    expect(html).toContain('<script src="/static/htmx.js"></script>');
  });

  it('shows pause who and why in the badge title and the error message of a failed bot', async () => {
    const { app } = setup();
    const html = await (await app.request('/bots')).text();
    expect(html).toContain('Paused by risk (risk) at 2026-11-21 11:00:00 UTC: daily stop-loss hit (-5.0 %)');
    expect(html).toContain('strategy threw: TypeError: Cannot read properties of undefined');
    expect(html).toContain('<span class="badge-flag">escalated</span>');
  });

  it('shows a dash, not a number, when a bot has no portfolio value or ROE yet', async () => {
    const { app } = setup();
    const html = await (await app.request('/bots')).text();
    const row = html.slice(html.indexOf('id="bot-t-0004"'), html.indexOf('</tr>', html.indexOf('id="bot-t-0004"')));
    expect(row).toContain('<td class="num"><span>—</span></td>');
    expect(row).toContain('<td class="num"><span class="">—</span></td>');
  });

  it('renders only the page content when htmx asks for it', async () => {
    const { app } = setup();
    const res = await app.request('/bots', { headers: HX });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).not.toContain('<html');
    expect(html).not.toContain('id="status-bar"');
    expect(html).toContain('id="bots-page"');
  });

  it('filters the bots by manager and keeps the filter in the live stream URL', async () => {
    const { app } = setup();
    const html = await (await app.request('/bots?manager=m-beta')).text();
    expect(html).toContain('beta-eq');
    expect(html).not.toContain('alpha-btc</a>');
    expect(html).toContain('hx-sse:connect="/events?view=bots&amp;manager=m-beta"');
  });

  it('filters the bots by state and by search text', async () => {
    const { app } = setup();
    const paused = await (await app.request('/bots?status=paused')).text();
    expect(paused).toContain('alpha-eth');
    expect(paused).not.toContain('id="bot-t-0001"');
    const search = await (await app.request('/bots?q=sol')).text();
    expect(search).toContain('id="bot-t-0004"');
    expect(search).not.toContain('id="bot-t-0003"');
  });

  it('answers an invalid filter with 400 and a readable message', async () => {
    const { app } = setup();
    const res = await app.request('/bots?status=sleeping');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('state must be one of starting, running, paused, error, stopped');
  });

  it('pages a large fleet a hundred rows at a time', async () => {
    const { app, api } = setup();
    api.addBots(150);
    const first = await (await app.request('/bots')).text();
    expect(first.match(/class="bot-row /g)).toHaveLength(100);
    expect(first).toContain('1–100 of 154');
    const second = await (await app.request('/bots?page=2')).text();
    expect(second.match(/class="bot-row /g)).toHaveLength(54);
    expect(second).toContain('hx-sse:connect="/events?view=bots&amp;page=2"');
  });

  it('lists the managers with group pause buttons', async () => {
    const { app } = setup();
    const html = await (await app.request('/bots')).text();
    expect(html).toContain('id="mgr-m-alpha"');
    expect(html).toContain('hx-post="/managers/m-beta/pause"');
  });

  it('renders a bot detail page with params, positions, decision records, orders and the assign form', async () => {
    const { app } = setup();
    const res = await app.request('/bots/t-0001');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="bot-summary"');
    expect(html).toContain('&quot;lookback&quot;: 30');
    expect(html).toContain('97,250.0');
    expect(html).toContain('t-0001:1795262340000');
    expect(html).toContain('2026-11-20 05:59:00 → 2026-11-21 11:59:00');
    expect(html).toContain('order notional 2450.10 exceeds the limit 2000');
    expect(html).toContain('>denied</span>');
    expect(html).toContain('>filled</span>');
    expect(html).toContain('under SOLUSDT&#39;s minimum 5');
    expect(html).toContain('strategy timed out after 2000 ms');
    expect(html).toContain('pT0001BTCbuy');
    expect(html).toContain('hx-post="/bots/t-0001/strategy"');
    expect(html).toContain('<option value="momentum@2" selected="">momentum@2');
    expect(html).toContain('&quot;volTarget&quot;: 0.2');
    expect(html).toContain('hx-sse:connect="/events?view=bot&amp;id=t-0001"');
  });

  it('answers an unknown bot id with a 404 page', async () => {
    const { app } = setup();
    const res = await app.request('/bots/t-9999');
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('No trader with id &quot;t-9999&quot;.');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('swaps the assign fields to the defaults of the chosen version', async () => {
    const { app } = setup();
    const res = await app.request('/bots/t-0001/assign-fields?ref=equal-weight%401', { headers: HX });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<option value="equal-weight@1" selected="">');
    expect(html).toContain('&quot;threshold&quot;: 0.05');
    expect(html).not.toContain('<html');
  });

  it('renders the strategies page with versions, pinned traders and the broken file with its error', async () => {
    const { app } = setup();
    const res = await app.request('/strategies');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-ref="momentum@2"');
    expect(html).toContain('b2c3d4e5f6');
    expect(html).toContain('Momentum with volatility scaling.');
    expect(html).toContain('half-done.ts');
    expect(html).toContain('>broken</span>');
    expect(html).toContain('SyntaxError: Unexpected token (12:7)');
    expect(html).toContain('1 broken');
    expect(html).toContain('hx-sse:connect="/events?view=strategies"');
  });

  it('renders the latest events and validates the limit', async () => {
    const { app, api } = setup();
    const res = await app.request('/events/recent?limit=1');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('trader.failed');
    expect(html).not.toContain('trader.paused');
    expect(api.calls.some((c) => c.method === 'recentEvents' && c.args[0] === 1)).toBe(true);
    // Every limit the page accepts reaches the runtime as asked, and the selector shows it.
    for (const limit of [1000, 300]) {
      const page = await app.request(`/events/recent?limit=${limit}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(new RegExp(`<option value="${limit}" selected`));
      expect(api.calls.some((c) => c.method === 'recentEvents' && c.args[0] === limit)).toBe(true);
    }
    const bad = await app.request('/events/recent?limit=5000');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('limit must be at most 1000');
  });

  it('redirects /timeline to the events page', async () => {
    const { app } = setup();
    const res = await app.request('/timeline');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/events/recent');
  });

  it('answers /health with the api health as JSON and 200 when ok', async () => {
    const { app } = setup();
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { status: string; traders: number };
    expect(body.status).toBe('ok');
    expect(body.traders).toBe(4);
  });

  it('answers /health with 503 when degraded or when the check throws', async () => {
    const { app, api } = setup();
    api.setHealth({ status: 'degraded', databaseOk: false });
    const res = await app.request('/health');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { status: string }).status).toBe('degraded');
    api.health = () => Promise.reject(new Error('database unreachable'));
    const failed = await app.request('/health');
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ status: 'degraded', error: 'database unreachable' });
  });

  it('renders the health page for a person', async () => {
    const { app } = setup();
    const html = await (await app.request('/status')).text();
    expect(html).toContain('pglite');
    expect(html).toContain('1h 2m');
    expect(html).toContain('1m 30s');
  });

  it('answers an unknown path with a 404 page', async () => {
    const { app } = setup();
    const res = await app.request('/nowhere');
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('There is no page at /nowhere.');
  });

  it('answers a thrown error with a 500 page that leaks no stack', async () => {
    const { app, api } = setup();
    api.strategies = () => Promise.reject(new Error('secret internals at /srv/app.ts:12'));
    const res = await app.request('/strategies');
    expect(res.status).toBe(500);
    const html = await res.text();
    expect(html).toContain('The console hit an internal error');
    expect(html).not.toContain('secret internals');
    expect(html).not.toContain('app.ts:12');
  });

  it('sends a CSP that allows scripts and styles only from the console itself', async () => {
    const { app } = setup();
    const res = await app.request('/bots');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });
});

describe('static assets', () => {
  it('serves htmx, the SSE extension and the console assets with their content types', async () => {
    const { app } = setup();
    const htmx = await app.request('/static/htmx.js');
    expect(htmx.status).toBe(200);
    expect(htmx.headers.get('content-type')).toContain('javascript');
    expect(await htmx.text()).toContain("this.version = '4.0.1'");
    const sse = await app.request('/static/ext/hx-sse.js');
    expect(await sse.text()).toContain("registerExtension('sse'");
    const css = await app.request('/static/app.css');
    expect(css.headers.get('content-type')).toContain('text/css');
    expect((await app.request('/static/app.js')).status).toBe(200);
    expect((await app.request('/static/favicon.svg')).headers.get('content-type')).toBe('image/svg+xml');
  });

  it('revalidates by ETag and compresses when the client accepts gzip', async () => {
    const { app } = setup();
    const first = await app.request('/static/app.css');
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await app.request('/static/app.css', { headers: { 'If-None-Match': etag! } });
    expect(again.status).toBe(304);
    const gz = await app.request('/static/htmx.js', { headers: { 'Accept-Encoding': 'gzip, br' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
  });

  it('never serves a file outside the fixed list', async () => {
    const { app } = setup();
    expect((await app.request('/static/../package.json')).status).toBe(404);
    expect((await app.request('/static/htmx.min.js')).status).toBe(404);
  });
});
