/**
 * Equal-weight rebalancer: long only, the same weight in every asset of the universe that has a
 * price, `gross` of equity in total.
 */
import { defineStrategy, z } from '@platform/strategy';
import type { TargetWeight } from '@platform/strategy';

export default defineStrategy({
  name: 'equal-weight',
  description: 'Long only, equal weight across the universe; `gross` is the fraction of equity invested.',
  params: z.object({
    gross: z.number().min(0).max(1),
  }),
  defaults: { gross: 1 },
  universe: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT'],
  timeframe: '1m',
  lookback: 1,
  compute(ctx, p) {
    const assets = this.universe ?? [];
    const closes = ctx.history(assets, { window: 1, field: 'close' });
    const priced = assets.filter((a) => (closes[a]?.length ?? 0) > 0);

    const weights: Record<string, TargetWeight> = {};
    for (const asset of priced) weights[asset] = { weight: p.gross / priced.length };
    return weights;
  },
});
