/**
 * Simple momentum (the seed example): equal weight over the assets whose 20-bar return is
 * positive, with a stop-loss at 0.97× and a take-profit at 1.05× the last close.
 */
import { defineStrategy, z } from '@platform/strategy';
import type { TargetWeight } from '@platform/strategy';

export default defineStrategy({
  name: 'momentum',
  description: 'Equal weight over the assets with a positive 20-bar return; SL 3 % below, TP 5 % above the last close.',
  params: z.object({
    lookback: z.number().int().min(2).max(500),
    stopLossPct: z.number().min(0).max(0.5),
    takeProfitPct: z.number().min(0).max(5),
  }),
  defaults: { lookback: 20, stopLossPct: 0.03, takeProfitPct: 0.05 },
  universe: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
  timeframe: '1m',
  lookback: 100,
  compute(ctx, p) {
    const assets = this.universe ?? [];

    // 20-bar returns
    const prices = ctx.history(assets, { window: Math.max(100, p.lookback + 1), field: 'close' });
    const returns = (a: string): number => {
      const s = prices[a]!;
      return s.length > p.lookback ? s[s.length - 1]! / s[s.length - 1 - p.lookback]! - 1 : 0;
    };

    // equal weight over the assets with positive momentum
    const weights: Record<string, TargetWeight> = {};
    const positive = assets.filter((a) => returns(a) > 0);

    for (const asset of positive) {
      const last = prices[asset]![prices[asset]!.length - 1]!;
      weights[asset] = {
        weight: 1 / positive.length,
        takeProfit: last * (1 + p.takeProfitPct),
        stopLoss: last * (1 - p.stopLossPct),
      };
    }

    return weights;
  },
});
