/**
 * Small presentational pieces shared by every console view: badges, numbers, times.
 */
import type { FC, PropsWithChildren } from 'hono/jsx';
import type { BotRow } from '../../runtime/api.ts';
import type { ErrorInfo, PauseInfo } from '../../runtime/domain.ts';
import {
  DASH,
  formatDateTime,
  formatMoney,
  formatPct,
  formatTime,
  isoTime,
  shownPrice,
  signClass,
} from '../format.ts';

/** Human sentence for a pause: who, at what scope, why, when. */
export function pauseText(p: PauseInfo): string {
  return `Paused by ${p.by} (${p.scope}) at ${formatDateTime(p.at)} UTC: ${p.reason}`;
}

/** Human sentence for an error: kind, when, message. */
export function errorText(e: ErrorInfo): string {
  return `${e.kind} error at ${formatDateTime(e.at)} UTC${e.retryable ? ' (retryable)' : ''}: ${e.message}`;
}

/** The detail part of a state path: `running.computing` → `computing`. */
export function stateSubstate(bot: Pick<BotRow, 'status' | 'stateDetail'>): string {
  const d = bot.stateDetail ?? '';
  if (d === bot.status || d === '') return '';
  return d.startsWith(`${bot.status}.`) ? d.slice(bot.status.length + 1) : d;
}

/** The coloured state badge of a bot, with pause or error details in its title. */
export const StateBadge: FC<{ bot: BotRow }> = ({ bot }) => {
  const sub = stateSubstate(bot);
  const titles: string[] = [bot.stateDetail || bot.status];
  if (bot.pause) titles.push(pauseText(bot.pause));
  if (bot.error) titles.push(errorText(bot.error));
  if (bot.escalated) titles.push('Escalated after too many restarts: only an operator restart brings it back.');
  return (
    <span class={`badge state-${bot.status}`} title={titles.join('\n')} data-state={bot.status}>
      {bot.status}
      {sub ? <span class="badge-sub">{sub}</span> : null}
      {bot.escalated ? <span class="badge-flag">escalated</span> : null}
    </span>
  );
};

/** A generic badge with a tone class. */
export const Badge: FC<PropsWithChildren<{ tone: string; title?: string | undefined }>> = ({ tone, title, children }) => (
  <span class={`badge tone-${tone}`} title={title}>
    {children}
  </span>
);

/** A money value (decimal string), coloured by sign when `signed`. */
export const Money: FC<{ value: string | null | undefined; signed?: boolean; decimals?: number }> = ({
  value,
  signed,
  decimals,
}) => <span class={signed ? signClass(value) : undefined}>{formatMoney(value, decimals)}</span>;

/** A price table cell: long averages shortened by `formatPrice`, the exact value in the title. */
export const PriceCell: FC<{ value: string | null | undefined }> = ({ value }) => {
  const shown = shownPrice(value);
  return (
    <td class="num" title={shown.rounded ? (value ?? undefined) : undefined}>
      {shown.text}
    </td>
  );
};

/** A fraction shown as a signed, coloured percentage. */
export const Pct: FC<{ value: number | null | undefined }> = ({ value }) => (
  <span class={signClass(value)}>{formatPct(value)}</span>
);

/** A compact UTC time with the full ISO time as its title. */
export const Time: FC<{ ms: number | null | undefined; now: number; full?: boolean }> = ({ ms, now, full }) => {
  if (ms === null || ms === undefined) return <span class="muted">{DASH}</span>;
  return (
    <time datetime={isoTime(ms)} title={isoTime(ms)}>
      {full ? formatDateTime(ms) : formatTime(ms, now)}
    </time>
  );
};

/** A section with a heading and an optional toolbar. */
export const Panel: FC<PropsWithChildren<{ title: string; id?: string; tools?: unknown; count?: number | undefined }>> = ({
  title,
  id,
  tools,
  count,
  children,
}) => (
  <section class="panel" id={id}>
    <div class="panel-head">
      <h2>
        {title}
        {count !== undefined ? <span class="panel-count">{count}</span> : null}
      </h2>
      {tools ? <div class="panel-tools">{tools}</div> : null}
    </div>
    <div class="panel-body">{children}</div>
  </section>
);

/** A row shown when a table has nothing to list. */
export const EmptyRow: FC<{ cols: number; text: string }> = ({ cols, text }) => (
  <tr class="empty">
    <td colspan={cols}>{text}</td>
  </tr>
);

/** The hidden CSRF field every POST form carries (htmx sends the `X-CSRF-Token` header as well). */
export const CsrfField: FC<{ token: string }> = ({ token }) => <input type="hidden" name="_csrf" value={token} />;

/** One choice of a filter dropdown: a plain value, or a value with its own label. */
export type FilterOption = string | { readonly value: string; readonly label: string };

/**
 * A filter bar's dropdown: a label, an "any" choice that clears the filter, then the options,
 * with the current value selected.
 */
export const FilterSelect: FC<{ label: string; name: string; any: string; value: string | undefined; options: readonly FilterOption[] }> = ({
  label,
  name,
  any,
  value,
  options,
}) => (
  <label class="inline-field">
    <span>{label}</span>
    <select name={name}>
      <option value="">{any}</option>
      {options.map((o) => {
        const v = typeof o === 'string' ? o : o.value;
        return (
          <option value={v} selected={value === v}>
            {typeof o === 'string' ? o : o.label}
          </option>
        );
      })}
    </select>
  </label>
);
