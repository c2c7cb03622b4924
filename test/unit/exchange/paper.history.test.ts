import { describe, expect, it } from 'vitest';
import { ExchangeError, PAPER_ORDER_HISTORY, PAPER_SEEN_IDS, createPaperVenue } from '../../../runtime/exchange/index.ts';
import type { Order } from '../../../runtime/exchange/index.ts';
import type { PaperBatch } from '../../../runtime/store/types.ts';
import { BTC, ETH, manualClock, memoryRepo, order, venueWith } from './fixtures.ts';

/** A store double: what the venue persisted, answered by `lookupPersisted`, with every question logged. */
function persistedStore() {
  const repo = memoryRepo();
  const asked: string[] = [];
  let hold: Promise<void> | null = null;
  let fail: string | null = null;
  const lookupPersisted = async (accountId: string, clientOrderId: string): Promise<Order | null> => {
    asked.push(`${accountId}/${clientOrderId}`);
    // The answer reflects the store when asked, even when it arrives later.
    const held = hold;
    const failure = fail;
    const rows = await repo.loadOrders();
    const found = rows.find((r) => r.accountId === accountId && (r.order as Order).clientOrderId === clientOrderId);
    if (held) await held;
    if (failure) throw new Error(failure);
    return (found?.order as Order | undefined) ?? null;
  };
  return {
    repo,
    asked,
    lookupPersisted,
    /** Holds the answers to the questions asked from now on until the returned function is called. */
    holdAnswers(): () => void {
      let release = () => {};
      hold = new Promise<void>((r) => (release = r));
      return release;
    },
    answerAtOnce() {
      hold = null;
    },
    failWith(message: string | null) {
      fail = message;
    },
  };
}

function lookupVenue(orderHistory = 2, persist?: (b: PaperBatch, save: (b: PaperBatch) => Promise<void>) => Promise<void>) {
  const store = persistedStore();
  const save = (b: PaperBatch) => store.repo.saveBatch(b);
  const venue = createPaperVenue({
    markets: [BTC, ETH],
    clock: manualClock(),
    slippageBps: 0,
    orderHistory,
    persist: persist ? (b) => persist(b, save) : save,
    lookupPersisted: store.lookupPersisted,
  });
  venue.updatePrice('BTCUSDT', { close: '50000' });
  venue.updatePrice('ETHUSDT', { close: '1000' });
  venue.openAccount('a1', '100000');
  return { venue, store, ex: venue.account('a1') };
}

const small = (clientOrderId: string) => order({ clientOrderId, amount: '0.01' });

describe('paper venue: order history', () => {
  it('keeps eight finished orders per account by default', async () => {
    expect(PAPER_ORDER_HISTORY).toBe(8);
    const { venue } = venueWith();
    venue.openAccount('a1', '100000');
    const ex = venue.account('a1');
    for (let i = 1; i <= 9; i++) await ex.createOrder(small(`h${i}`));
    expect(await ex.fetchOrderByClientId('h1', 'BTCUSDT')).toBeNull();
    expect(await ex.fetchOrderByClientId('h2', 'BTCUSDT')).not.toBeNull();
  });

  it('remembers the newest ids for duplicate refusal, a bounded number of them', async () => {
    const { venue } = venueWith({ orderHistory: 1 });
    venue.openAccount('a1', '1000000');
    const ex = venue.account('a1');
    const n = 3 * PAPER_SEEN_IDS;
    for (let i = 1; i <= n; i++) await ex.createOrder(small(`b${i}`));
    // Every id among the newest PAPER_SEEN_IDS is still refused …
    for (let i = n - PAPER_SEEN_IDS + 1; i <= n; i++) await expect(ex.createOrder(small(`b${i}`))).rejects.toMatchObject({ kind: 'duplicate' });
    // … while the first ones are forgotten (the orders table is the runtime's guard across any span).
    expect((await ex.createOrder(small('b1'))).status).toBe('closed');
  });

  it('refuses an id that left the window when no store is given, since it remembers recent ids', async () => {
    const { venue } = venueWith({ orderHistory: 1 });
    venue.openAccount('a1', '100000');
    const ex = venue.account('a1');
    for (const id of ['d1', 'd2', 'd3']) await ex.createOrder(small(id));
    expect(await ex.fetchOrderByClientId('d1', 'BTCUSDT')).toBeNull();
    await expect(ex.createOrder(small('d1'))).rejects.toMatchObject({ kind: 'duplicate' });
  });

  it('refuses after a restore an id it was given among the stored orders but keeps out of memory', async () => {
    const repo = memoryRepo();
    const { venue } = venueWith({ persist: (b) => repo.saveBatch(b) });
    venue.openAccount('a1', '100000');
    for (const id of ['r1', 'r2', 'r3']) await venue.account('a1').createOrder(small(id));
    await venue.flush();
    const copy = createPaperVenue({ markets: [BTC, ETH], clock: manualClock(), orderHistory: 1 });
    copy.updatePrice('BTCUSDT', { close: '50000' });
    copy.restore(await repo.loadAccounts(), await repo.loadOrders());
    await expect(copy.account('a1').createOrder(small('r1'))).rejects.toMatchObject({ kind: 'duplicate' });
  });
});

describe('paper venue: orders looked up in the store', () => {
  it('asks the store nothing while the account holds every order it ever had', async () => {
    const { ex, store } = lookupVenue(2);
    await ex.createOrder(small('n1'));
    await ex.createOrder(small('n2'));
    expect(await ex.fetchOrderByClientId('never', 'BTCUSDT')).toBeNull();
    await expect(ex.createOrder(small('n1'))).rejects.toMatchObject({ kind: 'duplicate' });
    expect(store.asked).toEqual([]);
  });

  it('reads an order that left memory back from the store and refuses its id again', async () => {
    const { ex, store, venue } = lookupVenue(2);
    const first = await ex.createOrder(small('s1'));
    for (const id of ['s2', 's3', 's4']) await ex.createOrder(small(id));
    await venue.flush();

    expect(await ex.fetchOrderByClientId('s1', 'BTCUSDT')).toEqual(first);
    expect(await ex.fetchOrderByClientId('s1', 'ETHUSDT')).toBeNull();
    await expect(ex.createOrder(small('s1'))).rejects.toThrow(new ExchangeError('duplicate', 'duplicate clientOrderId s1 on paper account a1'));
    expect((await ex.createOrder(small('s5'))).status).toBe('closed');
    // s4 came after s1 left memory: from then on a new id is checked with the store.
    expect(store.asked).toEqual(['a1/s4', 'a1/s1', 'a1/s1', 'a1/s1', 'a1/s5']);
  });

  it('refuses an id that left memory while its write is queued or in flight, without asking the store', async () => {
    let open = () => {};
    const gate = new Promise<void>((r) => (open = r));
    const { ex, store } = lookupVenue(1, async (b, save) => {
      await gate;
      await save(b);
    });
    // Placed in one tick: q1 leaves memory at once and waits for its write.
    const placed = Promise.all(['q1', 'q2', 'q3'].map((id) => ex.createOrder(small(id))));
    expect(await ex.fetchOrderByClientId('q1', 'BTCUSDT')).toMatchObject({ clientOrderId: 'q1', status: 'closed' });
    await expect(ex.createOrder(small('q1'))).rejects.toMatchObject({ kind: 'duplicate' });
    await new Promise<void>((r) => setImmediate(r));
    // Now the write is in flight: neither memory nor the store holds q1.
    expect(await ex.fetchOrderByClientId('q1', 'BTCUSDT')).toMatchObject({ clientOrderId: 'q1' });
    await expect(ex.createOrder(small('q1'))).rejects.toMatchObject({ kind: 'duplicate' });
    open();
    await placed;
    expect(store.asked).not.toContain('a1/q1');
  });

  it('refuses an id placed and written while the store was still answering an earlier question about it', async () => {
    const { ex, store, venue } = lookupVenue(1);
    for (const id of ['w1', 'w2']) await ex.createOrder(small(id));
    await venue.flush();
    const releaseFirst = store.holdAnswers();
    const first = ex.createOrder(small('x1'));
    const other = ex.createOrder(small('z1'));
    const releaseSecond = store.holdAnswers();
    // Asked while x1 does not exist yet: its answer will be stale.
    const second = ex.createOrder(small('x1'));
    store.answerAtOnce();
    releaseFirst();
    expect((await first).status).toBe('closed');
    await other;
    await venue.flush();
    // x1 is now out of memory and in the store only; the second answer still says "unknown".
    releaseSecond();
    await expect(second).rejects.toMatchObject({ kind: 'duplicate' });
    expect(store.asked.filter((q) => q === 'a1/x1')).toHaveLength(2);
  });

  it('places orders waiting for the store in the order they were sent, whatever order the answers come in', async () => {
    const { ex, store, venue } = lookupVenue(1);
    for (const id of ['p1', 'p2']) await ex.createOrder(small(id));
    await venue.flush();
    const releaseFirst = store.holdAnswers();
    const first = ex.createOrder(small('o1'));
    const releaseRest = store.holdAnswers();
    const rest = ['o2', 'o3'].map((id) => ex.createOrder(small(id)));
    store.answerAtOnce();
    releaseRest();
    await new Promise<void>((r) => setImmediate(r));
    releaseFirst();
    const orders = await Promise.all([first, ...rest]);
    expect(orders.map((o) => [o.clientOrderId, o.id])).toEqual([
      ['o1', '3'],
      ['o2', '4'],
      ['o3', '5'],
    ]);
  });

  it('fails with a transient error when the store cannot answer, and accepts the id on a retry', async () => {
    const { ex, store, venue } = lookupVenue(1);
    for (const id of ['t1', 't2']) await ex.createOrder(small(id));
    await venue.flush();
    store.failWith('connection reset');
    await expect(ex.createOrder(small('t3'))).rejects.toThrow(new ExchangeError('transient', 'paper order lookup failed: connection reset'));
    await expect(ex.fetchOrderByClientId('t1', 'BTCUSDT')).rejects.toMatchObject({ kind: 'transient' });
    store.failWith(null);
    expect((await ex.createOrder(small('t3'))).status).toBe('closed');
  });

  it('asks the store after a restore that was given only the newest orders, and not after one given them all', async () => {
    const source = lookupVenue(8);
    for (const id of ['k1', 'k2', 'k3']) await source.ex.createOrder(small(id));
    await source.venue.flush();
    const rows = await source.store.repo.loadOrders();

    const restoreWith = () => {
      const store = persistedStore();
      const copy = createPaperVenue({ markets: [BTC, ETH], clock: manualClock(), lookupPersisted: store.lookupPersisted });
      copy.updatePrice('BTCUSDT', { close: '50000' });
      return { store, copy };
    };
    const full = restoreWith();
    full.copy.restore(await source.store.repo.loadAccounts(), rows);
    await full.copy.account('a1').createOrder(small('k4'));
    expect(full.store.asked).toEqual([]);

    const partial = restoreWith();
    partial.copy.restore(await source.store.repo.loadAccounts(), rows.slice(1));
    await partial.copy.account('a1').createOrder(small('k5'));
    expect(partial.store.asked).toEqual(['a1/k5']);
  });
});
