/** Lambda entry point. The configuration is read here, at cold start: a missing variable fails, naming it. */
import { createHandler, depsFromEnv } from './app.ts';

export { createHandler };
export const handler = createHandler(depsFromEnv());
