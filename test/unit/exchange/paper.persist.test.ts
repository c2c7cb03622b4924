import { describe, expect, it } from 'vitest';
import { ExchangeError, createPaperVenue } from '../../../runtime/exchange/index.ts';
import type { PaperBatch } from '../../../runtime/store/types.ts';
import { BTC, ETH, manualClock, memoryRepo, order, venueWith } from './fixtures.ts';

/** A persist function whose calls the test completes by hand. */
function gatedPersist() {
  const calls: { batch: PaperBatch; resolve(): void; reject(err: unknown): void }[] = [];
  const persist = (batch: PaperBatch) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ batch, resolve, reject });
    });
  return { calls, persist };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('paper venue: durability', () => {
  it('resolves createOrder only after its change is persisted', async () => {
    const { calls, persist } = gatedPersist();
    const { venue } = venueWith({ persist });
    venue.openAccount('a1', '10000');
    let settled = false;
    const p = venue
      .account('a1')
      .createOrder(order())
      .then((o) => {
        settled = true;
        return o;
      });
    for (let i = 0; i < 5; i++) await turn();
    expect(calls).toHaveLength(1);
    expect(settled).toBe(false);
    calls[0]!.resolve();
    expect((await p).status).toBe('closed');
    expect(settled).toBe(true);
  });

  it('writes the orders of one tick in a single batch with the accounts and fills they changed', async () => {
    const repo = memoryRepo();
    const { venue } = venueWith({ persist: (b) => repo.saveBatch(b) });
    venue.openAccount('a1', '10000');
    venue.openAccount('a2', '10000');
    const [o1, o2, o3] = await Promise.all([
      venue.account('a1').createOrder(order()),
      venue.account('a2').createOrder(order({ side: 'sell' })),
      venue.account('a2').createOrder(order({ amount: '0' })),
    ]);
    expect(repo.batches).toHaveLength(1);
    const [batch] = repo.batches;
    expect(batch!.accounts.map((a) => a.accountId).sort()).toEqual(['a1', 'a2']);
    expect(batch!.orders.map((o) => o.order)).toEqual([o1, o2, o3]);
    expect(o3!.status).toBe('rejected');
    expect(batch!.fills.map((f) => [f.accountId, f.fill.clientOrderId])).toEqual([
      ['a1', o1!.clientOrderId],
      ['a2', o2!.clientOrderId],
    ]);
  });

  it('queues the changes made while a write is in flight into the next single write', async () => {
    const { calls, persist } = gatedPersist();
    const { venue } = venueWith({ persist });
    venue.openAccount('a1', '100000');
    const ex = venue.account('a1');
    const first = ex.createOrder(order());
    await turn();
    expect(calls).toHaveLength(1);
    const later = [ex.createOrder(order()), ex.createOrder(order())];
    await turn();
    expect(calls).toHaveLength(1);
    calls[0]!.resolve();
    await first;
    await turn();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.batch.orders).toHaveLength(2);
    calls[1]!.resolve();
    await Promise.all(later);
  });

  it('rejects the waiting orders with a transient error when the write fails and writes them with the next flush', async () => {
    let fail = true;
    const batches: PaperBatch[] = [];
    const { venue } = venueWith({
      persist: async (b) => {
        if (fail) throw new Error('disk full');
        batches.push(b);
      },
    });
    venue.openAccount('a1', '10000');
    const ex = venue.account('a1');
    const results = await Promise.allSettled([ex.createOrder(order({ clientOrderId: 'x1', amount: '0.01' })), ex.createOrder(order({ clientOrderId: 'x2', amount: '0.01' }))]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as ExchangeError;
      expect(err).toBeInstanceOf(ExchangeError);
      expect(err.kind).toBe('transient');
      expect(err.message).toBe('paper persist failed: disk full');
    }
    // The venue applied them: a lookup by client id resolves the ambiguous submit.
    expect((await ex.fetchOrderByClientId('x1', 'BTCUSDT'))?.status).toBe('closed');
    await expect(venue.flush()).rejects.toMatchObject({ kind: 'transient' });
    fail = false;
    await venue.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.orders.map((o) => o.order.clientOrderId)).toEqual(['x1', 'x2']);
    expect(batches[0]!.fills).toHaveLength(2);
    expect(batches[0]!.accounts.map((a) => a.accountId)).toEqual(['a1']);
    await venue.flush();
    expect(batches).toHaveLength(1);
  });

  it('persists price-triggered fills with the next flush', async () => {
    const repo = memoryRepo();
    const { venue } = venueWith({ persist: (b) => repo.saveBatch(b) });
    venue.openAccount('a1', '10000');
    await venue.account('a1').createOrder(order({ stopLoss: '49000' }));
    venue.updatePrice('BTCUSDT', { close: '48000' });
    expect(repo.batches).toHaveLength(1);
    await venue.flush();
    expect(repo.batches).toHaveLength(2);
    expect(repo.batches[1]!.fills.map((f) => f.fill.trigger)).toEqual(['stopLoss']);
    expect(repo.batches[1]!.orders.map((o) => o.order.clientOrderId)).toEqual([repo.batches[1]!.fills[0]!.fill.clientOrderId]);
  });

  it('resolves at once without a persist function', async () => {
    const { venue } = venueWith();
    venue.openAccount('a1', '10000');
    expect((await venue.account('a1').createOrder(order())).status).toBe('closed');
    await venue.flush();
  });
});

describe('paper venue: restore', () => {
  it('rebuilds accounts, positions, open orders and client ids from the stored rows', async () => {
    const repo = memoryRepo();
    const { venue } = venueWith({ persist: (b) => repo.saveBatch(b) });
    venue.openAccount('a1', '10000');
    venue.openAccount('a2', '500');
    const ex = venue.account('a1');
    await ex.setLeverage('BTCUSDT', 5);
    await ex.createOrder(order({ clientOrderId: 'k1', amount: '0.3', stopLoss: '45000', takeProfit: '60000' }));
    await ex.createOrder(order({ clientOrderId: 'k2', symbol: 'ETHUSDT', side: 'sell', amount: '1.5' }));
    await ex.createOrder(order({ clientOrderId: 'k3', type: 'limit', price: '48000', amount: '0.01', takeProfit: '49000' }));
    venue.updatePrice('BTCUSDT', { close: '50123.4' });
    await venue.flush();

    const clock = manualClock();
    const copy = createPaperVenue({ markets: [BTC, ETH], clock, slippageBps: 0 });
    copy.updatePrice('BTCUSDT', { close: '50123.4' });
    copy.updatePrice('ETHUSDT', { close: '1000' });
    copy.restore(await repo.loadAccounts(), await repo.loadOrders());
    const again = copy.account('a1');
    expect(await again.fetchBalance()).toEqual(await ex.fetchBalance());
    expect(await again.fetchPositions()).toEqual(await ex.fetchPositions());
    expect(await again.fetchOpenOrders()).toEqual(await ex.fetchOpenOrders());
    expect(await copy.account('a2').fetchBalance()).toEqual(await venue.account('a2').fetchBalance());
    expect(await again.fetchOrderByClientId('k2', 'ETHUSDT')).toEqual(await ex.fetchOrderByClientId('k2', 'ETHUSDT'));
    await expect(again.createOrder(order({ clientOrderId: 'k1' }))).rejects.toMatchObject({ kind: 'duplicate' });
    await expect(again.setLeverage('BTCUSDT', 2)).rejects.toThrow('cannot lower BTCUSDT leverage from 5 to 2');

    // The restored resting order still fills, and new order ids continue the sequence.
    const fills: string[] = [];
    copy.onFill((_, f) => fills.push(`${f.clientOrderId}@${f.price}`));
    copy.updatePrice('BTCUSDT', { close: '48000' });
    expect(fills).toEqual(['k3@48000']);
    const next = await again.createOrder(order({ clientOrderId: 'k4', amount: '0.01' }));
    expect(Number(next.id)).toBeGreaterThan(3);
  });

  it('throws a clear error for a state row that fails validation', () => {
    const { venue } = venueWith();
    expect(() => venue.restore([{ accountId: 'bad', state: { v: 1, wallet: 12 } }], [])).toThrow(
      /^paper account bad: invalid state: .*wallet/,
    );
    expect(() => venue.restore([{ accountId: 'bad', state: null }], [])).toThrow(/^paper account bad: invalid state/);
  });

  it('throws for a position on a symbol the venue does not list and for an order of an unknown account', () => {
    const { venue } = venueWith();
    const state = {
      v: 1,
      initialWallet: '100',
      wallet: '100',
      seq: 1,
      leverage: {},
      positions: [{ symbol: 'XRPUSDT', side: 'long', amount: '1', entryPrice: '1', margin: '1', stopLoss: null, takeProfit: null }],
      openOrders: [],
    };
    expect(() => venue.restore([{ accountId: 'a9', state }], [])).toThrow('paper account a9: state refers to unknown symbol XRPUSDT');
    expect(() => venue.restore([], [{ accountId: 'zz', order: { nope: true } }])).toThrow(/^paper order of account zz: invalid order/);
  });
});
