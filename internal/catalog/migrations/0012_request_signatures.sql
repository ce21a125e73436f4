-- Signatures of the mutating API requests accepted lately, so that an
-- exact replay of one (same signature) is refused while its X-Amz-Date is
-- still within the clock-skew window. expires_at (nanoseconds) is when the
-- signature would be refused for its time anyway, and rows past it are purged.
CREATE TABLE request_signatures (
    signature  TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX request_signatures_expiry ON request_signatures (expires_at);
