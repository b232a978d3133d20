-- The tables of the SQLite backend (see its migrations), in PostgreSQL
-- types. Every text column is COLLATE "C": comparisons and ORDER BY are
-- byte for byte whatever the database's default collation, so "Api" and
-- "API" are two keys and listings sort as on the other backends. Times are
-- Unix seconds (bucket) or Unix microseconds (everything else).

-- Rollups: one row per family, granularity, bucket and dimension tuple,
-- keyed by a 64-bit hash of the tuple so the key stays narrow however long
-- the values are.
CREATE TABLE rollups (
	family                     smallint NOT NULL,
	gran                       smallint NOT NULL,
	bucket                     bigint   NOT NULL,
	key_hash                   bigint   NOT NULL,
	d0                         text COLLATE "C" NOT NULL DEFAULT '',
	d1                         text COLLATE "C" NOT NULL DEFAULT '',
	d2                         text COLLATE "C" NOT NULL DEFAULT '',
	d3                         text COLLATE "C" NOT NULL DEFAULT '',
	d4                         text COLLATE "C" NOT NULL DEFAULT '',
	d5                         text COLLATE "C" NOT NULL DEFAULT '',
	d6                         text COLLATE "C" NOT NULL DEFAULT '',
	requests                   bigint NOT NULL DEFAULT 0,
	successful                 bigint NOT NULL DEFAULT 0,
	faults                     bigint NOT NULL DEFAULT 0,
	throttled                  bigint NOT NULL DEFAULT 0,
	status_2xx                 bigint NOT NULL DEFAULT 0,
	status_3xx                 bigint NOT NULL DEFAULT 0,
	status_4xx                 bigint NOT NULL DEFAULT 0,
	status_5xx                 bigint NOT NULL DEFAULT 0,
	fault_auth                 bigint NOT NULL DEFAULT 0,
	fault_target               bigint NOT NULL DEFAULT 0,
	fault_other                bigint NOT NULL DEFAULT 0,
	cache_hits                 bigint NOT NULL DEFAULT 0,
	responses                  bigint NOT NULL DEFAULT 0,
	response_latency_sum       bigint NOT NULL DEFAULT 0,
	backend_latency_sum        bigint NOT NULL DEFAULT 0,
	req_mediation_latency_sum  bigint NOT NULL DEFAULT 0,
	resp_mediation_latency_sum bigint NOT NULL DEFAULT 0,
	resp_sketch                bytea,
	backend_sketch             bytea,
	PRIMARY KEY (family, gran, bucket, key_hash)
);

-- Filters on the first dimension (the API, the application, …). A B-tree
-- entry must fit in a third of a page, and a value may be 1024 characters
-- of four bytes each: the index holds a prefix, and queries compare the
-- prefix and then the whole value. The value leads, so that this index is
-- of no use to lookups by primary key: without statistics (a new table)
-- the planner would otherwise take it for them, on family and gran alone.
CREATE INDEX rollups_d0 ON rollups (left(d0, 200), family, gran, bucket);

-- Raw events as compressed batches covering [min_time, max_time].
CREATE TABLE raw_batches (
	id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	min_time bigint  NOT NULL,
	max_time bigint  NOT NULL,
	count    integer NOT NULL,
	data     bytea   NOT NULL
);
CREATE INDEX raw_batches_max_time ON raw_batches (max_time);
CREATE INDEX raw_batches_min_time ON raw_batches (min_time);

-- key_sha is the SHA-256 of key: the publisher chooses the key's length,
-- and a B-tree entry cannot hold any length.
CREATE TABLE idempotency_keys (
	key_sha bytea  NOT NULL PRIMARY KEY,
	key     text COLLATE "C" NOT NULL,
	seen    bigint NOT NULL
);
CREATE INDEX idempotency_keys_seen ON idempotency_keys (seen);

CREATE TABLE stream_offsets (
	stream   text COLLATE "C" NOT NULL PRIMARY KEY,
	"offset" bigint NOT NULL
);

CREATE TABLE users (
	name          text COLLATE "C" NOT NULL PRIMARY KEY,
	password_hash text COLLATE "C" NOT NULL,
	roles         text COLLATE "C" NOT NULL DEFAULT '[]', -- JSON array of role names
	tenant        text COLLATE "C" NOT NULL DEFAULT '',
	created       bigint NOT NULL
);

CREATE TABLE api_tokens (
	hash    text COLLATE "C" NOT NULL PRIMARY KEY,
	"user"  text COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	name    text COLLATE "C" NOT NULL DEFAULT '',
	created bigint NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens ("user");

-- Gateway log records (the log analyzer). seq numbers a source's records
-- in arrival order, so the log viewer's window around a record is two
-- range reads of (source, seq).
CREATE TABLE log_records (
	id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	source   text COLLATE "C" NOT NULL,
	seq      bigint  NOT NULL,
	time     bigint  NOT NULL,
	level    text COLLATE "C" NOT NULL DEFAULT '',
	logger   text COLLATE "C" NOT NULL DEFAULT '',
	tenant   text COLLATE "C" NOT NULL DEFAULT '',
	message  text COLLATE "C" NOT NULL DEFAULT '',
	content  text COLLATE "C" NOT NULL,
	parsed   boolean NOT NULL,
	category text COLLATE "C" NOT NULL DEFAULT '',
	status   text COLLATE "C" NOT NULL DEFAULT '',
	code     text COLLATE "C" NOT NULL DEFAULT '',
	api      text COLLATE "C" NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX log_records_source_seq ON log_records (source, seq);
CREATE INDEX log_records_time ON log_records (time, id);
-- The Access Token Errors table: one status's records in time order.
CREATE INDEX log_records_class ON log_records (category, status, time, id);

-- The last seq given out per source; it survives purges, so a source's
-- numbers never repeat.
CREATE TABLE log_sources (
	source   text COLLATE "C" NOT NULL PRIMARY KEY,
	last_seq bigint NOT NULL
);
