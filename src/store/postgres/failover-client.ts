/**
 * The pg.Client the pool uses when DATABASE_URL lists several servers or sets target_session_attrs
 * (./hosts.ts): each new connection walks the servers in order, as libpq does, and keeps the first that
 * answers and passes the check; a server that refuses, does not answer in time or fails the check is
 * closed and the next one tried. After a failover (primary gone, standby promoted) new connections
 * find the new primary by themselves; the server that passed last is tried first.
 *
 * A pg.Client can connect only once, so with several servers the walk uses short-lived probe clients
 * and the pool's client then connects to the server that passed (two connections per new pooled
 * connection, the cost of staying on node-postgres' public API). With a single server and a check,
 * the check runs on the pool's client itself.
 */
import pg from 'pg';
import { describeServers, type ServerAddress, type ServerList, type TargetSessionAttrs } from './hosts.js';
import { describeServerFailure, noAcceptableServer } from './errors.js';

/** What one round trip tells about a server. */
interface ServerState {
  inRecovery: boolean;
  readOnly: boolean;
}

/** One query for every mode: libpq's `SHOW transaction_read_only` and `pg_is_in_recovery()` in one round trip. */
const STATE_QUERY = `SELECT pg_is_in_recovery() AS in_recovery, current_setting('transaction_read_only') AS read_only`;
/**
 * How long one server of the list gets without connect_timeout in the URL (less when the pool timeout
 * shared among the servers is shorter): a primary gone without closing its sockets (a failover that
 * moved its address) must not hold every new connection for most of POSTGRES_POOL_TIMEOUT.
 */
const DEFAULT_SERVER_MILLIS = 5_000;
/** Most of the pool timeout the walk leaves for the final connection to the chosen server. */
const WALK_MARGIN_MILLIS = 500;
/** A probe's polite Terminate gets this long before its socket is destroyed. */
const DISCARD_GRACE_MILLIS = 1_000;

/**
 * The pg.Client subclass for pg.Pool's `Client` option. `timeoutMillis` (POSTGRES_POOL_TIMEOUT) bounds
 * the whole walk; each server gets connect_timeout, else an equal share of it, at most 5 s.
 */
export function failoverClient(list: ServerList, timeoutMillis: number): typeof pg.Client {
  // The walk ends a little before the pool's own timeout, so the caller gets the line naming each
  // server rather than pg-pool's bare "timeout exceeded when trying to connect".
  const walkMillis = Math.max(1, timeoutMillis - Math.min(WALK_MARGIN_MILLIS, timeoutMillis / 10));
  const perServerMillis =
    list.connectTimeoutSeconds !== null
      ? list.connectTimeoutSeconds * 1000
      : Math.max(1, Math.min(DEFAULT_SERVER_MILLIS, Math.floor(walkMillis / list.servers.length)));
  // Shared by the pool's clients: the server that passed last, tried first by the next connection.
  let lastGood: ServerAddress | null = null;

  return class FailoverClient extends pg.Client {
    readonly #config: pg.ClientConfig;

    constructor(config: pg.ClientConfig) {
      super(config);
      this.#config = config;
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
    override connect(
      callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void),
    ): Promise<pg.Client> | void {
      // Resolves with the client, like pg.Client#connect; pg-pool passes a callback.
      const connected = this.#connectToChosenServer().then(() => this);
      if (callback === undefined) return connected;
      const done = callback as (err: Error | null, c?: pg.Client) => void;
      connected.then(
        (client) => done(null, client),
        (err: Error) => done(err),
      );
    }

    async #connectToChosenServer(): Promise<void> {
      if (list.servers.length === 1) return this.#connectAndCheck(list.servers[0] as ServerAddress);
      const deadline = Date.now() + walkMillis;
      const order = lastGood === null ? list.servers : [lastGood, ...list.servers.filter((s) => s !== lastGood)];
      const chosen = await chooseServer(order, list.targetSessionAttrs, deadline, (server, budget) =>
        this.#probe(server, budget),
      );
      lastGood = chosen;
      this.#aimAt(chosen);
      await super.connect();
    }

    /** One server: connect this client, then check it (no extra query when target_session_attrs=any). */
    async #connectAndCheck(server: ServerAddress): Promise<void> {
      this.#aimAt(server);
      await super.connect();
      if (list.targetSessionAttrs === 'any') return;
      let state: ServerState;
      try {
        state = await readState(this, perServerMillis);
      } catch (err) {
        discard(this);
        throw err;
      }
      const refusal = refusalOf(state, list.targetSessionAttrs);
      if (refusal !== null) {
        discard(this);
        throw noAcceptableServer(list.targetSessionAttrs, describeServers(list.servers), [
          `${describeServers([server])} ${refusal}`,
        ]);
      }
    }

    /** A short-lived connection to `server` that reports its state; always closed. */
    async #probe(server: ServerAddress, budgetMillis: number): Promise<ServerState | null> {
      const probe = new pg.Client({ ...this.#config, connectionTimeoutMillis: budgetMillis });
      aim(probe, server);
      probe.on('error', () => {}); // a probe that breaks is simply not chosen
      try {
        await probe.connect();
        return list.targetSessionAttrs === 'any' ? null : await readState(probe, budgetMillis);
      } finally {
        discard(probe);
      }
    }

    #aimAt(server: ServerAddress): void {
      aim(this, server);
    }
  };

  /** Walks `order` and returns the first acceptable server, or throws the one-line refusal. */
  async function chooseServer(
    order: readonly ServerAddress[],
    attrs: TargetSessionAttrs,
    deadline: number,
    probe: (server: ServerAddress, budgetMillis: number) => Promise<ServerState | null>,
  ): Promise<ServerAddress> {
    const reasons: string[] = [];
    // prefer-standby: a standby if any answers, else the first server that answered at all.
    let fallback: ServerAddress | null = null;
    for (const server of order) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        reasons.push(`${describeServers([server])} not tried (POSTGRES_POOL_TIMEOUT spent)`);
        continue;
      }
      let state: ServerState | null;
      try {
        state = await probe(server, Math.min(perServerMillis, remaining));
      } catch (err) {
        reasons.push(`${describeServers([server])} ${describeServerFailure(err)}`);
        continue;
      }
      const refusal = state === null ? null : refusalOf(state, attrs);
      if (refusal === null) return server;
      if (attrs === 'prefer-standby') fallback ??= server;
      reasons.push(`${describeServers([server])} ${refusal}`);
    }
    if (fallback !== null) return fallback;
    throw noAcceptableServer(attrs, describeServers(list.servers), reasons);
  }
}

/** Why a server in `state` does not suit `attrs` (null: it does). */
export function refusalOf(state: ServerState, attrs: TargetSessionAttrs): string | null {
  switch (attrs) {
    case 'any':
      return null;
    case 'read-write':
      return state.readOnly ? 'is read-only (transaction_read_only is on)' : null;
    case 'read-only':
      return state.readOnly ? null : 'accepts writes (transaction_read_only is off)';
    case 'primary':
      return state.inRecovery ? 'is a standby (in recovery)' : null;
    case 'standby':
    case 'prefer-standby':
      return state.inRecovery ? null : 'is a primary (not in recovery)';
  }
}

async function readState(client: pg.Client, timeoutMillis: number): Promise<ServerState> {
  // query_timeout bounds a server that accepted the connection and then went silent.
  const result = await client.query<{ in_recovery: boolean; read_only: string }>({
    text: STATE_QUERY,
    query_timeout: timeoutMillis,
  } as pg.QueryConfig);
  const row = result.rows[0];
  return { inRecovery: row?.in_recovery === true, readOnly: row?.read_only === 'on' };
}

/** Points a not yet connected client at `server` (pg.Client connects to this.host/this.port). */
function aim(client: pg.Client, server: ServerAddress): void {
  const mutable = client as unknown as { host: string; port: number; connectionParameters: ServerAddress };
  mutable.host = server.host;
  mutable.port = server.port;
  mutable.connectionParameters.host = server.host;
  mutable.connectionParameters.port = server.port;
}

/** Closes a client without waiting: Terminate first, the socket destroyed if the server does not answer. */
function discard(client: pg.Client): void {
  const socket = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  const timer = setTimeout(() => socket?.destroy(), DISCARD_GRACE_MILLIS);
  timer.unref();
  client.end().then(
    () => clearTimeout(timer),
    () => socket?.destroy(),
  );
}
