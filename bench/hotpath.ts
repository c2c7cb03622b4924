/**
 * Micro-benchmarks of three hot paths of a 10,000-trader wave, in one process, no runtime:
 *
 * - `paper`: the paper venue with N accounts holding positions in 4 of the 10 synthetic
 *   markets: `updatePrice` per symbol, three `fetchBalance` reads per account per minute with
 *   one order in between (compute, rebalance, order, metrics), and a digest of every balance
 *   read so two implementations can be checked for identical results.
 * - `history`: heap per account after 40 finished orders each (the venue's order window).
 * - `collect`: the metrics collector over N paper accounts: total time and the longest stretch
 *   the event loop was blocked meanwhile (a 1-ms timer probe).
 * - `db`: order writes for T traders × 2 orders, one statement per order vs the batched repo
 *   methods, and coalesced persisted-order lookups (PGlite, or PostgreSQL with DATABASE_URL).
 *
 * Usage: `node --expose-gc --import tsx bench/hotpath.ts [paper|history|collect|db ...] [options]`
 * (`db` runs only when named). Options: `--impl DIR` another copy of `runtime/` to compare with
 * (with a `node_modules` link next to it; `db` always uses this tree), `--n 10000` accounts,
 * `--minutes 6`, `--cpu` process CPU time instead of wall time (steadier on a shared machine),
 * `--lookup` gives the venue a `lookupPersisted`, `--verbose` per-minute and per-slice figures.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Balance, Exchange, OrderRequest, PaperVenue, PaperVenueOptions } from '../runtime/exchange/index.ts';
import type { MetricsCollector, MetricsCollectorDeps } from '../runtime/metrics/index.ts';
import type { OrderRecord } from '../runtime/store/index.ts';
import { createBenchDatabase, defaultDb, gc, mib } from './lib.ts';

interface Impl {
  createPaperVenue(opts: PaperVenueOptions): PaperVenue;
  clientOrderId(traderId: string, cycleId: string, symbol: string, leg?: number): string;
  createMetricsCollector(deps: MetricsCollectorDeps): MetricsCollector;
  markets: readonly { symbol: string; amountStep: string; priceTick: string }[];
  profiles: Readonly<Record<string, { basePrice: number }>>;
}

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const implDir = path.resolve(flag('--impl') ?? path.join(import.meta.dirname, '..', 'runtime'));
const N = Number(flag('--n') ?? 10_000);
const chosen = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const want = (name: string): boolean => chosen.length === 0 || chosen.includes(name);

async function load(): Promise<Impl> {
  const mod = async (rel: string) => (await import(pathToFileURL(path.join(implDir, rel)).href)) as Record<string, unknown>;
  const ex = await mod('exchange/index.ts');
  const metrics = await mod('metrics/index.ts');
  const markets = await mod('market/markets.ts');
  return {
    createPaperVenue: ex['createPaperVenue'] as Impl['createPaperVenue'],
    clientOrderId: ex['clientOrderId'] as Impl['clientOrderId'],
    createMetricsCollector: metrics['createMetricsCollector'] as Impl['createMetricsCollector'],
    markets: markets['SYNTHETIC_MARKETS'] as Impl['markets'],
    profiles: markets['SYNTHETIC_PROFILES'] as Impl['profiles'],
  };
}

const wallMs = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
/** CPU time of this process (all threads) since `t0`, in ms: steadier than wall time on a shared machine. */
const cpu = (): bigint => {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
};
const cpuMode = args.includes('--cpu');
const stamp = cpuMode ? cpu : () => process.hrtime.bigint();
const ms = (t0: bigint): number => (cpuMode ? Number(cpu() - t0) / 1e6 : wallMs(t0));
const f1 = (x: number): string => x.toFixed(1);

/** A price path per symbol: a deterministic walk around the base price, on the tick. */
function pricer(impl: Impl) {
  return (symbol: string, minute: number): string => {
    const m = impl.markets.find((x) => x.symbol === symbol)!;
    const base = impl.profiles[symbol]!.basePrice;
    const tick = Number(m.priceTick);
    const decimals = m.priceTick.split('.')[1]?.length ?? 0;
    const p = base * (1 + 0.004 * Math.sin(minute * 1.7 + symbol.length));
    return (Math.round(p / tick) * tick).toFixed(decimals);
  };
}

/** A price rounded to the symbol's tick. */
function onTick(impl: Impl, symbol: string, p: number): string {
  const m = impl.markets.find((x) => x.symbol === symbol)!;
  const tick = Number(m.priceTick);
  return (Math.round(p / tick) * tick).toFixed(m.priceTick.split('.')[1]?.length ?? 0);
}

/** An order of about `usdt` notional on the symbol, on its step. */
function sized(impl: Impl, symbol: string, price: string, usdt: number): string {
  const m = impl.markets.find((x) => x.symbol === symbol)!;
  const step = Number(m.amountStep);
  const decimals = m.amountStep.split('.')[1]?.length ?? 0;
  return (Math.max(1, Math.round(usdt / Number(price) / step)) * step).toFixed(decimals);
}

const accountId = (i: number) => `paper:t-${String(i).padStart(6, '0')}`;

async function fleetVenue(impl: Impl, n: number) {
  let t = Date.UTC(2026, 0, 5, 12, 0, 0);
  const clock = { now: () => t };
  const venue = impl.createPaperVenue({ markets: impl.markets as PaperVenueOptions['markets'], clock });
  const price = pricer(impl);
  const symbols = impl.markets.map((m) => m.symbol);
  for (const s of symbols) venue.updatePrice(s, { close: price(s, 0) });
  const ports: Exchange[] = [];
  for (let i = 0; i < n; i++) {
    venue.openAccount(accountId(i), '10000');
    const ex = venue.account(accountId(i));
    ports.push(ex);
    for (let k = 0; k < 4; k++) {
      const s = symbols[(i + k * 3) % symbols.length]!;
      const long = (i + k) % 2 === 0;
      // Half the positions carry a stop-loss and a take-profit 8 % / 15 % away.
      const protect = k % 2 === 0;
      const req: OrderRequest = {
        clientOrderId: impl.clientOrderId(`t-${i}`, 'open', s, k),
        symbol: s,
        side: long ? 'buy' : 'sell',
        type: 'market',
        amount: sized(impl, s, price(s, 0), 1500),
        leverage: 1 + (i % 3),
        ...(protect ? { stopLoss: onTick(impl, s, Number(price(s, 0)) * (long ? 0.92 : 1.08)), takeProfit: onTick(impl, s, Number(price(s, 0)) * (long ? 1.15 : 0.85)) } : {}),
      };
      await ex.createOrder(req);
    }
  }
  return { venue, ports, symbols, price, advance: () => void (t += 60_000) };
}

async function benchPaper(impl: Impl): Promise<void> {
  const { venue, ports, symbols, price, advance } = await fleetVenue(impl, N);
  const digest = createHash('sha256');
  const reads = async (): Promise<number> => {
    const t0 = stamp();
    for (const ex of ports) {
      const b: Balance = await ex.fetchBalance();
      digest.update(`${b.wallet}|${b.used}|${b.free}|${b.unrealizedPnl}|${b.equity};`);
    }
    return ms(t0);
  };
  const rows: string[] = [];
  const sums = { upd: [] as number[], reads: [] as number[], orders: [] as number[], minute: [] as number[] };
  const minutes = Number(flag('--minutes') ?? 6);
  for (let minute = 1; minute <= minutes; minute++) {
    advance();
    let t0 = stamp();
    let maxCall = 0;
    for (const s of symbols) {
      const c = stamp();
      const close = price(s, minute);
      venue.updatePrice(s, { close, high: onTick(impl, s, Number(close) * 1.002), low: onTick(impl, s, Number(close) * 0.998) });
      maxCall = Math.max(maxCall, ms(c));
    }
    const upd = ms(t0);
    const r1 = await reads();
    const r2 = await reads();
    t0 = stamp();
    for (const [i, ex] of ports.entries()) {
      const s = symbols[(i + minute) % symbols.length]!;
      await ex.createOrder({
        clientOrderId: impl.clientOrderId(`t-${i}`, `m${minute}`, s, 0),
        symbol: s,
        side: minute % 2 === 0 ? 'buy' : 'sell',
        type: 'market',
        amount: sized(impl, s, price(s, minute), 40),
      });
    }
    const orders = ms(t0);
    const r3 = await reads();
    sums.upd.push(upd);
    sums.reads.push(r1 + r2 + r3);
    sums.orders.push(orders);
    sums.minute.push(upd + r1 + r2 + r3 + orders);
    rows.push(
      `  minute ${minute}: updatePrice ×${symbols.length} ${f1(upd)} ms (max ${f1(maxCall)}), reads ${f1(r1)} + ${f1(r2)} + ${f1(r3)} = ${f1(r1 + r2 + r3)} ms, ${N} orders ${f1(orders)} ms`,
    );
  }
  console.log(`paper (${N} accounts × 4 positions, ${path.relative(process.cwd(), implDir) || implDir})`);
  if (args.includes('--verbose')) for (const r of rows) console.log(r);
  const med = (xs: number[]) => f1([...xs].sort((a, b) => a - b)[xs.length >> 1]!);
  console.log(
    `  median per minute over ${minutes}: updatePrice ×${symbols.length} ${med(sums.upd)} ms, 3 reads of every account ${med(sums.reads)} ms, ${N} orders ${med(sums.orders)} ms, all ${med(sums.minute)} ms`,
  );
  gc();
  const heap = process.memoryUsage().heapUsed;
  // Keeps the venue reachable until after the measurement.
  const open = (await ports[0]!.fetchOpenOrders()).length + (venue.hasAccount(accountId(0)) ? 0 : 1);
  console.log(`  balance digest ${digest.digest('hex').slice(0, 16)}, heap after GC ${f1(mib(heap))} MiB${open ? ' ?' : ''}`);
}

async function benchHistory(impl: Impl): Promise<void> {
  let t = Date.UTC(2026, 0, 5, 12, 0, 0);
  const lookup = args.includes('--lookup');
  const venue = impl.createPaperVenue({
    markets: impl.markets as PaperVenueOptions['markets'],
    clock: { now: () => t++ },
    // The store's answer for a new id; what it costs is the `db` section's findOrder line.
    ...(lookup ? { lookupPersisted: async () => null } : {}),
  });
  const price = pricer(impl);
  for (const m of impl.markets) venue.updatePrice(m.symbol, { close: price(m.symbol, 0) });
  for (let i = 0; i < N; i++) venue.openAccount(accountId(i), '10000');
  gc();
  const before = process.memoryUsage().heapUsed;
  const orders = 40;
  for (let k = 0; k < orders; k++) {
    for (let i = 0; i < N; i++) {
      const s = 'BTCUSDT';
      await venue.account(accountId(i)).createOrder({
        clientOrderId: impl.clientOrderId(`t-${i}`, `c${k}`, s, 0),
        symbol: s,
        side: k % 2 === 0 ? 'buy' : 'sell',
        type: 'market',
        amount: '0.001',
      });
    }
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  // Keeps the venue reachable until after the measurement.
  const kept = await venue.account(accountId(0)).fetchOpenOrders();
  console.log(`history (${N} accounts × ${orders} finished orders${lookup ? ', lookupPersisted' : ''}): heap +${f1(mib(after - before))} MiB, ${f1((after - before) / N)} B per account (${kept.length} open)`);
}

async function benchCollect(impl: Impl): Promise<void> {
  const { venue, ports, symbols, price, advance } = await fleetVenue(impl, N);
  const written: number[] = [];
  let t = Date.UTC(2026, 0, 5, 13, 0, 0);
  // The longest stretch of work between two of the collector's own yields (an implementation
  // without the option never calls it): what the probe sees minus other processes' preemption.
  let resumed = 0;
  let segment = 0;
  const segments: number[] = [];
  const collector = impl.createMetricsCollector({
    yieldToLoop: () => {
      segments.push(performance.now() - resumed);
      segment = Math.max(segment, performance.now() - resumed);
      return new Promise<void>((r) =>
        setImmediate(() => {
          resumed = performance.now();
          r();
        }),
      );
    },
    clock: { now: () => t },
    repo: {
      insertMany: async (rows) => void written.push(rows.length),
      latest: async () => [],
      series: async () => [],
    },
    traders: () =>
      ports.map((ex, i) => ({
        traderId: `t-${i}`,
        managerId: `m-${i % 100}`,
        initialCapital: '10000',
        read: async () => {
          const b = await ex.fetchBalance();
          return { equity: b.equity, unrealizedPnl: b.unrealizedPnl };
        },
      })),
  });
  for (let k = 1; k <= 4; k++) {
    advance();
    t += 60_000;
    // A new bar, so every read computes (as after a wave) rather than hitting a cached balance.
    for (const s of symbols) venue.updatePrice(s, { close: price(s, k) });
    let worst = 0;
    let last = performance.now();
    const probe = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 1);
    await new Promise((r) => setTimeout(r, 5));
    last = performance.now();
    segment = 0;
    segments.length = 0;
    resumed = performance.now();
    const t0 = stamp();
    const rows = await collector.collect();
    segment = Math.max(segment, performance.now() - resumed);
    const total = ms(t0);
    const now = performance.now();
    worst = Math.max(worst, now - last);
    clearInterval(probe);
    const digest = createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 12);
    console.log(`collect ${k} (${N} traders): ${f1(total)} ms, longest block ${f1(worst)} ms (longest slice ${f1(segment)} ms${args.includes('--verbose') ? `: ${segments.map((x) => x.toFixed(0)).join(' ')}` : ''}), ${rows.length} rows, digest ${digest}`);
  }
}

function pendingRecord(trader: number, leg: number, impl: Impl): OrderRecord {
  return {
    clientOrderId: impl.clientOrderId(`t-${trader}`, 'db', 'BTCUSDT', leg),
    traderId: `t-${trader}` as OrderRecord['traderId'],
    cycleId: `t-${trader}:1`,
    symbol: 'BTCUSDT',
    side: 'buy',
    type: 'market',
    amount: '0.002',
    reduceOnly: false,
    leverage: 2,
    status: 'pending',
    exchangeOrderId: null,
    filled: '0',
    average: null,
    fee: '0',
    reason: null,
    createdAt: 1,
    updatedAt: 1,
  };
}

async function benchDb(impl: Impl): Promise<void> {
  const kind = defaultDb();
  const traders = Math.min(N, 2_000);
  const db = await createBenchDatabase(kind);
  const { store, close } = await db.open();
  try {
    const filled = (r: OrderRecord, leg: number) => ({
      id: String(leg + 1),
      clientOrderId: r.clientOrderId,
      symbol: r.symbol,
      side: r.side,
      type: r.type,
      amount: r.amount,
      price: null,
      status: 'closed' as const,
      filled: r.amount,
      average: '65000.1',
      fee: '0.065',
      reduceOnly: false,
      reason: null,
      timestamp: 2,
    });
    // Warm-up: connections open, statements prepared.
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.orders.insertPending(pendingRecord(i, 99, impl))));
    await store.orders.insertPendingMany([pendingRecord(0, 98, impl)]);
    await store.orders.updateManyFromVenue([{ clientOrderId: pendingRecord(0, 98, impl).clientOrderId, order: filled(pendingRecord(0, 98, impl), 0), at: 1 }]);
    for (const [round, batched] of [false, true, false, true].entries()) {
      const recs = Array.from({ length: traders }, (_, i) => [0, 1].map((leg) => pendingRecord(i, leg + round * 10, impl)));
      let t0 = stamp();
      if (batched) await Promise.all(recs.map((pair) => store.orders.insertPendingMany(pair)));
      else await Promise.all(recs.map(async (pair) => {
        for (const r of pair) await store.orders.insertPending(r);
      }));
      const ins = ms(t0);
      t0 = stamp();
      if (batched) {
        const slices: { clientOrderId: string; order: ReturnType<typeof filled>; at: number }[][] = [];
        for (let i = 0; i < recs.length; i += 200)
          slices.push(recs.slice(i, i + 200).flatMap((pair) => pair.map((r, leg) => ({ clientOrderId: r.clientOrderId, order: filled(r, leg), at: 3 }))));
        await Promise.all(slices.map((rows) => store.orders.updateManyFromVenue(rows)));
      } else await Promise.all(recs.map(async (pair) => {
        for (const [leg, r] of pair.entries()) await store.orders.updateFromVenue(r.clientOrderId, filled(r, leg), 3);
      }));
      const upd = ms(t0);
      console.log(
        `db ${kind} ${batched ? 'batched' : 'per order'}: ${traders} traders × 2 orders: record ${f1(ins)} ms, venue answers ${f1(upd)} ms` +
          (batched ? ' (insertPendingMany per trader, updateManyFromVenue per 200 traders)' : ' (insertPending, updateFromVenue)'),
      );
    }
    const paper = store.paper as typeof store.paper & { findOrder?: (a: string, c: string) => Promise<unknown> };
    if (paper.findOrder) {
      const orders = Array.from({ length: traders }, (_, i) => ({ accountId: accountId(i), order: filled(pendingRecord(i, 0, impl), 0) }));
      await store.paper.saveBatch({ accounts: [], orders, fills: [] });
      const t0 = stamp();
      const found = await Promise.all(
        Array.from({ length: traders * 2 }, (_, k) => paper.findOrder!(accountId(k >> 1), pendingRecord(k >> 1, k & 1, impl).clientOrderId)),
      );
      console.log(`db ${kind} findOrder: ${traders * 2} concurrent lookups (${found.filter(Boolean).length} found) in ${f1(ms(t0))} ms`);
    }
  } finally {
    await close();
    await db.drop();
  }
}

const impl = await load();
if (want('paper')) await benchPaper(impl);
if (want('history')) await benchHistory(impl);
if (want('collect')) await benchCollect(impl);
if (chosen.includes('db')) await benchDb(impl);
