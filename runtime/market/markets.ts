/**
 * The synthetic venue's markets: ten USDT perpetuals with venue-like precision, minimums and
 * fees, and the price profile the synthetic generator gives each one.
 */
import type { Market } from '../exchange/port.ts';

/** How the synthetic generator moves one symbol. */
export interface SyntheticProfile {
  /** The price the series oscillates around (quote units). */
  readonly basePrice: number;
  /** Annualized volatility in the normal regime, e.g. 0.6. */
  readonly annualVol: number;
  /** Correlation of its minute returns with the market factor, in [0, 1). */
  readonly marketCorrelation: number;
  /** Typical volume per minute, in base units. */
  readonly volumePerMinute: number;
}

interface Spec {
  readonly base: string;
  readonly amountStep: string;
  readonly priceTick: string;
  readonly maxLeverage: number;
  readonly profile: SyntheticProfile;
}

const SPECS: readonly Spec[] = [
  { base: 'BTC', amountStep: '0.001', priceTick: '0.1', maxLeverage: 125, profile: { basePrice: 65_000, annualVol: 0.55, marketCorrelation: 0.9, volumePerMinute: 9 } },
  { base: 'ETH', amountStep: '0.001', priceTick: '0.01', maxLeverage: 100, profile: { basePrice: 3_200, annualVol: 0.7, marketCorrelation: 0.85, volumePerMinute: 140 } },
  { base: 'SOL', amountStep: '0.01', priceTick: '0.01', maxLeverage: 75, profile: { basePrice: 150, annualVol: 0.95, marketCorrelation: 0.75, volumePerMinute: 1_800 } },
  { base: 'BNB', amountStep: '0.01', priceTick: '0.01', maxLeverage: 75, profile: { basePrice: 580, annualVol: 0.6, marketCorrelation: 0.7, volumePerMinute: 160 } },
  { base: 'XRP', amountStep: '0.1', priceTick: '0.0001', maxLeverage: 75, profile: { basePrice: 0.55, annualVol: 0.85, marketCorrelation: 0.65, volumePerMinute: 450_000 } },
  { base: 'DOGE', amountStep: '1', priceTick: '0.00001', maxLeverage: 75, profile: { basePrice: 0.12, annualVol: 1.0, marketCorrelation: 0.65, volumePerMinute: 2_500_000 } },
  { base: 'ADA', amountStep: '1', priceTick: '0.0001', maxLeverage: 75, profile: { basePrice: 0.45, annualVol: 0.9, marketCorrelation: 0.65, volumePerMinute: 350_000 } },
  { base: 'AVAX', amountStep: '0.1', priceTick: '0.001', maxLeverage: 50, profile: { basePrice: 28, annualVol: 1.0, marketCorrelation: 0.7, volumePerMinute: 9_000 } },
  { base: 'LINK', amountStep: '0.01', priceTick: '0.001', maxLeverage: 50, profile: { basePrice: 14, annualVol: 0.9, marketCorrelation: 0.7, volumePerMinute: 12_000 } },
  { base: 'LTC', amountStep: '0.001', priceTick: '0.01', maxLeverage: 75, profile: { basePrice: 80, annualVol: 0.75, marketCorrelation: 0.7, volumePerMinute: 2_800 } },
];

/** The synthetic venue's USDT perpetuals (maker 0.02 %, taker 0.05 %, minimum notional 5 USDT). */
export const SYNTHETIC_MARKETS: readonly Market[] = Object.freeze(
  SPECS.map(
    (s): Market =>
      Object.freeze({
        symbol: `${s.base}USDT`,
        base: s.base,
        quote: 'USDT',
        amountStep: s.amountStep,
        priceTick: s.priceTick,
        minAmount: s.amountStep,
        minCost: '5',
        maxLeverage: s.maxLeverage,
        makerFee: '0.0002',
        takerFee: '0.0005',
      }),
  ),
);

/** The generator's profile per synthetic symbol. */
export const SYNTHETIC_PROFILES: Readonly<Record<string, SyntheticProfile>> = Object.freeze(
  Object.fromEntries(SPECS.map((s) => [`${s.base}USDT`, s.profile])),
);
