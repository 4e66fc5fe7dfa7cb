import { quote } from '#core/instances.ts';
import { InvalidEventError } from './parse.ts';

/** An event of another account or region: not this deployment's to act on. */
export class ForeignEventError extends InvalidEventError {
  override readonly name = 'ForeignEventError';
}

/**
 * Returns the event when it belongs to the account and region the function runs in (events without an
 * EventBridge envelope, such as a direct invocation, carry none and pass). An event consistent with
 * itself that names another account or region was forwarded or forged.
 * @throws ForeignEventError
 */
export function requireHome<E>(
  event: E,
  home: { readonly accountId: string; readonly region: string },
  describe: (event: E) => string = () => 'the event',
): E {
  const envelope = event as { account?: unknown; region?: unknown };
  if (typeof envelope.account !== 'string' || typeof envelope.region !== 'string') return event;
  if (envelope.account === home.accountId && envelope.region === home.region) return event;
  throw new ForeignEventError(
    `${describe(event)} is in account ${envelope.account}, region ${envelope.region}; ` +
      `this function serves account ${quote(home.accountId)}, region ${quote(home.region)} only`,
  );
}
