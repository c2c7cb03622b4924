/**
 * The bots page's filter (manager, state, text, page): parsed with zod from the query string,
 * applied to `listBots()`, and shared with the live stream so both agree on what a page shows.
 */
import { z } from 'zod';
import type { BotRow } from '../runtime/api.ts';
import { TraderStatus } from '../runtime/domain.ts';
import { emptyToUndefined, wholeNumber } from './validate.ts';

/** Rows per page of the bots table. */
export const PAGE_SIZE = 100;


/** The query-string schema of the bots page. */
export const botFilterSchema = z.object({
  manager: z.preprocess(emptyToUndefined, z.string().trim().max(200).optional()),
  status: z.preprocess(
    emptyToUndefined,
    z
      .enum(Object.values(TraderStatus) as [TraderStatus, ...TraderStatus[]], {
        error: () => `state must be one of ${Object.values(TraderStatus).join(', ')}`,
      })
      .optional(),
  ),
  q: z.preprocess(emptyToUndefined, z.string().trim().max(200, 'search text is too long').optional()),
  page: z.preprocess(
    emptyToUndefined,
    wholeNumber('page', 1, 1_000_000).default(1),
  ),
});

/** A parsed bots filter. */
export type BotFilter = z.output<typeof botFilterSchema>;

/** The filter of an unfiltered first page. */
export const NO_FILTER: BotFilter = { page: 1 };

/** True when the bot passes the filters that never change for a bot over time (manager, text). */
export function matchesStable(bot: BotRow, f: BotFilter): boolean {
  if (f.manager && bot.managerId !== f.manager) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    const hay = `${bot.id} ${bot.name} ${bot.userName} ${bot.userId} ${bot.strategy} ${bot.managerName}`.toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}

/** True when the bot passes every filter. */
export function matches(bot: BotRow, f: BotFilter): boolean {
  return matchesStable(bot, f) && (!f.status || bot.status === f.status);
}

/** One page of filtered bots. */
export interface BotSelection {
  readonly rows: readonly BotRow[];
  readonly total: number;
  readonly page: number;
  readonly pages: number;
}

/** Applies a filter and cuts out its page (a page past the end shows the last one). */
export function selectBots(all: readonly BotRow[], f: BotFilter): BotSelection {
  const filtered = all.filter((b) => matches(b, f));
  const pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
  const page = Math.min(f.page, pages);
  const start = (page - 1) * PAGE_SIZE;
  return { rows: filtered.slice(start, start + PAGE_SIZE), total: filtered.length, page, pages };
}

/** The query string of a filter (without defaults), e.g. `manager=m-1&page=2`. */
export function filterQuery(f: BotFilter, overrides: Partial<BotFilter> = {}): string {
  const merged = { ...f, ...overrides };
  const p = new URLSearchParams();
  if (merged.manager) p.set('manager', merged.manager);
  if (merged.status) p.set('status', merged.status);
  if (merged.q) p.set('q', merged.q);
  if (merged.page && merged.page > 1) p.set('page', String(merged.page));
  return p.toString();
}
