-- Failed-login counters for brute-force protection, one row per key:
-- 'account:<lower(username or email attempted)>' or 'ip:<client address>'.
-- Kept here rather than in process memory so that every instance sharing the
-- database counts together and a restart does not reset an attacker's budget.
-- The window is fixed: it opens at first_at and closes window seconds later
-- (the length is configuration, not schema: GATEKEEPER_LOGIN_WINDOW_SECONDS).
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    first_at TIMESTAMPTZ NOT NULL,
    last_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX idx_login_failures_first_at ON login_failures (first_at);
