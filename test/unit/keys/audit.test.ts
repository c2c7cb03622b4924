import { describe, expect, it } from 'vitest';
import type { AuditInput } from '../../../runtime/accounts/index.ts';
import { keyEventAudit } from '../../../runtime/keys/index.ts';

describe('keyEventAudit', () => {
  it('turns a key history row into an audit entry the accounts audit sink takes', () => {
    const entry: AuditInput = keyEventAudit(
      { id: 3, keyId: 'xk-1', userId: 'u-1', at: 5, action: 'revoked', by: 'alice', reason: 'leaked' },
      { userId: 'u-ops', ip: '10.0.0.7' },
    );
    expect(entry).toEqual({
      actor: { userId: 'u-ops', label: 'alice', ip: '10.0.0.7' },
      action: 'exchange_key.revoked',
      target: { type: 'exchange_key', id: 'xk-1' },
      outcome: 'ok',
      message: 'alice: exchange key xk-1 of u-1 revoked (leaked)',
      before: null,
      after: { userId: 'u-1', action: 'revoked', reason: 'leaked' },
    });
  });

  it('acts as the system when no user is given and omits an empty reason', () => {
    const entry = keyEventAudit({ id: 4, keyId: 'xk-1', userId: 'u-1', at: 6, action: 'rotated', by: 'system', reason: null });
    expect([entry.actor, entry.message]).toEqual([{ userId: null, label: 'system', ip: '' }, 'system: exchange key xk-1 of u-1 rotated']);
  });
});
