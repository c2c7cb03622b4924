/**
 * One's own exchange keys: the list, Add (checked against the venue at once: the answer shows
 * the verdict), Check now and Delete. Every command answers with the keys section: an htmx
 * request gets the fragment, a plain form post the whole page (with the command's 4xx on a
 * refusal). Credentials are passed to the admin layer and never logged, shown or echoed back.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AdminApi } from '../../runtime/admin.ts';
import { validationText } from '../../runtime/admin.ts';
import { MAX_REASON } from '../api/schemas.ts';
import { principalOf } from '../auth.ts';
import { LIVE_VENUES } from '../new-bot.ts';
import { accessOf, isHtmx, sendError, sendFragment, sendPage } from '../respond.tsx';
import type { Status } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm } from '../validate.ts';
import { OwnKeysPage, OwnKeysSection, type AddKeyValues, type OwnKeysMessage } from '../views/exchange-keys.tsx';
import { callerOf, pathId, resultStatus, withAdmin } from './users.tsx';

// Only presence, type and size here: the admin layer validates each field (NewKeyInput) and
// words the problems without ever repeating a value.
const addForm = z.object({
  exchange: z.enum(LIVE_VENUES, { error: () => `the venue must be one of ${LIVE_VENUES.join(', ')}` }),
  label: z.string({ error: () => 'the label is required' }).max(100, 'the label is longer than 100 characters'),
  apiKey: z.string({ error: () => 'the API key is required' }).max(256, 'the API key is longer than 256 characters'),
  secret: z.string({ error: () => 'the secret is required' }).max(8192, 'the secret is longer than 8192 characters'),
  passphrase: z.preprocess(emptyToUndefined, z.string({ error: () => 'the passphrase must be text' }).max(128, 'the passphrase is longer than 128 characters').optional()),
});

const deleteForm = z.object({
  reason: z.preprocess(emptyToUndefined, z.string({ error: () => 'the reason must be text' }).trim().max(MAX_REASON, `the reason is longer than ${MAX_REASON} characters`).optional()),
});

const TONE = { valid: 'ok', invalid: 'bad', unreachable: 'warn', skipped: 'info' } as const;

/** Routes of one's own exchange keys. */
export function exchangeKeysRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  /** The keys section (htmx) or the whole page, with a message. */
  const answer = async (c: Context<AppEnv>, admin: AdminApi, message?: OwnKeysMessage, status: Status = 200, values?: AddKeyValues) => {
    const keys = await admin.userKeys(principalOf(c).userId);
    const props = { keys, csrf: accessOf(c).csrf, now: deps.now(), message, values };
    if (isHtmx(c)) return sendFragment(c, <OwnKeysSection {...props} />, status);
    return sendPage(c, deps, { title: 'Exchange keys', active: 'account', live: null, status }, <OwnKeysPage {...props} />);
  };

  app.get(
    '/account/exchange-keys',
    withAdmin(deps, (c, admin) => answer(c, admin)),
  );

  app.post(
    '/account/exchange-keys',
    withAdmin(deps, async (c, admin) => {
      let raw: Record<string, unknown> = {};
      try {
        raw = await c.req.parseBody();
      } catch {
        // parseForm answers an unreadable body.
      }
      const values: AddKeyValues = {
        exchange: typeof raw['exchange'] === 'string' ? raw['exchange'] : undefined,
        label: typeof raw['label'] === 'string' ? raw['label'].slice(0, 100) : undefined,
      };
      const form = await parseForm(c, addForm);
      if (!form.ok) return answer(c, admin, { tone: 'bad', text: `Key not added: ${form.message}.` }, 400, values);
      const f = form.data;
      const r = await admin.addKey(
        { userId: principalOf(c).userId, exchange: f.exchange, label: f.label, apiKey: f.apiKey, secret: f.secret, ...(f.passphrase !== undefined ? { passphrase: f.passphrase } : {}) },
        callerOf(c),
      );
      deps.log.info({ cmd: 'exchange_key.add', exchange: f.exchange, ok: r.ok, key: r.ok ? r.value.key.id : null, check: r.ok ? r.value.validation.status : null }, 'console command');
      if (!r.ok) return answer(c, admin, { tone: 'bad', text: `Key not added: ${r.error}.` }, resultStatus(r), values);
      const { key, validation } = r.value;
      return answer(c, admin, {
        tone: TONE[validation.status],
        text: `Added ${key.exchange} key “${key.label}” (…${key.hint}). ${validationText(key.exchange, validation)}`,
      });
    }),
  );

  app.post(
    '/account/exchange-keys/:id/check',
    withAdmin(deps, async (c, admin) => {
      const id = pathId.safeParse(c.req.param('id'));
      if (!id.success) return sendError(c, deps, 400, `Invalid key id: ${id.error.issues[0]?.message ?? 'malformed'}.`);
      const r = await admin.checkKey(id.data, callerOf(c));
      deps.log.info({ cmd: 'exchange_key.check', key: id.data, ok: r.ok, check: r.ok ? r.value.validation.status : null }, 'console command');
      if (!r.ok) return answer(c, admin, { tone: 'bad', text: `Not checked: ${r.error}.` }, resultStatus(r));
      const { key, validation } = r.value;
      return answer(c, admin, { tone: TONE[validation.status], text: `${key.exchange} key “${key.label}” (…${key.hint}): ${validationText(key.exchange, validation)}` });
    }),
  );

  app.post(
    '/account/exchange-keys/:id/delete',
    withAdmin(deps, async (c, admin) => {
      const id = pathId.safeParse(c.req.param('id'));
      if (!id.success) return sendError(c, deps, 400, `Invalid key id: ${id.error.issues[0]?.message ?? 'malformed'}.`);
      const form = await parseForm(c, deleteForm);
      if (!form.ok) return answer(c, admin, { tone: 'bad', text: `Not deleted: ${form.message}.` }, 400);
      const r = await admin.deleteKey(id.data, callerOf(c), form.data.reason);
      deps.log.info({ cmd: 'exchange_key.delete', key: id.data, ok: r.ok }, 'console command');
      if (!r.ok) return answer(c, admin, { tone: 'bad', text: `Not deleted: ${r.error}.` }, resultStatus(r));
      return answer(c, admin, { tone: 'ok', text: `Deleted ${r.value.exchange} key “${r.value.label}” (…${r.value.hint}).` });
    }),
  );

  return app;
}
