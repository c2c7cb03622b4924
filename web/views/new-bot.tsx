/**
 * The new-bot page: name, owner, group, strategy version and params, where it trades (paper or
 * one of the owner's exchange keys, refetched when the owner changes), capital, leverage and
 * whether it starts paused. A refused form comes back with its message and what was entered.
 */
import type { FC } from 'hono/jsx';
import type { OwnKeyRow } from '../../runtime/admin.ts';
import type { ManagerRow, StrategyVersionRow } from '../../runtime/api.ts';
import type { OwnerChoice } from '../new-bot.ts';
import { MAX_BOT_NAME, MAX_LEVERAGE } from '../new-bot.ts';
import { AssignFields } from './bot-detail.tsx';
import { CsrfField, Panel } from './components.tsx';

/** DOM id of the form (a refused post replaces it). */
export const NEW_BOT_FORM_ID = 'new-bot-form';
/** DOM id of the venue field's wrapper (replaced when the owner changes). */
export const BOT_ACCOUNT_FIELD_ID = 'bot-account-field';
/** DOM id of the strategy fields' wrapper (replaced when the version changes). */
export const BOT_STRATEGY_FIELDS_ID = 'bot-strategy-fields';

/** What the form shows in its fields (as typed). */
export interface NewBotValues {
  readonly name: string;
  readonly userId: string;
  readonly managerId: string;
  readonly ref: string;
  /** The params as typed; undefined shows the version's defaults. */
  readonly params: string | undefined;
  /** `paper` or an exchange key id. */
  readonly account: string;
  readonly initialCapital: string;
  readonly leverage: string;
  readonly startPaused: boolean;
}

/** The form's starting values. */
export const NEW_BOT_DEFAULTS: NewBotValues = {
  name: '',
  userId: '',
  managerId: '',
  ref: '',
  params: undefined,
  account: 'paper',
  initialCapital: '10000',
  leverage: '1',
  startPaused: false,
};

const STATUS_WORD: Record<string, string> = { valid: 'Valid', unchecked: 'Unchecked' };

/** The venue select: paper, or one of the owner's usable keys (`binanceusdm — label (Valid)`). */
export const BotAccountField: FC<{ keys: readonly OwnKeyRow[]; selected: string; keysUnavailable?: string | undefined }> = ({ keys, selected, keysUnavailable }) => (
  <>
    <label class="field">
      <span>Venue</span>
      <select name="account" required id="bot-account">
        <option value="paper" selected={selected === 'paper'}>
          paper — simulated account funded with the initial capital
        </option>
        {keys.map((k) => (
          <option value={k.id} selected={selected === k.id} data-venue={k.exchange}>
            {k.exchange} — {k.label} ({STATUS_WORD[k.status] ?? k.status})
          </option>
        ))}
      </select>
    </label>
    <p class="small muted field-note" id="bot-account-note">
      {keysUnavailable
        ? `Exchange keys are unavailable: ${keysUnavailable}`
        : keys.length === 0
          ? 'The owner has no usable exchange key (valid or not yet checked): paper only. Keys are added on the owner’s Exchange keys page.'
          : `${keys.length} usable exchange key${keys.length === 1 ? '' : 's'} of the owner. A live bot trades that account for real.`}
    </p>
  </>
);

/** Props of the form. */
export interface NewBotFormProps {
  readonly owners: readonly OwnerChoice[];
  readonly groups: readonly ManagerRow[];
  readonly versions: readonly StrategyVersionRow[];
  readonly versionsError?: string | undefined;
  /** The selected owner's usable keys. */
  readonly keys: readonly OwnKeyRow[];
  readonly keysUnavailable?: string | undefined;
  readonly values: NewBotValues;
  readonly message?: string | undefined;
  readonly csrf: string;
}

/** The new-bot form. */
export const NewBotForm: FC<NewBotFormProps> = ({ owners, groups, versions, versionsError, keys, keysUnavailable, values, message, csrf }) => {
  const blocked = versionsError
    ? `Strategy versions are unavailable: ${versionsError}`
    : versions.length === 0
      ? 'No strategy version is registered yet: add a strategy file first.'
      : groups.length === 0
        ? 'There is no group you may create bots in.'
        : null;
  return (
    <form id={NEW_BOT_FORM_ID} class="form new-bot-form" method="post" action="/bots" hx-post="/bots" hx-target={`#${NEW_BOT_FORM_ID}`} hx-swap="outerHTML">
      <CsrfField token={csrf} />
      {message ? (
        <div class="notice notice-bad" role="alert" id="new-bot-error">
          {message}
        </div>
      ) : null}
      {blocked ? <div class="notice notice-warn">{blocked}</div> : null}
      <div class="form-grid">
        <div>
          <label class="field">
            <span>Name</span>
            <input name="name" required maxlength={MAX_BOT_NAME} value={values.name} placeholder="e.g. alpha-btc-momentum" autocomplete="off" />
          </label>
          <div class="form-row">
            <label class="field grow">
              <span>Owner</span>
              <select
                name="userId"
                required
                id="bot-owner"
                hx-get="/bots/new/keys"
                hx-target={`#${BOT_ACCOUNT_FIELD_ID}`}
                hx-swap="innerHTML"
              >
                {owners.map((o) => (
                  <option value={o.id} selected={o.id === values.userId}>
                    {o.name} ({o.email}, {o.role})
                  </option>
                ))}
              </select>
            </label>
            <label class="field grow">
              <span>Group</span>
              <select name="managerId" required id="bot-group">
                {groups.map((m) => (
                  <option value={m.id} selected={m.id === values.managerId}>
                    {m.name}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div id={BOT_ACCOUNT_FIELD_ID}>
            <BotAccountField keys={keys} selected={values.account} keysUnavailable={keysUnavailable} />
          </div>
          <div class="form-row">
            <label class="field grow">
              <span>Initial capital (USDT)</span>
              <input name="initialCapital" required inputmode="decimal" maxlength={24} value={values.initialCapital} pattern="\d{1,12}(\.\d{1,8})?" />
            </label>
            <label class="field grow">
              <span>Leverage (1–{MAX_LEVERAGE})</span>
              <input name="leverage" type="number" required min={1} max={MAX_LEVERAGE} step={1} value={values.leverage} />
            </label>
          </div>
          <label class="check-field">
            <input type="checkbox" name="startPaused" value="on" checked={values.startPaused} />
            <span>Start paused (resume it from its page when ready)</span>
          </label>
        </div>
        <div id={BOT_STRATEGY_FIELDS_ID}>
          {versions.length > 0 ? (
            <AssignFields
              fieldsUrl="/bots/new/strategy-fields"
              target={`#${BOT_STRATEGY_FIELDS_ID}`}
              versions={versions}
              selected={values.ref || null}
              paramsText={values.params}
            />
          ) : null}
        </div>
      </div>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" id="new-bot-submit" disabled={blocked !== null}>
          Create bot
        </button>
        <a class="btn btn-link" href="/bots">
          Cancel
        </a>
      </div>
    </form>
  );
};

/** The new-bot page. */
export const NewBotPage: FC<NewBotFormProps> = (props) => (
  <div class="page" id="new-bot-page">
    <div class="crumbs">
      <a href="/bots">Bots</a> › <span>New bot</span>
    </div>
    <div class="page-head">
      <h1>New bot</h1>
    </div>
    <Panel title="Bot">
      <NewBotForm {...props} />
    </Panel>
  </div>
);
