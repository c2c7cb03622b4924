/**
 * An in-memory `OrdersRepo` with the store's semantics (insert-or-ignore by client id, venue
 * updates, failures), for driving the executor against the double without a database.
 */
import type { TraderId } from '../../../runtime/domain.ts';
import type { OrderRecord, OrdersRepo } from '../../../runtime/store/types.ts';

/** An in-memory orders repository plus its rows, for assertions. */
export interface MemoryOrders extends OrdersRepo {
  readonly rows: Map<string, OrderRecord>;
}

/** Creates an empty in-memory orders repository. */
export function createMemoryOrders(): MemoryOrders {
  const rows = new Map<string, OrderRecord>();
  const byTrader = (traderId: TraderId) => [...rows.values()].filter((r) => r.traderId === traderId);
  return {
    rows,
    async insertPending(o) {
      if (rows.has(o.clientOrderId)) return false;
      rows.set(o.clientOrderId, o);
      return true;
    },
    async get(id) {
      return rows.get(id) ?? null;
    },
    async updateFromVenue(id, o, at) {
      const r = rows.get(id);
      if (r)
        rows.set(id, { ...r, status: o.status, exchangeOrderId: o.id, filled: o.filled, average: o.average, fee: o.fee, reason: o.reason, updatedAt: at });
    },
    async insertPendingMany(records) {
      const inserted = new Set<string>();
      for (const o of records) {
        if (rows.has(o.clientOrderId)) continue;
        rows.set(o.clientOrderId, o);
        inserted.add(o.clientOrderId);
      }
      return inserted;
    },
    async updateManyFromVenue(updates) {
      for (const { clientOrderId: id, order: o, at } of updates) {
        const r = rows.get(id);
        if (r)
          rows.set(id, { ...r, status: o.status, exchangeOrderId: o.id, filled: o.filled, average: o.average, fee: o.fee, reason: o.reason, updatedAt: at });
      }
    },
    async markFailed(id, reason, at) {
      const r = rows.get(id);
      if (r) rows.set(id, { ...r, status: 'failed', reason, updatedAt: at });
    },
    async listPending() {
      return [...rows.values()].filter((r) => r.status === 'pending');
    },
    async recentForTrader(traderId, limit) {
      return byTrader(traderId)
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, limit);
    },
    async countForTrader(traderId) {
      return byTrader(traderId).length;
    },
    async listForTrader(traderId, opts = {}) {
      return byTrader(traderId)
        .filter((r) => (opts.statuses === undefined || opts.statuses.includes(r.status)) && (opts.since === undefined || r.createdAt > opts.since))
        .sort((a, b) => a.createdAt - b.createdAt || (a.clientOrderId < b.clientOrderId ? -1 : a.clientOrderId > b.clientOrderId ? 1 : 0));
    },
  };
}
