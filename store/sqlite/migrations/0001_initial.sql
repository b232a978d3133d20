-- Rollups: one row per family, granularity, bucket and dimension tuple.
-- The primary key is narrow: key_hash stands for the dimension values
-- (d0..d6), so long values never make a long key, and WITHOUT ROWID keeps
-- each row in the primary-key B-tree itself, one B-tree touched per upsert.
-- Times are Unix seconds (bucket) or Unix microseconds (everything else).
CREATE TABLE rollups (
	family                     INTEGER NOT NULL,
	gran                       INTEGER NOT NULL,
	bucket                     INTEGER NOT NULL,
	key_hash                   INTEGER NOT NULL,
	d0                         TEXT    NOT NULL DEFAULT '',
	d1                         TEXT    NOT NULL DEFAULT '',
	d2                         TEXT    NOT NULL DEFAULT '',
	d3                         TEXT    NOT NULL DEFAULT '',
	d4                         TEXT    NOT NULL DEFAULT '',
	d5                         TEXT    NOT NULL DEFAULT '',
	d6                         TEXT    NOT NULL DEFAULT '',
	requests                   INTEGER NOT NULL DEFAULT 0,
	successful                 INTEGER NOT NULL DEFAULT 0,
	faults                     INTEGER NOT NULL DEFAULT 0,
	throttled                  INTEGER NOT NULL DEFAULT 0,
	status_2xx                 INTEGER NOT NULL DEFAULT 0,
	status_3xx                 INTEGER NOT NULL DEFAULT 0,
	status_4xx                 INTEGER NOT NULL DEFAULT 0,
	status_5xx                 INTEGER NOT NULL DEFAULT 0,
	fault_auth                 INTEGER NOT NULL DEFAULT 0,
	fault_target               INTEGER NOT NULL DEFAULT 0,
	fault_other                INTEGER NOT NULL DEFAULT 0,
	cache_hits                 INTEGER NOT NULL DEFAULT 0,
	responses                  INTEGER NOT NULL DEFAULT 0,
	response_latency_sum       INTEGER NOT NULL DEFAULT 0,
	backend_latency_sum        INTEGER NOT NULL DEFAULT 0,
	req_mediation_latency_sum  INTEGER NOT NULL DEFAULT 0,
	resp_mediation_latency_sum INTEGER NOT NULL DEFAULT 0,
	resp_sketch                BLOB,
	backend_sketch             BLOB,
	PRIMARY KEY (family, gran, bucket, key_hash)
) WITHOUT ROWID;

-- Filters on the first dimension (the API, the application, …).
CREATE INDEX rollups_d0 ON rollups (family, gran, d0, bucket);

-- Raw events as compressed batches covering [min_time, max_time].
CREATE TABLE raw_batches (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	min_time INTEGER NOT NULL,
	max_time INTEGER NOT NULL,
	count    INTEGER NOT NULL,
	data     BLOB    NOT NULL
);
CREATE INDEX raw_batches_max_time ON raw_batches (max_time);
CREATE INDEX raw_batches_min_time ON raw_batches (min_time);

CREATE TABLE idempotency_keys (
	key  TEXT    NOT NULL PRIMARY KEY,
	seen INTEGER NOT NULL
);
CREATE INDEX idempotency_keys_seen ON idempotency_keys (seen);

CREATE TABLE stream_offsets (
	stream   TEXT    NOT NULL PRIMARY KEY,
	"offset" INTEGER NOT NULL
);

CREATE TABLE users (
	name          TEXT    NOT NULL PRIMARY KEY,
	password_hash TEXT    NOT NULL,
	roles         TEXT    NOT NULL DEFAULT '[]', -- JSON array of role names
	tenant        TEXT    NOT NULL DEFAULT '',
	created       INTEGER NOT NULL
);

CREATE TABLE api_tokens (
	hash    TEXT    NOT NULL PRIMARY KEY,
	user    TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	name    TEXT    NOT NULL DEFAULT '',
	created INTEGER NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user);
