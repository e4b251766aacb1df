/** The sessions facet in process memory (src/store/contract/sessions.ts): sessions and their refresh tokens. */
import type { SessionRecord, SessionsStore } from '../contract/sessions.js';
import { clampToAbsoluteEnd } from '../rules.js';

interface RefreshTokenEntry {
  sessionId: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

/** The facet, plus the cascade the users facet calls when it deletes a user. */
export interface MemorySessions extends SessionsStore {
  deleteSessionsOf(userId: string): void;
}

/** @example const sessions = createMemorySessions(); */
export function createMemorySessions(): MemorySessions {
  const sessions = new Map<string, SessionRecord>();
  const refreshTokens = new Map<string, RefreshTokenEntry>();

  /** Removes a session and its refresh tokens; returns the number of rows removed. */
  const deleteSession = (id: string): number => {
    let removed = sessions.delete(id) ? 1 : 0;
    for (const [hash, token] of refreshTokens) {
      if (token.sessionId === id) {
        refreshTokens.delete(hash);
        removed += 1;
      }
    }
    return removed;
  };
  const byId = (id: string) => {
    const session = sessions.get(id);
    return session ? { ...session } : null;
  };

  return {
    deleteSessionsOf(userId) {
      for (const session of [...sessions.values()]) if (session.userId === userId) deleteSession(session.id);
    },

    async createSession(input) {
      const absoluteExpiresAt = input.absoluteExpiresAt ?? null;
      const session: SessionRecord = {
        id: input.id,
        userId: input.userId,
        createdAt: input.createdAt,
        expiresAt: clampToAbsoluteEnd(input.expiresAt, absoluteExpiresAt),
        revokedAt: null,
        revokedReason: null,
        lastUsedAt: input.createdAt,
        ip: input.ip ?? null,
        userAgent: input.userAgent ?? null,
        absoluteExpiresAt,
      };
      sessions.set(session.id, session);
      refreshTokens.set(input.refreshTokenHash, {
        sessionId: session.id,
        createdAt: input.createdAt,
        expiresAt: session.expiresAt,
        usedAt: null,
      });
      return { ...session };
    },

    async getSession(id) {
      return byId(id);
    },

    async rotateRefreshToken(oldHash, newHash, newExpiresAt, now) {
      const token = refreshTokens.get(oldHash);
      const session = token && sessions.get(token.sessionId);
      if (!token || !session || session.revokedAt !== null || session.expiresAt <= now || token.expiresAt <= now) {
        return { status: 'invalid' };
      }
      if (token.usedAt !== null) return { status: 'reused', session: { ...session }, usedAt: token.usedAt };
      const expiresAt = clampToAbsoluteEnd(newExpiresAt, session.absoluteExpiresAt);
      token.usedAt = now;
      refreshTokens.set(newHash, { sessionId: session.id, createdAt: now, expiresAt, usedAt: null });
      session.expiresAt = expiresAt;
      session.lastUsedAt = now;
      return { status: 'rotated', session: { ...session } };
    },

    async findSessionByRefreshToken(tokenHash) {
      const token = refreshTokens.get(tokenHash);
      return token ? byId(token.sessionId) : null;
    },

    async findRefreshToken(tokenHash) {
      const token = refreshTokens.get(tokenHash);
      return token ? { ...token } : null;
    },

    async revokeSession(id, reason, now) {
      const session = sessions.get(id);
      if (!session || session.revokedAt !== null) return false;
      session.revokedAt = now;
      session.revokedReason = reason;
      return true;
    },

    async revokeUserSessions(userId, reason, now) {
      let count = 0;
      for (const session of sessions.values()) {
        if (session.userId === userId && session.revokedAt === null) {
          session.revokedAt = now;
          session.revokedReason = reason;
          count += 1;
        }
      }
      return count;
    },

    async listUserSessions(userId, now) {
      return [...sessions.values()]
        .filter((s) => s.userId === userId && s.revokedAt === null && s.expiresAt > now)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((s) => ({ ...s }));
    },

    async sessionAddressHistory(userId, ip) {
      let hasSessions = false;
      for (const session of sessions.values()) {
        if (session.userId !== userId) continue;
        hasSessions = true;
        if (session.ip === ip) return { hasSessions, fromAddress: true };
      }
      return { hasSessions, fromAddress: false };
    },

    async countActiveSessions(now) {
      let count = 0;
      for (const session of sessions.values()) if (session.revokedAt === null && session.expiresAt > now) count += 1;
      return count;
    },

    async cleanup(now) {
      let removed = 0;
      for (const [hash, token] of refreshTokens) {
        if (token.expiresAt <= now) {
          refreshTokens.delete(hash);
          removed += 1;
        }
      }
      for (const session of [...sessions.values()]) {
        if (session.revokedAt !== null || session.expiresAt <= now) removed += deleteSession(session.id);
      }
      return removed;
    },
  };
}
