/** The part of dynalite (an in-memory DynamoDB-protocol server, CommonJS, no types of its own) we use. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** How long a new table stays CREATING (default 500 ms). */
    readonly createTableMs?: number;
    readonly deleteTableMs?: number;
    readonly updateTableMs?: number;
    /** A LevelDB directory; in memory when unset. */
    readonly path?: string;
  }

  /** An HTTP server speaking the DynamoDB protocol; `close` also closes its store. */
  function dynalite(options?: DynaliteOptions): Server;
  export default dynalite;
}
