-- Email verification (issue 13). The seed's `users` table keeps its columns: which address of a
-- user was confirmed lives here, one row per user, holding the confirmed address in lower case.
-- A user's email counts as verified while this row's address equals users.email, so changing
-- the email (by any path, even manual SQL) makes it unverified without a second write.
CREATE TABLE verified_emails (
    user_id UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    verified_at TIMESTAMPTZ NOT NULL
);

-- A verification token says which address it confirms (the pending new address of an email
-- change, or the current one), and may carry a short code the signed-in user can type instead
-- of following the link: only its SHA-256, with a count of wrong tries that voids it at the limit.
ALTER TABLE one_time_tokens ADD COLUMN email TEXT;
ALTER TABLE one_time_tokens ADD COLUMN code_hash TEXT;
ALTER TABLE one_time_tokens ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
