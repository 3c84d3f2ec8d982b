// A store whose model registry reports its changes: every promotion, rollback, registration, taint or
// publication calls `onChange` once it is done (whether it succeeded or not — a failed call may have
// changed nothing, and a spurious notice only costs a lookup). The platform uses it to drop the
// inference plane's reused resolutions, so a change made in this process reaches the next prediction.
import type { ModelRepo, Store } from './ports.ts';

const MUTATIONS = ['register', 'promote', 'rollback', 'taint', 'setAudience'] as const;

export function withModelChanges(store: Store, onChange: () => void): Store {
  const models: ModelRepo = { ...store.models };
  for (const name of MUTATIONS) {
    const original = store.models[name] as (...args: unknown[]) => Promise<unknown>;
    (models as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      try {
        return await original(...args);
      } finally {
        onChange();
      }
    };
  }
  return Object.freeze({ ...store, models });
}
