/** A page of a paginated AWS call. */
export interface Page {
  readonly NextToken?: string | undefined;
}

/**
 * Every page of a paginated call, following `NextToken` until the service sends none (or an empty one).
 * The SDK's own paginators call `client.send` themselves; this one lets each adapter put every page through
 * its pacing and retries on the injected clock.
 */
export async function* pages<P extends Page>(
  fetchPage: (token: string | undefined) => Promise<P>,
): AsyncGenerator<P> {
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    yield page;
    token = page.NextToken;
  } while (token !== undefined && token !== '');
}
