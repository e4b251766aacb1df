-- One-time tokens mailed to a user (password reset now; email verification later, by `purpose`).
-- Only the SHA-256 of a token is kept, so a copy of the database cannot spend one. A token is
-- spent (or voided) by setting used_at, never by deleting it: the rows of the last hour are
-- also what the per-account mail budget counts. Cleanup deletes the spent and expired ones.
CREATE TABLE one_time_tokens (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);

-- Issuing counts and voids a user's tokens of one purpose.
CREATE INDEX idx_one_time_tokens_user ON one_time_tokens (user_id, purpose, created_at);
-- Cleanup deletes by age.
CREATE INDEX idx_one_time_tokens_created ON one_time_tokens (created_at);
