-- What a user sees about each of their sessions (GET /auth/sessions), and the
-- absolute end of a session that refreshing cannot move (GATEKEEPER_SESSION_MAX_DAYS).
-- ip and user_agent are the login's, bounded by the service (user agent: 512 characters)
-- and by the column types here so that no client can make a row grow without limit.
ALTER TABLE sessions
    ADD COLUMN last_used_at TIMESTAMPTZ,
    ADD COLUMN ip VARCHAR(64),
    ADD COLUMN user_agent VARCHAR(512),
    ADD COLUMN absolute_expires_at TIMESTAMPTZ;

-- Sessions from before this migration: last used at their login, as far as anything
-- recorded it, and ended at most 30 days (the default) after it, like new ones.
UPDATE sessions
   SET last_used_at = created_at,
       absolute_expires_at = created_at + interval '30 days';

ALTER TABLE sessions ALTER COLUMN last_used_at SET NOT NULL;

-- "A new address for this user" looks up the user's sessions by address.
CREATE INDEX idx_sessions_user_ip ON sessions (user_id, ip);
