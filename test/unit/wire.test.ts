import { describe, expect, it } from 'vitest';
import type { GatekeeperError } from '../../src/errors.js';
import {
  fromAdminCreateBody,
  fromAdminUpdateBody,
  fromAuditQuery,
  fromListUsersQuery,
  fromProfileBody,
  toAuditEvent,
  toHealthResponse,
  toStatsResponse,
  toTokenResponse,
  toUserPublic,
  toYapcoinResponse,
} from '../../src/http/wire.js';
import type { UserRecord } from '../../src/store/store.js';

const record = (): UserRecord => ({
  id: '7c6f4a52-3f1e-4a53-9a0e-4b7f8f1c2d3e',
  username: 'ada',
  passwordHash: '$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA',
  role: 'regular',
  email: 'ada@example.com',
  emailVerified: true,
  profilePictureUrl: 'https://example.com/ada.png',
  yapcoinBalance: 12,
  isActive: true,
  createdAt: new Date('2024-01-02T03:04:05.000Z'),
  updatedAt: new Date('2024-02-03T04:05:06.000Z'),
  metadata: { theme: 'dark' },
});

describe('wire mapping (src/http/wire.ts)', () => {
  it('toUserPublic gives the snake_case user and never the password hash', () => {
    const wire = toUserPublic(record(), false);
    expect(wire).toEqual({
      id: '7c6f4a52-3f1e-4a53-9a0e-4b7f8f1c2d3e',
      username: 'ada',
      role: 'regular',
      email: 'ada@example.com',
      email_verified: true,
      profile_picture_url: 'https://example.com/ada.png',
      yapcoin_balance: 12,
      is_active: true,
      created_at: '2024-01-02T03:04:05.000Z',
      updated_at: '2024-02-03T04:05:06.000Z',
      metadata: { theme: 'dark' },
      mfa_enabled: false,
    });
    expect(JSON.stringify(wire)).not.toContain('argon2');
  });

  it('toUserPublic makes the wire form of a frozen (cached) record once, and of a mutable one each time', () => {
    const frozen = Object.freeze(record());
    expect(toUserPublic(frozen, true)).toBe(toUserPublic(frozen, true));
    expect(Object.isFrozen(toUserPublic(frozen, true))).toBe(true);
    const mutable = record();
    expect(toUserPublic(mutable, false)).not.toBe(toUserPublic(mutable, false));
  });

  it('toTokenResponse gives the OAuth2 field names', () => {
    expect(
      toTokenResponse({
        accessToken: 'a.b.c',
        refreshToken: 'r',
        tokenType: 'bearer',
        expiresInSeconds: 900,
        refreshExpiresInSeconds: 2_592_000,
      }),
    ).toEqual({
      access_token: 'a.b.c',
      refresh_token: 'r',
      token_type: 'bearer',
      expires_in: 900,
      refresh_expires_in: 2_592_000,
    });
  });

  it('toAuditEvent, toStatsResponse and toYapcoinResponse rename every camelCase field', () => {
    const at = new Date('2024-03-04T05:06:07.000Z');
    expect(
      toAuditEvent({
        id: 3,
        at,
        event: 'logout',
        username: 'ada',
        userId: 'u1',
        ip: null,
        detail: { session_ids: [] },
      }),
    ).toEqual({
      id: 3,
      at: at.toISOString(),
      event: 'logout',
      username: 'ada',
      user_id: 'u1',
      ip: null,
      detail: { session_ids: [] },
    });
    expect(
      toStatsResponse({ total: 3, active: 2, byRole: { admin: 1, regular: 1, guest: 1 }, activeSessions: 4 }),
    ).toEqual({
      users_total: 3,
      users_active: 2,
      users_by_role: { admin: 1, regular: 1, guest: 1 },
      active_sessions: 4,
    });
    expect(toYapcoinResponse({ username: 'ada', balance: 7 })).toEqual({ username: 'ada', yapcoin_balance: 7 });
  });

  it('toHealthResponse reports unavailable with the error when unreachable, and no error key when reachable', () => {
    const pool = { total: 2, idle: 1, waiting: 0, max: 10 };
    const up = toHealthResponse(
      { backend: 'postgres', reachable: true, latencyMs: 1.5, serverVersion: 'PostgreSQL 17', pool },
      '1.2.3',
    );
    expect(up).toEqual({
      status: 'ok',
      backend: 'postgres',
      version: '1.2.3',
      database: { reachable: true, latency_ms: 1.5, server_version: 'PostgreSQL 17', pool },
    });
    const down = toHealthResponse(
      { backend: 'postgres', reachable: false, latencyMs: null, serverVersion: null, pool, error: 'refused' },
      '1.2.3',
    );
    expect(down.status).toBe('unavailable');
    expect(down.database.error).toBe('refused');
  });

  it('maps the inbound bodies and queries to camelCase', () => {
    expect(
      fromAdminCreateBody({
        username: 'bo',
        password: 'p',
        profile_picture_url: null,
        role: 'guest',
        is_active: false,
      }),
    ).toMatchObject({ username: 'bo', password: 'p', profilePictureUrl: null, role: 'guest', isActive: false });
    expect(fromProfileBody({ email: null, profile_picture_url: 'https://x.example/p.png' })).toEqual({
      username: undefined,
      email: null,
      profilePictureUrl: 'https://x.example/p.png',
      metadata: undefined,
    });
    expect(fromAdminUpdateBody({ is_active: true, role: 'admin' })).toMatchObject({ isActive: true, role: 'admin' });
    expect(fromAdminUpdateBody({ email_verified: true })).toMatchObject({ emailVerified: true });
    expect(fromListUsersQuery({ skip: 0, limit: 10, q: '', is_active: false })).toEqual({
      skip: 0,
      limit: 10,
      q: undefined,
      role: undefined,
      isActive: false,
    });
  });

  it('fromAuditQuery parses `since` and refuses one that is no date on that field', () => {
    expect(fromAuditQuery({ since: '2024-01-01T00:00:00Z', limit: 5 }).since).toEqual(new Date('2024-01-01T00:00:00Z'));
    let thrown: GatekeeperError | undefined;
    try {
      fromAuditQuery({ since: 'yesterday', limit: 5 });
    } catch (err) {
      thrown = err as GatekeeperError;
    }
    expect(thrown?.code).toBe('VALIDATION_ERROR');
    expect(thrown?.errors?.map((e) => e.field)).toEqual(['since']);
  });
});
