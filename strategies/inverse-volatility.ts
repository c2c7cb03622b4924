/**
 * Inverse-volatility (risk parity, long only): each asset weighted by 1 / σ of its log returns
 * over `window` bars, scaled so the weights sum to `gross`.
 */
import { defineStrategy, z } from '@platform/strategy';
import type { TargetWeight } from '@platform/strategy';

export default defineStrategy({
  name: 'inverse-volatility',
  description: 'Long only; weight ∝ 1 / volatility of log returns over `window` bars; weights sum to `gross`.',
  params: z.object({
    window: z.number().int().min(5).max(500),
    gross: z.number().min(0).max(1),
  }),
  defaults: { window: 60, gross: 1 },
  universe: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'LINKUSDT', 'AVAXUSDT'],
  timeframe: '1m',
  lookback: 61,
  compute(ctx, p) {
    const assets = this.universe ?? [];
    const closes = ctx.history(assets, { window: p.window + 1, field: 'close' });

    const inverse: Record<string, number> = {};
    let total = 0;
    for (const asset of assets) {
      const s = closes[asset]!;
      if (s.length < 3) continue;
      let sum = 0;
      let sumSq = 0;
      const n = s.length - 1;
      for (let i = 1; i <= n; i++) {
        const r = Math.log(s[i]! / s[i - 1]!);
        sum += r;
        sumSq += r * r;
      }
      const variance = (sumSq - (sum * sum) / n) / (n - 1);
      const sigma = Math.sqrt(Math.max(variance, 0));
      // A flat series has no risk to weigh; skip it rather than divide by zero.
      if (!(sigma > 1e-12) || !Number.isFinite(sigma)) continue;
      inverse[asset] = 1 / sigma;
      total += 1 / sigma;
    }

    const weights: Record<string, TargetWeight> = {};
    for (const [asset, inv] of Object.entries(inverse)) weights[asset] = { weight: (p.gross * inv) / total };
    return weights;
  },
});
