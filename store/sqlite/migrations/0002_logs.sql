-- Gateway log records (the log analyzer). id is the rowid; seq numbers a
-- source's records in arrival order, so the log viewer's window of 100
-- records before and after one is two range reads of (source, seq).
CREATE TABLE log_records (
	id       INTEGER PRIMARY KEY,
	source   TEXT    NOT NULL,
	seq      INTEGER NOT NULL,
	time     INTEGER NOT NULL,
	level    TEXT    NOT NULL DEFAULT '',
	logger   TEXT    NOT NULL DEFAULT '',
	tenant   TEXT    NOT NULL DEFAULT '',
	message  TEXT    NOT NULL DEFAULT '',
	content  TEXT    NOT NULL,
	parsed   INTEGER NOT NULL,
	category TEXT    NOT NULL DEFAULT '',
	status   TEXT    NOT NULL DEFAULT '',
	code     TEXT    NOT NULL DEFAULT '',
	api      TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX log_records_source_seq ON log_records (source, seq);
CREATE INDEX log_records_time ON log_records (time, id);
-- The Access Token Errors table: one status's records in time order.
CREATE INDEX log_records_class ON log_records (category, status, time, id);

-- The last seq given out per source; it survives purges, so a source's
-- numbers never repeat.
CREATE TABLE log_sources (
	source   TEXT    NOT NULL PRIMARY KEY,
	last_seq INTEGER NOT NULL
);
