-- 0001: the log's tables (see the package comment of log/storage/postgres).
-- Written with IF NOT EXISTS so that it also adopts a schema made before
-- schema versions were recorded.
CREATE TABLE IF NOT EXISTS checkpoint (
	one  boolean PRIMARY KEY DEFAULT true CHECK (one),
	note bytea
);
INSERT INTO checkpoint (one, note) VALUES (true, NULL) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS checkpoints (
	size bigint PRIMARY KEY,
	note bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS tiles (
	level  smallint,
	n      bigint,
	hashes bytea NOT NULL,
	PRIMARY KEY (level, n)
);
ALTER TABLE tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;
CREATE TABLE IF NOT EXISTS bundles (
	n      bigint,
	start  integer,
	"full" boolean NOT NULL,
	data   bytea NOT NULL,
	PRIMARY KEY (n, start)
);
ALTER TABLE bundles ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE IF NOT EXISTS dedup (
	key bytea PRIMARY KEY,
	idx bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
	tbl   bytea,
	key   bytea,
	value bytea NOT NULL,
	PRIMARY KEY (tbl, key)
);
