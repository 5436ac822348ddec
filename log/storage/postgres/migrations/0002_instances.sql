-- 0002: the tables of several instances sharing the log (see the package
-- comment of log/storage/postgres, "Several instances"): the requests
-- appended on any instance and not yet sequenced, and their outcomes until
-- the instance that queued them reads them.
CREATE TABLE queue (
	id      bigserial PRIMARY KEY,
	seen    bigint NOT NULL,
	n       integer NOT NULL,
	entries bytea[] NOT NULL,
	keys    bytea[] NOT NULL,
	found   bigint[] NOT NULL
);
CREATE TABLE answers (
	id        bigint PRIMARY KEY,
	size      bigint NOT NULL,
	results   bytea NOT NULL,
	err       text NOT NULL,
	err_entry integer NOT NULL,
	at        timestamptz NOT NULL DEFAULT now()
);
