// The shared namespace (SHARED_NAMESPACE) is a tenant row that no API can create, read or delete: it owns
// the shared models, their jobs and artifacts, under its own data key. It is made once, at the first
// start of the platform (a migration cannot: the data key must be wrapped by the master key).
import { isAppError } from '../core/errors.ts';
import { SHARED_NAMESPACE } from '../core/scope.ts';
import type { Store } from '../store/ports.ts';
import type { KeyRing } from './keyring.ts';

export async function ensureSharedNamespace(
  store: Pick<Store, 'tenants'>,
  keyring: Pick<KeyRing, 'newWrappedKey'>,
  at: string,
): Promise<void> {
  if (await store.tenants.get(SHARED_NAMESPACE)) return;
  try {
    await store.tenants.create(
      {
        id: SHARED_NAMESPACE,
        name: 'shared models',
        // Shared training competes with tenants' jobs under the fair scheduler like any tenant would.
        tier: 'premium',
        sharedTraining: false,
        quotaOverrides: {},
        wrappedDataKey: keyring.newWrappedKey(SHARED_NAMESPACE),
      },
      'system',
      at,
    );
  } catch (err) {
    // Another replica created it first.
    if (!(isAppError(err) && err.code === 'conflict')) throw err;
  }
}
