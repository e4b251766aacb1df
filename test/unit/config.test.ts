import os from 'node:os';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { ConfigError, describeDatabaseTarget, loadConfig, redactUrl } from '../../src/config.js';

type Env = Record<string, string | undefined>;

/** Runs loadConfig expecting it to fail and returns the ConfigError. */
function configErrorOf(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** The single problem a one-variable env should produce. */
function problemOf(env: Env): string {
  const { problems } = configErrorOf(env);
  expect(problems).toHaveLength(1);
  return problems[0] as string;
}

describe('loadConfig defaults', () => {
  it('an empty env gives every documented default', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      backend: 'embedded',
      dataDir: path.resolve('./data'),
      database: {
        url: 'postgresql://reynard:reynard@localhost:5432/reynard',
        host: 'localhost',
        port: 5432,
        user: 'reynard',
        password: 'reynard',
        database: 'reynard',
        sslMode: null,
        sslRootCert: null,
        poolSize: 10,
        maxOverflow: 20,
        poolTimeoutSeconds: 30,
        echo: false,
        statementTimeoutSeconds: 5,
        lockTimeoutSeconds: 2,
        idleSeconds: 30,
        minConnections: 1,
        poolMode: 'session',
        directUrl: null,
        explicit: false,
      },
      host: '127.0.0.1',
      port: 8000,
      secretKey: null,
      jwtAlgorithm: 'HS256',
      accessTokenExpireMinutes: 30,
      refreshTokenExpireDays: 7,
      issuer: null,
      audience: null,
      passwordSecurityLevel: 'MEDIUM',
      passwordPolicy: 'reynard',
      allowRegistration: true,
      loginWindowSeconds: 900,
      loginAccountMaxFailures: 5,
      loginIpMaxFailures: 50,
      registerIpMaxConflicts: 20,
      trustProxy: false,
      admin: null,
      logLevel: 'info',
      logFormat: 'auto',
      accessLog: false,
      hashConcurrency: os.availableParallelism(),
      hashQueueMax: 64,
      corsOrigins: [],
      mail: {
        smtpUrl: null,
        smtpCaFile: null,
        from: 'Gatekeeper <no-reply@localhost>',
        publicUrl: 'http://localhost:8000',
        productName: 'Gatekeeper',
        templatesDir: null,
      },
      ui: { enabled: true, logoUrl: null, accent: '#2952cc', returnToOrigins: [] },
      auditRetentionDays: 90,
      resetTokenMinutes: 30,
      forgotIpMax: 10,
      emailVerificationMinutes: 60,
      requireEmailVerification: false,
      refreshReuseGraceSeconds: 10,
      sessionMaxDays: 30,
      notifyNewAddress: false,
      requestTimeoutSeconds: 30,
      requestDeadlineSeconds: 10,
      healthTimeoutSeconds: 2,
      shutdownTimeoutSeconds: 10,
      workers: 1,
      userCacheSeconds: 10,
      metricsToken: null,
    });
  });

  it('empty strings count as unset for every variable', () => {
    const env = Object.fromEntries(
      [
        'DATABASE_URL',
        'POSTGRES_HOST',
        'POSTGRES_PORT',
        'POSTGRES_PASSWORD',
        'POSTGRES_POOL_SIZE',
        'POSTGRES_ECHO',
        'POSTGRES_SSLMODE',
        'PORT',
        'GATEKEEPER_BACKEND',
        'GATEKEEPER_SECRET_KEY',
        'GATEKEEPER_ISSUER',
        'GATEKEEPER_AUDIENCE',
        'GATEKEEPER_ADMIN_USERNAME',
        'GATEKEEPER_CORS_ORIGINS',
        'LOG_LEVEL',
      ].map((name) => [name, '']),
    );
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });

  it('reads the values it is given', () => {
    const config = loadConfig({
      GATEKEEPER_BACKEND: 'memory',
      GATEKEEPER_DATA_DIR: '/var/lib/gatekeeper',
      HOST: '0.0.0.0',
      PORT: '0',
      GATEKEEPER_SECRET_KEY: 'x'.repeat(32),
      GATEKEEPER_JWT_ALGORITHM: 'EdDSA',
      GATEKEEPER_ISSUER: 'https://auth.example.com',
      GATEKEEPER_AUDIENCE: 'api',
      GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'paranoid',
      GATEKEEPER_PASSWORD_POLICY: 'nist',
      GATEKEEPER_ALLOW_REGISTRATION: 'OFF',
      GATEKEEPER_TRUST_PROXY: 'yes',
      POSTGRES_ECHO: '1',
      POSTGRES_POOL_TIMEOUT: '2.5',
      GATEKEEPER_HASH_CONCURRENCY: '3',
      GATEKEEPER_HASH_QUEUE_MAX: '0',
      GATEKEEPER_CORS_ORIGINS: ' https://app.example.com , ,http://localhost:5173/,*',
      GATEKEEPER_ADMIN_USERNAME: 'root',
      GATEKEEPER_ADMIN_PASSWORD: 'correct horse',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      backend: 'memory',
      dataDir: '/var/lib/gatekeeper',
      host: '0.0.0.0',
      port: 0,
      secretKey: 'x'.repeat(32),
      jwtAlgorithm: 'EdDSA',
      issuer: 'https://auth.example.com',
      audience: 'api',
      passwordSecurityLevel: 'PARANOID',
      passwordPolicy: 'nist',
      allowRegistration: false,
      trustProxy: 1,
      database: { echo: true, poolTimeoutSeconds: 2.5, explicit: false },
      hashConcurrency: 3,
      hashQueueMax: 0,
      corsOrigins: ['https://app.example.com', 'http://localhost:5173', '*'],
      admin: { username: 'root', password: 'correct horse', email: null },
      logLevel: 'debug',
    });
  });

  it('GATEKEEPER_REGISTER_IP_MAX_CONFLICTS is read, and a non-number is a problem naming it', () => {
    expect(loadConfig({ GATEKEEPER_REGISTER_IP_MAX_CONFLICTS: '7' }).registerIpMaxConflicts).toBe(7);
    expect(() => loadConfig({ GATEKEEPER_REGISTER_IP_MAX_CONFLICTS: 'ten' })).toThrow(
      /GATEKEEPER_REGISTER_IP_MAX_CONFLICTS/,
    );
  });

  it('resolves a relative GATEKEEPER_DATA_DIR to an absolute path', () => {
    expect(loadConfig({ GATEKEEPER_DATA_DIR: 'var/pg' }).dataDir).toBe(path.resolve('var/pg'));
  });

  it('returns a deep-frozen object', () => {
    const config = loadConfig({
      GATEKEEPER_CORS_ORIGINS: 'https://a.example',
      GATEKEEPER_ADMIN_USERNAME: 'root',
      GATEKEEPER_ADMIN_PASSWORD: 'pw',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.database)).toBe(true);
    expect(Object.isFrozen(config.corsOrigins)).toBe(true);
    expect(Object.isFrozen(config.admin)).toBe(true);
    expect(() => {
      (config.database as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe('loadConfig database', () => {
  it('DATABASE_URL wins over the POSTGRES_* parts and its parts are parsed and decoded', () => {
    const db = loadConfig({
      DATABASE_URL: 'postgres://app%40corp:p%40ss%3Aw%2Frd@db.internal:6543/auth%20db',
      POSTGRES_HOST: 'ignored',
      POSTGRES_USER: 'ignored',
      POSTGRES_PASSWORD: 'ignored',
      POSTGRES_DB: 'ignored',
    }).database;
    expect(db).toMatchObject({
      url: 'postgres://app%40corp:p%40ss%3Aw%2Frd@db.internal:6543/auth%20db',
      host: 'db.internal',
      port: 6543,
      user: 'app@corp',
      password: 'p@ss:w/rd',
      database: 'auth db',
      explicit: true,
    });
  });

  it('a DATABASE_URL without a port uses 5432 and an IPv6 host loses its brackets', () => {
    const db = loadConfig({ DATABASE_URL: 'postgresql://u:p@[::1]/db' }).database;
    expect(db).toMatchObject({ host: '::1', port: 5432, user: 'u', database: 'db' });
    expect(describeDatabaseTarget(db)).toBe('u@[::1]:5432/db');
  });

  it('builds the URL from the parts, encoding special characters in user and password', () => {
    const db = loadConfig({
      POSTGRES_HOST: 'pg.example.com',
      POSTGRES_PORT: '5433',
      POSTGRES_USER: 'svc@auth',
      POSTGRES_PASSWORD: 'p@ss:w/rd#?%',
      POSTGRES_DB: 'gatekeeper',
    }).database;
    expect(db.url).toBe('postgresql://svc%40auth:p%40ss%3Aw%2Frd%23%3F%25@pg.example.com:5433/gatekeeper');
    expect(db).toMatchObject({ host: 'pg.example.com', port: 5433, user: 'svc@auth', password: 'p@ss:w/rd#?%' });
    const reparsed = new URL(db.url);
    expect(decodeURIComponent(reparsed.password)).toBe('p@ss:w/rd#?%');
  });

  it('takes sslmode and sslrootcert from the URL when POSTGRES_SSLMODE and POSTGRES_SSLROOTCERT are unset', () => {
    const db = loadConfig({
      DATABASE_URL: 'postgresql://u:p@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem',
    }).database;
    expect(db.sslMode).toBe('verify-full');
    expect(db.sslRootCert).toBe('/etc/ca.pem');
  });

  it('POSTGRES_SSLMODE and POSTGRES_SSLROOTCERT win over the URL query', () => {
    const db = loadConfig({
      DATABASE_URL: 'postgresql://u:p@h/db?sslmode=require&sslrootcert=/etc/url.pem',
      POSTGRES_SSLMODE: 'disable',
      POSTGRES_SSLROOTCERT: '/etc/env.pem',
    }).database;
    expect(db.sslMode).toBe('disable');
    expect(db.sslRootCert).toBe('/etc/env.pem');
  });

  it('POSTGRES_SSLMODE applies to a URL built from parts', () => {
    expect(loadConfig({ POSTGRES_SSLMODE: 'require' }).database.sslMode).toBe('require');
  });

  it('an unknown sslmode in DATABASE_URL is a problem', () => {
    expect(problemOf({ DATABASE_URL: 'postgresql://u:p@h/db?sslmode=sometimes' })).toBe(
      'DATABASE_URL sslmode must be one of disable, prefer, require, verify-ca, verify-full (got "sometimes")',
    );
  });
});

describe('loadConfig multi-host DATABASE_URL (libpq forms)', () => {
  it('several hosts in the authority: the first is host/port, all are listed and named', () => {
    const url = 'postgresql://u:S3cret@127.0.0.1:5432,127.0.0.1:5433/db?target_session_attrs=read-write';
    const db = loadConfig({ DATABASE_URL: url }).database;
    expect(db).toMatchObject({
      url,
      host: '127.0.0.1',
      port: 5432,
      user: 'u',
      password: 'S3cret',
      database: 'db',
      servers: [
        { host: '127.0.0.1', port: 5432 },
        { host: '127.0.0.1', port: 5433 },
      ],
    });
    expect(describeDatabaseTarget(db)).toBe('u@127.0.0.1:5432,127.0.0.1:5433/db');
  });

  it("libpq's host= and port= parameters, and IPv6 hosts in brackets", () => {
    const fromParams = loadConfig({ DATABASE_URL: 'postgresql://u:p@/db?host=a,b&port=5432,5433' }).database;
    expect(describeDatabaseTarget(fromParams)).toBe('u@a:5432,b:5433/db');
    const v6 = loadConfig({ DATABASE_URL: 'postgresql://u:p@[::1]:6000,[::2]/db?port=7000' }).database;
    expect(describeDatabaseTarget(v6)).toBe('u@[::1]:6000,[::2]:7000/db');
  });

  it('a single-host URL gets no server list (nothing changes for it)', () => {
    const db = loadConfig({ DATABASE_URL: 'postgresql://u:p@h:6543/db' }).database;
    expect(db.servers).toBeUndefined();
    expect(describeDatabaseTarget(db)).toBe('u@h:6543/db');
  });

  it('an unknown target_session_attrs or mismatched host/port counts is a problem, the password not shown', () => {
    const attrs = problemOf({ DATABASE_URL: 'postgresql://u:S3cret@h1,h2/db?target_session_attrs=master' });
    expect(attrs).toBe(
      'DATABASE_URL: target_session_attrs must be one of any, read-write, primary, read-only, standby, prefer-standby (got "master") (got "postgresql://u:***@h1,h2/db?target_session_attrs=master")',
    );
    const single = problemOf({ DATABASE_URL: 'postgresql://u:S3cret@h/db?target_session_attrs=writable' });
    expect(single).toMatch(/^DATABASE_URL: target_session_attrs must be one of/);
    expect(single).not.toContain('S3cret');
    const counts = problemOf({ DATABASE_URL: 'postgresql://u:S3cret@/db?host=a,b,c&port=1,2' });
    expect(counts).toMatch(/^DATABASE_URL: 3 hosts but 2 ports: give one port, or one per host/);
    expect(counts).not.toContain('S3cret');
  });

  it('GATEKEEPER_DATABASE_DIRECT_URL takes the same forms and reports under its own name', () => {
    const direct = 'postgresql://gk:pw@db1:5432,db2:5432/gk?target_session_attrs=primary';
    expect(loadConfig({ GATEKEEPER_DATABASE_DIRECT_URL: direct }).database.directUrl).toBe(direct);
    const bad = problemOf({ GATEKEEPER_DATABASE_DIRECT_URL: 'postgresql://gk:Sup3rSecret@db1,db2/gk?port=1,2,3' });
    expect(bad).toMatch(/^GATEKEEPER_DATABASE_DIRECT_URL: 2 hosts but 3 ports/);
    expect(bad).not.toContain('Sup3rSecret');
  });

  it('redactUrl masks the password of a multi-host URL', () => {
    expect(redactUrl('postgresql://app:s3cret@h1:5432,h2:5433/auth')).toBe('postgresql://app:***@h1:5432,h2:5433/auth');
    expect(redactUrl('postgresql://app@h1,h2/auth')).toBe('postgresql://app@h1,h2/auth');
  });
});

describe('loadConfig backend resolution', () => {
  it('auto becomes embedded when no connection variable is set', () => {
    expect(loadConfig({}).backend).toBe('embedded');
  });

  it('auto becomes postgres when DATABASE_URL is set', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@h/db' }).backend).toBe('postgres');
  });

  it.each(['POSTGRES_HOST', 'POSTGRES_PORT', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB'])(
    'auto becomes postgres when %s alone is set',
    (name) => {
      const config = loadConfig({ [name]: name === 'POSTGRES_PORT' ? '5432' : 'x' });
      expect(config.database.explicit).toBe(true);
      expect(config.backend).toBe('postgres');
    },
  );

  it('pool, echo and TLS settings alone do not make the database explicit', () => {
    const config = loadConfig({
      POSTGRES_POOL_SIZE: '5',
      POSTGRES_MAX_OVERFLOW: '0',
      POSTGRES_POOL_TIMEOUT: '10',
      POSTGRES_ECHO: 'true',
      POSTGRES_SSLMODE: 'require',
      POSTGRES_SSLROOTCERT: '/ca.pem',
    });
    expect(config.database.explicit).toBe(false);
    expect(config.backend).toBe('embedded');
  });

  it('an explicit GATEKEEPER_BACKEND is kept whatever the database variables say', () => {
    expect(loadConfig({ GATEKEEPER_BACKEND: 'embedded', POSTGRES_HOST: 'db' }).backend).toBe('embedded');
    expect(loadConfig({ GATEKEEPER_BACKEND: 'postgres' }).backend).toBe('postgres');
  });
});

describe('session settings (issue 14)', () => {
  it('GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS=0 turns the window off; the edges of the ranges are accepted', () => {
    expect(loadConfig({ GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS: '0' }).refreshReuseGraceSeconds).toBe(0);
    expect(loadConfig({ GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS: '300' }).refreshReuseGraceSeconds).toBe(300);
    expect(loadConfig({ GATEKEEPER_SESSION_MAX_DAYS: '1' }).sessionMaxDays).toBe(1);
    expect(loadConfig({ GATEKEEPER_NOTIFY_NEW_ADDRESS: 'true' }).notifyNewAddress).toBe(true);
  });

  it('a bad GATEKEEPER_NOTIFY_NEW_ADDRESS is a start error naming it', () => {
    expect(problemOf({ GATEKEEPER_NOTIFY_NEW_ADDRESS: 'maybe' })).toMatch(
      /^GATEKEEPER_NOTIFY_NEW_ADDRESS must be one of .* \(got "maybe"\)$/,
    );
  });
});

describe('loadConfig rejections name the variable, the value and what is allowed', () => {
  it.each<[Env, string]>([
    [{ PORT: 'abc' }, 'PORT must be a whole number from 0 to 65535 (got "abc")'],
    [{ PORT: '65536' }, 'PORT must be a whole number from 0 to 65535 (got "65536")'],
    [{ POSTGRES_PORT: '0' }, 'POSTGRES_PORT must be a whole number from 1 to 65535 (got "0")'],
    [{ POSTGRES_POOL_SIZE: '-3' }, 'POSTGRES_POOL_SIZE must be a whole number ≥ 1 (got "-3")'],
    [{ POSTGRES_POOL_SIZE: 'ten' }, 'POSTGRES_POOL_SIZE must be a whole number ≥ 1 (got "ten")'],
    [{ POSTGRES_MAX_OVERFLOW: '1.5' }, 'POSTGRES_MAX_OVERFLOW must be a whole number ≥ 0 (got "1.5")'],
    [{ GATEKEEPER_HASH_QUEUE_MAX: '1e3' }, 'GATEKEEPER_HASH_QUEUE_MAX must be a whole number ≥ 0 (got "1e3")'],
    [{ GATEKEEPER_HASH_CONCURRENCY: ' ' }, 'GATEKEEPER_HASH_CONCURRENCY must be a whole number ≥ 1 (got " ")'],
    [
      { GATEKEEPER_ACCESS_TOKEN_EXPIRE_MINUTES: '0' },
      'GATEKEEPER_ACCESS_TOKEN_EXPIRE_MINUTES must be a whole number ≥ 1 (got "0")',
    ],
    [
      { GATEKEEPER_LOGIN_WINDOW_SECONDS: '99999999999999999999' },
      'GATEKEEPER_LOGIN_WINDOW_SECONDS must be a whole number ≥ 1 (got "99999999999999999999")',
    ],
    [
      { GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS: '-1' },
      'GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS must be a whole number from 0 to 300 (got "-1")',
    ],
    [
      { GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS: '3600' },
      'GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS must be a whole number from 0 to 300 (got "3600")',
    ],
    [
      { GATEKEEPER_SESSION_MAX_DAYS: '0' },
      'GATEKEEPER_SESSION_MAX_DAYS must be a whole number from 1 to 3650 (got "0")',
    ],
    [
      { GATEKEEPER_SESSION_MAX_DAYS: '7.5' },
      'GATEKEEPER_SESSION_MAX_DAYS must be a whole number from 1 to 3650 (got "7.5")',
    ],
    [{ POSTGRES_POOL_TIMEOUT: '0' }, 'POSTGRES_POOL_TIMEOUT must be a number > 0, e.g. 30 or 2.5 (got "0")'],
    [
      { GATEKEEPER_REQUEST_TIMEOUT_SECONDS: 'Infinity' },
      'GATEKEEPER_REQUEST_TIMEOUT_SECONDS must be a number > 0, e.g. 30 or 2.5 (got "Infinity")',
    ],
    [
      { GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'ULTRA' },
      'GATEKEEPER_PASSWORD_SECURITY_LEVEL must be one of LOW, MEDIUM, HIGH, PARANOID (got "ULTRA")',
    ],
    [
      { GATEKEEPER_JWT_ALGORITHM: 'none' },
      'GATEKEEPER_JWT_ALGORITHM must be one of HS256, EdDSA, ES256, RS256 (got "none")',
    ],
    [
      { GATEKEEPER_BACKEND: 'sqlite' },
      'GATEKEEPER_BACKEND must be one of auto, postgres, embedded, memory (got "sqlite")',
    ],
    [{ GATEKEEPER_PASSWORD_POLICY: 'NIST' }, 'GATEKEEPER_PASSWORD_POLICY must be one of reynard, nist (got "NIST")'],
    [
      { POSTGRES_SSLMODE: 'allow' },
      'POSTGRES_SSLMODE must be one of disable, prefer, require, verify-ca, verify-full (got "allow")',
    ],
    [
      { LOG_LEVEL: 'verbose' },
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    ],
    [
      { GATEKEEPER_TRUST_PROXY: 'maybe' },
      'GATEKEEPER_TRUST_PROXY must be false, true (one proxy hop), a hop count from 1 to 16, or trusted proxy addresses/CIDRs like 10.0.0.0/8,127.0.0.1 (got "maybe")',
    ],
    [{ POSTGRES_ECHO: 'enabled' }, 'POSTGRES_ECHO must be one of true, 1, yes, on, false, 0, no, off (got "enabled")'],
    [
      { GATEKEEPER_ADMIN_USERNAME: 'root' },
      'GATEKEEPER_ADMIN_PASSWORD must be set when GATEKEEPER_ADMIN_USERNAME is (got username "root")',
    ],
    [
      { GATEKEEPER_ADMIN_EMAIL: 'root@example.com' },
      'GATEKEEPER_ADMIN_EMAIL needs GATEKEEPER_ADMIN_USERNAME and GATEKEEPER_ADMIN_PASSWORD (got email "root@example.com")',
    ],
    [
      { GATEKEEPER_CORS_ORIGINS: 'https://ok.example,ftp://files.example' },
      'GATEKEEPER_CORS_ORIGINS entries must be * or an origin like https://app.example.com (got "ftp://files.example")',
    ],
    [
      { GATEKEEPER_CORS_ORIGINS: 'https://app.example.com/login' },
      'GATEKEEPER_CORS_ORIGINS entries must be * or an origin like https://app.example.com (got "https://app.example.com/login")',
    ],
    [
      { DATABASE_URL: 'mysql://root@db/app' },
      'DATABASE_URL must start with postgres:// or postgresql:// (got "mysql://root@db/app")',
    ],
  ])('%o is rejected with a one-line message', (env, message) => {
    expect(problemOf(env)).toBe(message);
  });

  it('a value holding a newline stays on one line in the message', () => {
    expect(problemOf({ LOG_LEVEL: 'info\nwarn' })).toBe(
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "info\\nwarn")',
    );
  });

  it('accepts every boolean spelling in any case', () => {
    for (const word of ['true', 'TRUE', '1', 'Yes', 'on'])
      expect(loadConfig({ GATEKEEPER_ACCESS_LOG: word }).accessLog).toBe(true);
    for (const word of ['false', 'False', '0', 'NO', 'off'])
      expect(loadConfig({ GATEKEEPER_ALLOW_REGISTRATION: word }).allowRegistration).toBe(false);
    expect(loadConfig({ GATEKEEPER_ACCESS_LOG: 'on' }).accessLog).toBe(true);
  });

  it('reports several problems together in one error', () => {
    const error = configErrorOf({
      PORT: 'abc',
      GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'ULTRA',
      POSTGRES_POOL_SIZE: '-1',
      GATEKEEPER_TRUST_PROXY: 'perhaps',
    });
    expect(error.problems).toHaveLength(4);
    for (const name of ['PORT', 'GATEKEEPER_PASSWORD_SECURITY_LEVEL', 'POSTGRES_POOL_SIZE', 'GATEKEEPER_TRUST_PROXY']) {
      expect(error.message).toContain(`  - ${name} must be`);
    }
    expect(error.name).toBe('ConfigError');
  });
});

describe('GATEKEEPER_TRUST_PROXY', () => {
  const trust = (value: string) => loadConfig({ GATEKEEPER_TRUST_PROXY: value }).trustProxy;

  it('is off by default and with every false spelling', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    for (const word of ['false', 'False', '0', 'NO', 'off']) expect(trust(word)).toBe(false);
  });

  it('reads true (any spelling) as exactly one proxy hop, never as "trust every entry"', () => {
    for (const word of ['true', 'TRUE', '1', 'Yes', 'on']) expect(trust(word)).toBe(1);
  });

  it('takes a hop count', () => {
    expect(trust('2')).toBe(2);
    expect(trust('16')).toBe(16);
  });

  it('takes trusted proxy addresses and CIDR blocks, IPv4 and IPv6', () => {
    expect(trust('10.0.0.0/8, 127.0.0.1,::1,fd00::/8')).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
  });

  it.each([
    ['17'],
    ['10.0.0.0/33'],
    ['10.0.0.0/8,proxy.internal'],
    ['::1/129'],
    ['10.0.0.1/8/8'],
    ['fe80::1%eth0'],
    ['10.0.0.0/'],
  ])('refuses %j, naming the bad entry', (value) => {
    const error = configErrorOf({ GATEKEEPER_TRUST_PROXY: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^GATEKEEPER_TRUST_PROXY must be false, true \(one proxy hop\), a hop count/);
  });
});

describe('loadConfig never echoes a secret', () => {
  it('a short GATEKEEPER_METRICS_TOKEN is rejected without showing it', () => {
    const error = configErrorOf({ GATEKEEPER_METRICS_TOKEN: 'hunter2-metrics' });
    expect(error.problems).toEqual([
      'GATEKEEPER_METRICS_TOKEN must be at least 16 characters without spaces (it has 15; value not shown)',
    ]);
    expect(error.message).not.toContain('hunter2');
    expect(loadConfig({ GATEKEEPER_METRICS_TOKEN: 'a-long-enough-metrics-token' }).metricsToken).toBe(
      'a-long-enough-metrics-token',
    );
    expect(loadConfig({}).metricsToken).toBeNull();
  });

  it('a short GATEKEEPER_SECRET_KEY is rejected without showing it', () => {
    const error = configErrorOf({ GATEKEEPER_SECRET_KEY: 'hunter2-tiny' });
    expect(error.problems).toEqual([
      'GATEKEEPER_SECRET_KEY must be at least 32 characters (it has 12; value not shown)',
    ]);
    expect(error.message).not.toContain('hunter2');
  });

  it('a DATABASE_URL with the wrong scheme is shown with its password replaced', () => {
    const error = configErrorOf({ DATABASE_URL: 'mysql://root:Sup3rS3cret@db/app' });
    expect(error.message).toContain('mysql://root:***@db/app');
    expect(error.message).not.toContain('Sup3rS3cret');
  });

  it('a DATABASE_URL that does not parse is not shown at all', () => {
    const error = configErrorOf({ DATABASE_URL: 'postgres://root:Sup3rS3cret@db:99999/app' });
    expect(error.problems).toEqual([
      'DATABASE_URL must be a URL like postgresql://user:password@host:5432/database (value not shown)',
    ]);
    expect(error.message).not.toContain('Sup3rS3cret');
  });

  it('a DATABASE_URL with a broken %-escape is shown redacted', () => {
    const error = configErrorOf({ DATABASE_URL: 'postgres://root:Sup3r%zzS3cret@db/app%zz' });
    expect(error.problems).toEqual(['DATABASE_URL has a malformed %-escape (got "postgres://root:***@db/app%zz")']);
    expect(error.message).not.toContain('Sup3r');
  });

  it('a POSTGRES_PASSWORD never appears next to a bad DATABASE_URL or other problems', () => {
    const error = configErrorOf({
      POSTGRES_PASSWORD: 'Pg-Pa55word',
      DATABASE_URL: 'http://u:Pg-Pa55word@h/db',
      POSTGRES_PORT: 'nope',
    });
    expect(error.problems).toHaveLength(2);
    expect(error.message).not.toContain('Pg-Pa55word');
  });

  it('a lone GATEKEEPER_ADMIN_PASSWORD is reported without showing it', () => {
    const error = configErrorOf({ GATEKEEPER_ADMIN_PASSWORD: 'Adm1n-Secret' });
    expect(error.problems).toEqual([
      'GATEKEEPER_ADMIN_USERNAME must be set when GATEKEEPER_ADMIN_PASSWORD is (password not shown)',
    ]);
    expect(error.message).not.toContain('Adm1n-Secret');
  });
});

describe('redactUrl', () => {
  it('replaces the password with ***', () => {
    expect(redactUrl('postgresql://app:s3cret@db:5432/auth?sslmode=require')).toBe(
      'postgresql://app:***@db:5432/auth?sslmode=require',
    );
  });

  it('returns a URL without a password unchanged', () => {
    expect(redactUrl('postgresql://app@db/auth')).toBe('postgresql://app@db/auth');
  });

  it('returns a placeholder for input that does not parse', () => {
    expect(redactUrl('postgres://u:s3cret@db:99999/x')).toBe('<unparseable URL>');
    expect(redactUrl('not a url')).toBe('<unparseable URL>');
  });
});

describe('describeDatabaseTarget', () => {
  it('names user, host, port and database but never the password', () => {
    const db = loadConfig({ DATABASE_URL: 'postgresql://svc:T0pSecret@pg.example.com:6543/gk' }).database;
    expect(describeDatabaseTarget(db)).toBe('svc@pg.example.com:6543/gk');
    expect(describeDatabaseTarget(loadConfig({}).database)).toBe('reynard@localhost:5432/reynard');
  });
});

describe('production database settings (issue 12)', () => {
  it('reads the timeouts, the idle release, the pool mode and the direct URL', () => {
    const config = loadConfig({
      GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS: '0',
      GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS: '7',
      GATEKEEPER_DATABASE_IDLE_SECONDS: '90',
      GATEKEEPER_DATABASE_MIN_CONNECTIONS: '0',
      GATEKEEPER_DATABASE_POOL_MODE: 'transaction',
      GATEKEEPER_DATABASE_DIRECT_URL: 'postgresql://gk:pw@db-direct:5432/gk',
      GATEKEEPER_REQUEST_DEADLINE_SECONDS: '4.5',
      GATEKEEPER_HEALTH_TIMEOUT_SECONDS: '1',
      GATEKEEPER_SHUTDOWN_TIMEOUT_SECONDS: '20',
    });
    expect(config.database).toMatchObject({
      statementTimeoutSeconds: 0,
      lockTimeoutSeconds: 7,
      idleSeconds: 90,
      minConnections: 0,
      poolMode: 'transaction',
      directUrl: 'postgresql://gk:pw@db-direct:5432/gk',
    });
    expect(config).toMatchObject({ requestDeadlineSeconds: 4.5, healthTimeoutSeconds: 1, shutdownTimeoutSeconds: 20 });
  });

  it('names each bad value, and never the direct URL password', () => {
    expect(problemOf({ GATEKEEPER_DATABASE_POOL_MODE: 'statement' })).toMatch(/^GATEKEEPER_DATABASE_POOL_MODE must be/);
    expect(problemOf({ GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS: '-1' })).toMatch(
      /^GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS must be a whole number/,
    );
    expect(problemOf({ GATEKEEPER_REQUEST_DEADLINE_SECONDS: '0' })).toMatch(/^GATEKEEPER_REQUEST_DEADLINE_SECONDS/);
    const direct = problemOf({ GATEKEEPER_DATABASE_DIRECT_URL: 'mysql://gk:Sup3rSecret@db/gk' });
    expect(direct).toMatch(/^GATEKEEPER_DATABASE_DIRECT_URL must start with postgres:\/\//);
    expect(direct).not.toContain('Sup3rSecret');
  });
});

describe('mail settings (issue 13)', () => {
  it('reads every mail variable', () => {
    const { mail } = loadConfig({
      GATEKEEPER_SMTP_URL: 'smtps://app:s3cret-relay@mail.example.com:465',
      GATEKEEPER_SMTP_CA_FILE: 'ca.pem',
      GATEKEEPER_MAIL_FROM: 'Acme ID <id@acme.example>',
      GATEKEEPER_PUBLIC_URL: 'https://id.acme.example/base',
      GATEKEEPER_PRODUCT_NAME: 'Acme ID',
      GATEKEEPER_MAIL_TEMPLATES_DIR: 'mail-templates',
    });
    expect(mail).toEqual({
      smtpUrl: 'smtps://app:s3cret-relay@mail.example.com:465',
      smtpCaFile: path.resolve('ca.pem'),
      from: 'Acme ID <id@acme.example>',
      publicUrl: 'https://id.acme.example/base',
      productName: 'Acme ID',
      templatesDir: path.resolve('mail-templates'),
    });
  });

  it('without SMTP, links default to the local port', () => {
    expect(loadConfig({ PORT: '9100' }).mail.publicUrl).toBe('http://localhost:9100');
  });

  it('SMTP without GATEKEEPER_PUBLIC_URL is a start error naming the variable, without the password', () => {
    const problem = problemOf({ GATEKEEPER_SMTP_URL: 'smtp://app:s3cret-relay@mail.example.com:587' });
    expect(problem).toContain('GATEKEEPER_PUBLIC_URL must be set when GATEKEEPER_SMTP_URL is');
    expect(problem).not.toContain('s3cret-relay');
  });

  it.each([
    ['GATEKEEPER_SMTP_URL', 'http://app:s3cret-relay@mail.example.com', 'smtp://'],
    ['GATEKEEPER_SMTP_URL', 'mail.example.com:587', 'smtp://'],
    ['GATEKEEPER_PUBLIC_URL', 'ftp://id.example.com', 'http(s) URL'],
    ['GATEKEEPER_PUBLIC_URL', 'not a url', 'http(s) URL'],
  ])('%s=%s is refused', (name, value, words) => {
    const env = { GATEKEEPER_PUBLIC_URL: 'https://id.example.com', [name]: value };
    const problem = problemOf(env);
    expect(problem).toContain(name);
    expect(problem).toContain(words);
    expect(problem).not.toContain('s3cret-relay');
  });
});
