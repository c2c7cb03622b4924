/**
 * One's own exchange keys (`/account/exchange-keys`): each key with its venue, status (the
 * venue's reason when it refused the key), when it was last checked and which bots trade with
 * it; Check and Delete; and the form that adds a key, which is checked against its venue at once.
 * Secrets are never shown again, nor put back in a refused form.
 */
import type { FC } from 'hono/jsx';
import type { OwnKeyRow } from '../../runtime/admin.ts';
import { DASH, domId } from '../format.ts';
import { LIVE_VENUES } from '../new-bot.ts';
import { CsrfField, EmptyRow, Panel, Time } from './components.tsx';

/** DOM id of the part of the page the key commands replace (list, message and form). */
export const OWN_KEYS_SECTION_ID = 'own-keys-section';

/** The outcome of a key command, shown above the list. */
export interface OwnKeysMessage {
  readonly tone: 'ok' | 'bad' | 'warn' | 'info';
  readonly text: string;
}

/** What a refused add form shows again (never a credential). */
export interface AddKeyValues {
  readonly exchange?: string | undefined;
  readonly label?: string | undefined;
}

const VENUE_NAMES: Record<(typeof LIVE_VENUES)[number], string> = {
  binanceusdm: 'Binance USD-M futures',
  bybit: 'Bybit (Unified Trading Account)',
  okx: 'OKX',
  bitget: 'Bitget USDT-M futures',
};

const STATUS_WORDS: Record<string, string> = { valid: 'Valid', invalid: 'Invalid', unchecked: 'Unchecked', disabled: 'Disabled', revoked: 'Revoked' };
const STATUS_TONES: Record<string, string> = { valid: 'ok', invalid: 'bad', unchecked: 'info', disabled: 'warn', revoked: 'bad' };

/** The DOM id of a key's row. */
export const ownKeyRowId = (id: string) => domId('own-key', id);

const OwnKeyRowView: FC<{ k: OwnKeyRow; now: number; csrf: string }> = ({ k, now, csrf }) => {
  const path = `/account/exchange-keys/${encodeURIComponent(k.id)}`;
  const target = `#${OWN_KEYS_SECTION_ID}`;
  return (
    <tr id={ownKeyRowId(k.id)} class={`key-row${k.status === 'invalid' || k.status === 'revoked' ? ' row-error' : k.status === 'disabled' ? ' row-paused' : ''}`} data-key-id={k.id}>
      <td class="mono">{k.exchange}</td>
      <td>
        {k.label}
        <div class="sub mono">
          …{k.hint} · {k.id}
        </div>
      </td>
      <td>
        <span class={`badge keep-case tone-${STATUS_TONES[k.status] ?? 'info'}`} data-key-status={k.status}>
          {STATUS_WORDS[k.status] ?? k.status}
        </span>
        {k.statusReason ? <div class="sub key-reason">{k.statusReason}</div> : null}
        <div class="sub">
          {k.lastCheckedAt !== null ? (
            <>
              checked <Time ms={k.lastCheckedAt} now={now} />
            </>
          ) : (
            'not checked yet'
          )}
        </div>
      </td>
      <td>
        {k.bots.length === 0 ? (
          <span class="muted">{DASH}</span>
        ) : (
          k.bots.map((b) => (
            <div>
              <a href={`/bots/${encodeURIComponent(b.traderId)}`}>{b.traderName}</a>
            </div>
          ))
        )}
      </td>
      <td class="num">
        <Time ms={k.createdAt} now={now} />
      </td>
      <td class="col-actions">
        <div class="actions">
          {k.status !== 'revoked' && k.status !== 'disabled' ? (
            <form method="post" action={`${path}/check`} hx-post={`${path}/check`} hx-target={target} hx-swap="outerHTML" class="inline-form">
              <CsrfField token={csrf} />
              <button type="submit" class="btn btn-sm" data-action="check-key">
                Check now
              </button>
            </form>
          ) : null}
          <details class="inline-action" data-action="delete-key">
            <summary class="btn btn-sm btn-danger">Delete</summary>
            <form method="post" action={`${path}/delete`} hx-post={`${path}/delete`} hx-target={target} hx-swap="outerHTML" class="form reason-form">
              <CsrfField token={csrf} />
              <input name="reason" maxlength={500} placeholder="Reason (optional)" aria-label="Reason to delete the key" />
              <button type="submit" class="btn btn-sm btn-danger">
                Delete for good
              </button>
            </form>
          </details>
        </div>
      </td>
    </tr>
  );
};

/** The add-key form. */
const AddKeyForm: FC<{ csrf: string; values: AddKeyValues }> = ({ csrf, values }) => (
  <form
    method="post"
    action="/account/exchange-keys"
    hx-post="/account/exchange-keys"
    hx-target={`#${OWN_KEYS_SECTION_ID}`}
    hx-swap="outerHTML"
    class="form add-key-form"
    id="add-key-form"
    autocomplete="off"
  >
    <CsrfField token={csrf} />
    <div class="form-row">
      <label class="field grow">
        <span>Venue</span>
        <select name="exchange" required id="key-exchange">
          {LIVE_VENUES.map((v) => (
            <option value={v} selected={values.exchange === v}>
              {v} — {VENUE_NAMES[v]}
            </option>
          ))}
        </select>
      </label>
      <label class="field grow">
        <span>Label</span>
        <input name="label" required maxlength={100} value={values.label ?? ''} placeholder="e.g. main account, sub-account 2" />
      </label>
    </div>
    <div class="form-row">
      <label class="field grow">
        <span>API key</span>
        <input type="password" name="apiKey" required maxlength={256} autocomplete="off" spellcheck={false} class="mono" />
      </label>
      <label class="field grow">
        <span>Secret</span>
        <input type="password" name="secret" required maxlength={8192} autocomplete="off" spellcheck={false} class="mono" />
      </label>
      <label class="field grow">
        <span>Passphrase (OKX and Bitget only)</span>
        <input type="password" name="passphrase" maxlength={128} autocomplete="off" spellcheck={false} aria-describedby="passphrase-note" />
      </label>
    </div>
    <p class="small muted field-note" id="passphrase-note">
      The passphrase is required for okx and bitget keys (the one chosen when the key was created); binanceusdm and bybit keys take none — leave it empty.
    </p>
    <div class="form-actions">
      <button type="submit" class="btn btn-primary" id="add-key-submit">
        Add and check key
      </button>
      <span class="small muted">The key is checked against the venue as soon as it is saved.</span>
    </div>
  </form>
);

/** The list, the last command's message and the add form (what every key command replaces). */
export const OwnKeysSection: FC<{ keys: readonly OwnKeyRow[]; csrf: string; now: number; message?: OwnKeysMessage | undefined; values?: AddKeyValues | undefined }> = ({
  keys,
  csrf,
  now,
  message,
  values,
}) => (
  <div id={OWN_KEYS_SECTION_ID} class="stack">
    {message ? (
      <div class={`notice notice-${message.tone} page-notice`} role={message.tone === 'bad' ? 'alert' : 'status'} id="own-keys-message" data-tone={message.tone}>
        {message.text}
      </div>
    ) : null}
    <Panel title="Your exchange keys" count={keys.length} id="own-keys-panel">
      <div class="table-wrap">
        <table class="grid" id="own-keys-table">
          <thead>
            <tr>
              <th>Venue</th>
              <th>Key</th>
              <th>Status</th>
              <th>Used by</th>
              <th class="num">Added</th>
              <th class="col-actions">Actions</th>
            </tr>
          </thead>
          <tbody id="own-keys-body">
            {keys.length === 0 ? <EmptyRow cols={6} text="No exchange keys yet: add one below." /> : keys.map((k) => <OwnKeyRowView k={k} now={now} csrf={csrf} />)}
          </tbody>
        </table>
      </div>
    </Panel>
    <Panel title="Add exchange key" id="add-key-panel">
      <AddKeyForm csrf={csrf} values={values ?? {}} />
    </Panel>
  </div>
);

/** The exchange keys page. */
export const OwnKeysPage: FC<{ keys: readonly OwnKeyRow[]; csrf: string; now: number; message?: OwnKeysMessage | undefined; values?: AddKeyValues | undefined }> = (props) => (
  <div class="page" id="own-keys-page">
    <div class="crumbs">
      <a href="/account">Account</a> › <span>Exchange keys</span>
    </div>
    <div class="page-head">
      <h1>Exchange keys</h1>
    </div>
    <OwnKeysSection {...props} />
    <Panel title="What a key needs">
      <ul class="key-needs small">
        <li>Reading the account and trading USDT perpetuals (futures / derivatives / contract trading).</li>
        <li>
          <b>Withdrawals off.</b> The platform never withdraws, and does not check that they are off.
        </li>
        <li>One-way (net) position mode. Allow only this platform's address on the key's IP allow-list.</li>
        <li>One bot per key: positions belong to the account, so a key another bot already trades with is refused (use a sub-account key per bot).</li>
      </ul>
      <p class="small muted">
        Secrets are sealed at rest and never shown again: a key is listed by the last four characters of its API key. A key is checked when it is saved, when
        you press Check now, and every 15 minutes while it is in use; a key the venue refuses is marked invalid with the venue's reason.
      </p>
    </Panel>
  </div>
);
