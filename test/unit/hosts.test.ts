import { describe, it, expect } from 'vitest';
import {
  describeServers,
  needsServerChoice,
  parseServerList,
  ServerListError,
} from '../../src/store/postgres/hosts.js';
import { refusalOf } from '../../src/store/postgres/failover-client.js';
import { connectionTarget } from '../../src/store/postgres/pool.js';
import { describeDatabaseTarget } from '../../src/store/postgres/database-config.js';

function refusalMessage(url: string): string {
  try {
    parseServerList(url);
  } catch (err) {
    expect(err).toBeInstanceOf(ServerListError);
    expect((err as Error).message).not.toContain('s3cret');
    return (err as Error).message;
  }
  throw new Error(`parseServerList accepted ${url}`);
}

describe('parseServerList: the libpq multi-host forms', () => {
  it('a single-host URL without target_session_attrs is passed on unchanged and needs no server choice', () => {
    const url = 'postgresql://u:s3cret@db:6543/auth?sslmode=require';
    const list = parseServerList(url);
    expect(list).toEqual({
      servers: [{ host: 'db', port: 6543 }],
      targetSessionAttrs: 'any',
      connectTimeoutSeconds: null,
      url,
    });
    expect(needsServerChoice(list)).toBe(false);
  });

  it('several hosts in the authority: each with its own port, or 5432', () => {
    const list = parseServerList('postgresql://u:s3cret@h1:5432,h2:5433,h3/db?target_session_attrs=read-write');
    expect(list.servers).toEqual([
      { host: 'h1', port: 5432 },
      { host: 'h2', port: 5433 },
      { host: 'h3', port: 5432 },
    ]);
    expect(list.targetSessionAttrs).toBe('read-write');
    expect(list.url).toBe('postgresql://u:s3cret@h1:5432/db');
    expect(needsServerChoice(list)).toBe(true);
  });

  it('hosts without a port take the port= parameter', () => {
    const list = parseServerList('postgres://u@h1,h2:7000/db?port=6000&application_name=x');
    expect(list.servers).toEqual([
      { host: 'h1', port: 6000 },
      { host: 'h2', port: 7000 },
    ]);
    expect(list.url).toBe('postgres://u@h1:6000/db?application_name=x');
  });

  it('IPv6 hosts in brackets, with and without a port', () => {
    const list = parseServerList('postgresql://u:p@[::1]:5433,[fe80::2]/db');
    expect(list.servers).toEqual([
      { host: '::1', port: 5433 },
      { host: 'fe80::2', port: 5432 },
    ]);
    expect(list.url).toBe('postgresql://u:p@[::1]:5433/db');
    expect(describeServers(list.servers)).toBe('[::1]:5433,[fe80::2]:5432');
  });

  it("libpq's host= and port= query parameters, one port per host or one for all", () => {
    const perHost = parseServerList('postgresql://u:p@/db?host=h1,h2&port=5432,5433&sslmode=disable');
    expect(perHost.servers).toEqual([
      { host: 'h1', port: 5432 },
      { host: 'h2', port: 5433 },
    ]);
    expect(perHost.url).toBe('postgresql://u:p@h1:5432/db?sslmode=disable');
    const shared = parseServerList('postgresql:///db?host=h1,h2&port=6000');
    expect(shared.servers).toEqual([
      { host: 'h1', port: 6000 },
      { host: 'h2', port: 6000 },
    ]);
  });

  it('Unix socket directories, %-encoded in the authority or plain in host=', () => {
    const list = parseServerList('postgresql://u:p@%2Frun%2Fpostgresql,db2/app?target_session_attrs=primary');
    expect(list.servers).toEqual([
      { host: '/run/postgresql', port: 5432 },
      { host: 'db2', port: 5432 },
    ]);
    expect(list.url).toBe('postgresql://u:p@%2Frun%2Fpostgresql:5432/app');
    expect(parseServerList('postgresql://u:p@/app?host=/tmp').servers).toEqual([{ host: '/tmp', port: 5432 }]);
  });

  it('every target_session_attrs value of libpq; connect_timeout per server, at least 2 s', () => {
    for (const attrs of ['any', 'read-write', 'primary', 'read-only', 'standby', 'prefer-standby']) {
      expect(parseServerList(`postgresql://h/db?target_session_attrs=${attrs}`).targetSessionAttrs).toBe(attrs);
    }
    expect(parseServerList('postgresql://h1,h2/db?connect_timeout=1').connectTimeoutSeconds).toBe(2);
    expect(parseServerList('postgresql://h1,h2/db?connect_timeout=10').connectTimeoutSeconds).toBe(10);
    expect(parseServerList('postgresql://h1,h2/db?connect_timeout=0').connectTimeoutSeconds).toBeNull();
    // A single host that only asks for a check still needs the walk (the check), and loses the parameter.
    const single = parseServerList('postgresql://u:p@h/db?target_session_attrs=read-write&sslmode=require');
    expect(needsServerChoice(single)).toBe(true);
    expect(single.url).toBe('postgresql://u:p@h:5432/db?sslmode=require');
  });

  it('refuses what libpq refuses, in words that never hold the password', () => {
    expect(refusalMessage('postgresql://u:s3cret@h1,h2/db?target_session_attrs=master')).toBe(
      'target_session_attrs must be one of any, read-write, primary, read-only, standby, prefer-standby (got "master")',
    );
    expect(refusalMessage('postgresql://u:s3cret@/db?host=h1,h2,h3&port=5432,5433')).toBe(
      '3 hosts but 2 ports: give one port, or one per host',
    );
    expect(refusalMessage('postgresql://u:s3cret@h1:99999,h2/db')).toBe('port "99999" is not 1-65535');
    expect(refusalMessage('postgresql://u:s3cret@h1:abc/db')).toBe('port "abc" is not 1-65535');
    expect(refusalMessage('postgresql://u:s3cret@h1,,h2/db')).toBe('the host list has an empty entry');
    expect(refusalMessage('postgresql://u:s3cret@::1,h2/db')).toBe('an IPv6 host must be in [brackets]');
    expect(refusalMessage('postgresql://u:s3cret@h1,h2/db?connect_timeout=soon')).toBe(
      'connect_timeout must be a whole number of seconds (got "soon")',
    );
    expect(refusalMessage('mysql://u:s3cret@h1/db')).toBe('the URL must start with postgres:// or postgresql://');
  });
});

describe('the check each target_session_attrs makes (libpq semantics)', () => {
  const primary = { inRecovery: false, readOnly: false };
  const standby = { inRecovery: true, readOnly: true };
  const readOnlyPrimary = { inRecovery: false, readOnly: true };

  it('read-write wants transaction_read_only off; primary wants pg_is_in_recovery() false', () => {
    expect(refusalOf(primary, 'read-write')).toBeNull();
    expect(refusalOf(standby, 'read-write')).toBe('is read-only (transaction_read_only is on)');
    expect(refusalOf(readOnlyPrimary, 'read-write')).toBe('is read-only (transaction_read_only is on)');
    expect(refusalOf(readOnlyPrimary, 'primary')).toBeNull();
    expect(refusalOf(standby, 'primary')).toBe('is a standby (in recovery)');
  });

  it('read-only, standby and prefer-standby are the mirror images; any takes everything', () => {
    expect(refusalOf(readOnlyPrimary, 'read-only')).toBeNull();
    expect(refusalOf(primary, 'read-only')).toBe('accepts writes (transaction_read_only is off)');
    expect(refusalOf(standby, 'standby')).toBeNull();
    expect(refusalOf(primary, 'standby')).toBe('is a primary (not in recovery)');
    expect(refusalOf(primary, 'prefer-standby')).toBe('is a primary (not in recovery)');
    expect(refusalOf(standby, 'any')).toBeNull();
  });
});

describe('naming a multi-host database', () => {
  it('connectionTarget and describeDatabaseTarget show every server, never the password', () => {
    const target = connectionTarget('postgresql://app:s3cret@127.0.0.1:5432,127.0.0.1:5433/auth');
    expect(target).toMatchObject({ user: 'app', host: '127.0.0.1', port: 5432, database: 'auth' });
    expect(describeDatabaseTarget(target)).toBe('app@127.0.0.1:5432,127.0.0.1:5433/auth');
    expect(describeDatabaseTarget(connectionTarget('postgresql://app:s3cret@db:6543/auth'))).toBe('app@db:6543/auth');
    expect(describeDatabaseTarget(connectionTarget('postgresql://app@/auth?host=a,[::1]&port=1,2'))).toBe(
      'app@a:1,[::1]:2/auth',
    );
  });
});
