/**
 * What the status bar shows a principal: the whole platform for roles that see it all; for a
 * manager or a user, the counts, value and return of their own traders only (whether trading is
 * paused stays platform-wide: it concerns everyone).
 */
import { Decimal } from 'decimal.js';
import type { Principal } from '../runtime/accounts/index.ts';
import { seesAll, visibleTraders } from '../runtime/accounts/index.ts';
import type { PlatformApi, PlatformStatus } from '../runtime/api.ts';
import type { TraderStatus } from '../runtime/domain.ts';

/** The platform status as `principal` may see it. */
export function statusFor(api: PlatformApi, principal: Principal | null): PlatformStatus {
  const full = api.platformStatus();
  if (principal && seesAll(principal)) return full;
  const bots = principal ? visibleTraders(principal, api.listBots()) : [];
  const counts: Record<TraderStatus, number> = { starting: 0, running: 0, paused: 0, error: 0, stopped: 0 };
  let pv = new Decimal(0);
  let initial = new Decimal(0);
  let valued = 0;
  for (const b of bots) {
    counts[b.status]++;
    if (b.portfolioValue === null) continue;
    const v = new Decimal(b.portfolioValue);
    pv = pv.plus(v);
    valued++;
    // Initial capital back from the return: pv = initial × (1 + roe).
    if (b.roe !== null && b.roe > -1) initial = initial.plus(v.div(1 + b.roe));
  }
  return {
    ...full,
    counts,
    portfolioValue: valued ? pv.toFixed(2) : null,
    roe: valued && initial.gt(0) ? pv.div(initial).minus(1).toNumber() : null,
  };
}
