import { describe, expect, it } from 'vitest';
import { PaperAccountRow, parseRows, TraderRow } from '../../../runtime/store/rows.ts';

const trader = {
  id: 't-1',
  manager_id: 'm-1',
  user_id: 'u-1',
  name: 'one',
  strategy_name: 'momentum',
  strategy_version: 1,
  params: { lookback: 20, nested: { list: [1, 'two', null] } },
  venue: 'paper',
  account_id: 'paper:t-1',
  initial_capital: '1000',
  leverage: 2,
  risk_limits: {},
  created_at: 1,
  updated_at: 2,
};

describe('row schemas', () => {
  it('take a jsonb value as the driver parsed it, without copying it', () => {
    const [row] = parseRows(TraderRow, [trader], 'traders');
    expect(row!.params).toBe(trader.params);
    const state = { v: 1, positions: [{ symbol: 'BTCUSDT' }] };
    expect(parseRows(PaperAccountRow, [{ account_id: 'a', state }], 'paper_accounts')[0]!.state).toBe(state);
  });

  it('refuse a params column that is not a JSON object, naming the table', () => {
    for (const params of [null, [1, 2], 'text', 3]) {
      expect(() => parseRows(TraderRow, [{ ...trader, params }], 'traders')).toThrow(/^invalid traders row from the database: .*expected a JSON object.*params/s);
    }
    expect(() => parseRows(PaperAccountRow, [{ account_id: 'a' }], 'paper_accounts')).toThrow(/missing JSON value.*state/s);
  });
});
