-- The tables of the SQLite backend (see its migrations), in MySQL types.
-- {{collation}} is the binary utf8mb4 collation the server has, NO PAD
-- where it has one (utf8mb4_0900_bin on MySQL 8, utf8mb4_nopad_bin on
-- MariaDB): comparisons are byte for byte, so "Api" and "API" are two keys
-- and "a" and "a " too. Every statement is idempotent: MySQL commits DDL
-- as it goes, so a migration cut short is run again from the start.
-- Times are Unix seconds (bucket) or Unix microseconds (everything else).
--
-- Key columns are VARCHAR short enough for InnoDB's 3072-byte index keys
-- at four bytes a character; the others are TEXT.

-- Rollups: one row per family, granularity, bucket and dimension tuple,
-- keyed by a 64-bit hash of the tuple so the key stays narrow however long
-- the values are. The index on the first dimension holds a prefix of it,
-- and leads with it, as on PostgreSQL.
CREATE TABLE IF NOT EXISTS rollups (
	family                     SMALLINT NOT NULL,
	gran                       SMALLINT NOT NULL,
	bucket                     BIGINT   NOT NULL,
	key_hash                   BIGINT   NOT NULL,
	d0                         VARCHAR(1024) NOT NULL DEFAULT '',
	d1                         VARCHAR(1024) NOT NULL DEFAULT '',
	d2                         VARCHAR(1024) NOT NULL DEFAULT '',
	d3                         VARCHAR(1024) NOT NULL DEFAULT '',
	d4                         VARCHAR(1024) NOT NULL DEFAULT '',
	d5                         VARCHAR(1024) NOT NULL DEFAULT '',
	d6                         VARCHAR(1024) NOT NULL DEFAULT '',
	requests                   BIGINT NOT NULL DEFAULT 0,
	successful                 BIGINT NOT NULL DEFAULT 0,
	faults                     BIGINT NOT NULL DEFAULT 0,
	throttled                  BIGINT NOT NULL DEFAULT 0,
	status_2xx                 BIGINT NOT NULL DEFAULT 0,
	status_3xx                 BIGINT NOT NULL DEFAULT 0,
	status_4xx                 BIGINT NOT NULL DEFAULT 0,
	status_5xx                 BIGINT NOT NULL DEFAULT 0,
	fault_auth                 BIGINT NOT NULL DEFAULT 0,
	fault_target               BIGINT NOT NULL DEFAULT 0,
	fault_other                BIGINT NOT NULL DEFAULT 0,
	cache_hits                 BIGINT NOT NULL DEFAULT 0,
	responses                  BIGINT NOT NULL DEFAULT 0,
	response_latency_sum       BIGINT NOT NULL DEFAULT 0,
	backend_latency_sum        BIGINT NOT NULL DEFAULT 0,
	req_mediation_latency_sum  BIGINT NOT NULL DEFAULT 0,
	resp_mediation_latency_sum BIGINT NOT NULL DEFAULT 0,
	resp_sketch                MEDIUMBLOB,
	backend_sketch             MEDIUMBLOB,
	PRIMARY KEY (family, gran, bucket, key_hash),
	KEY rollups_d0 (d0(200), family, gran, bucket)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={{collation}} ROW_FORMAT=DYNAMIC;

-- Raw events as compressed batches covering [min_time, max_time].
CREATE TABLE IF NOT EXISTS raw_batches (
	id       BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	min_time BIGINT NOT NULL,
	max_time BIGINT NOT NULL,
	count    INT    NOT NULL,
	data     LONGBLOB NOT NULL,
	KEY raw_batches_max_time (max_time),
	KEY raw_batches_min_time (min_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={{collation}};

-- key_sha is the SHA-256 of key: the publisher chooses the key's length,
-- and an index key cannot hold any length.
CREATE TABLE IF NOT EXISTS idempotency_keys (
	key_sha BINARY(32) NOT NULL PRIMARY KEY,
	`key`   TEXT       NOT NULL,
	seen    BIGINT     NOT NULL,
	KEY idempotency_keys_seen (seen)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={{collation}};

CREATE TABLE IF NOT EXISTS stream_offsets (
	stream   VARCHAR(255) NOT NULL PRIMARY KEY,
	`offset` BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={{collation}};

-- The one row every flush locks first, so flushes from several processes
-- take turns (see package sqlstore).
CREATE TABLE IF NOT EXISTS flush_lock (
	id TINYINT NOT NULL PRIMARY KEY
) ENGINE=InnoDB;
INSERT IGNORE INTO flush_lock (id) VALUES (1);

CREATE TABLE IF NOT EXISTS users (
	name          VARCHAR(255) NOT NULL PRIMARY KEY,
	password_hash TEXT         NOT NULL,
	roles         TEXT         NOT NULL, -- JSON array of role names
	tenant        TEXT         NOT NULL,
	created       BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={{collation}};

CREATE TABLE IF NOT EXISTS api_tokens (
	hash    VARCHAR(255) NOT NULL PRIMARY KEY,
	`user`  VARCHAR(255) NOT NULL,
	name    TEXT         NOT NULL,
	created BIGINT       NOT NULL,
	KEY api_tokens_user (`user`),
	CONSTRAINT api_tokens_user_fk FOREIGN KEY (`user`) REFERENCES users (name) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={{collation}};

-- Gateway log records (the log analyzer). seq numbers a source's records
-- in arrival order, so the log viewer's window around a record is two
-- range reads of (source, seq).
CREATE TABLE IF NOT EXISTS log_records (
	id       BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
	source   VARCHAR(255) NOT NULL,
	seq      BIGINT       NOT NULL,
	time     BIGINT       NOT NULL,
	level    TEXT         NOT NULL,
	logger   TEXT         NOT NULL,
	tenant   TEXT         NOT NULL,
	message  MEDIUMTEXT   NOT NULL,
	content  MEDIUMTEXT   NOT NULL,
	parsed   BOOLEAN      NOT NULL,
	category VARCHAR(64)  NOT NULL,
	status   VARCHAR(255) NOT NULL,
	code     TEXT         NOT NULL,
	api      TEXT         NOT NULL,
	UNIQUE KEY log_records_source_seq (source, seq),
	KEY log_records_time (time, id),
	-- The Access Token Errors table: one status's records in time order.
	KEY log_records_class (category, status, time, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={{collation}};

-- The last seq given out per source; it survives purges, so a source's
-- numbers never repeat.
CREATE TABLE IF NOT EXISTS log_sources (
	source   VARCHAR(255) NOT NULL PRIMARY KEY,
	last_seq BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={{collation}};
