-- 0003: state the instances of a log share besides the log (see the
-- package comment of log/storage/postgres, "Several instances"): ids used
-- once until they expire (registrar tokens' jti), and token buckets (the
-- write rate limits).
CREATE TABLE once (
	id    text PRIMARY KEY,
	until timestamptz NOT NULL
);
CREATE TABLE buckets (
	key    text PRIMARY KEY,
	tokens double precision NOT NULL,
	at     timestamptz NOT NULL
);
