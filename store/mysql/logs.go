package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/store/internal/sqlstore"
)

// logChunk is how many records one INSERT carries: a record's content is
// at most 64 KiB, so 200 stay below the default max_allowed_packet of
// MariaDB and MySQL 8 (16 and 64 MiB).
const logChunk = 200

const logCols = `id, source, seq, time, level, logger, tenant, message, content, parsed, category, status, code, api`

// AppendLogs stores recs in one transaction, numbering each source's
// records on from the last number it was given, with key (if any) among
// the idempotency keys. Each source's numbers are reserved by an upsert of
// log_sources that adds its count (locking the source's row until
// commit), so concurrent appends to one source get disjoint ranges; the
// IDs are read back by (source, seq), which holds whatever the server's
// auto-increment lock mode.
func (db *DB) AppendLogs(ctx context.Context, key string, recs []apilens.LogRecord) (duplicate bool, err error) {
	if len(recs) == 0 {
		return false, nil
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("append %d log records: %w", len(recs), err)
		}
	}()
	for i := range recs {
		r := &recs[i]
		for _, s := range []*string{&r.Source, &r.Level, &r.Logger, &r.Tenant, &r.Message, &r.Content, &r.Category, &r.Status, &r.Code, &r.API} {
			*s = sqlstore.Text(*s)
		}
	}
	var sources []string
	counts := map[string]int64{}
	for _, r := range recs {
		if counts[r.Source] == 0 {
			sources = append(sources, r.Source)
		}
		counts[r.Source]++
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if key != "" {
			res, err := tx.ExecContext(ctx, "INSERT INTO idempotency_keys (key_sha, `key`, seen) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE key_sha = key_sha",
				keySHA(key), sqlstore.Text(key), micros(time.Now()))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				duplicate = n == 0
				return err
			}
		}
		first := map[string]int64{} // each source's first number in this batch
		for _, src := range sources {
			if _, err := tx.ExecContext(ctx, `INSERT INTO log_sources (source, last_seq) VALUES (?, ?)
				ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq)`, src, counts[src]); err != nil {
				return err
			}
			var last int64
			if err := tx.QueryRowContext(ctx, `SELECT last_seq FROM log_sources WHERE source = ?`, src).Scan(&last); err != nil {
				return err
			}
			first[src] = last - counts[src] + 1
		}
		next := map[string]int64{}
		for i := range recs {
			r := &recs[i]
			r.Seq = first[r.Source] + next[r.Source]
			next[r.Source]++
		}
		for start := 0; start < len(recs); start += logChunk {
			chunk := recs[start:min(start+logChunk, len(recs))]
			args := make([]any, 0, 13*len(chunk))
			for i := range chunk {
				r := &chunk[i]
				args = append(args, r.Source, r.Seq, micros(r.Time), r.Level, r.Logger, r.Tenant, r.Message, r.Content,
					r.Parsed, r.Category, r.Status, r.Code, r.API)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO log_records (source, seq, time, level, logger, tenant, message, content, parsed, category, status, code, api) VALUES `+
				tuples(len(chunk), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), args...); err != nil {
				return err
			}
		}
		type srcSeq struct {
			source string
			seq    int64
		}
		index := make(map[srcSeq]int, len(recs))
		for i := range recs {
			index[srcSeq{recs[i].Source, recs[i].Seq}] = i
		}
		for _, src := range sources {
			rows, err := tx.QueryContext(ctx, `SELECT id, seq FROM log_records WHERE source = ? AND seq BETWEEN ? AND ?`,
				src, first[src], first[src]+counts[src]-1)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id, seq int64
				if err := rows.Scan(&id, &seq); err != nil {
					rows.Close()
					return err
				}
				recs[index[srcSeq{src, seq}]].ID = id
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	return duplicate, err
}

func scanLog(sc interface{ Scan(...any) error }) (apilens.LogRecord, error) {
	var r apilens.LogRecord
	var t int64
	err := sc.Scan(&r.ID, &r.Source, &r.Seq, &t, &r.Level, &r.Logger, &r.Tenant, &r.Message, &r.Content,
		&r.Parsed, &r.Category, &r.Status, &r.Code, &r.API)
	r.Time = fromMicros(t)
	return r, err
}

// logWhere builds the conditions shared by CountLogs, LogTimeline and
// Logs.
func logWhere(q apilens.LogQuery) (string, []any) {
	conds := []string{"TRUE"}
	var args []any
	if !q.From.IsZero() {
		conds, args = append(conds, "time >= ?"), append(args, micros(q.From))
	}
	if !q.To.IsZero() {
		conds, args = append(conds, "time < ?"), append(args, micros(q.To))
	}
	for _, f := range []struct{ col, v string }{{"category", q.Category}, {"status", q.Status}, {"source", q.Source}, {"api", q.API}} {
		if f.v != "" {
			conds, args = append(conds, f.col+" = ?"), append(args, sqlstore.Text(f.v))
		}
	}
	return strings.Join(conds, " AND "), args
}

// collect scans every row of rows with scan.
func collect[T any](rows *sql.Rows, scan func(*sql.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// CountLogs counts the records of q's range by classification, the most
// frequent first.
func (db *DB) CountLogs(ctx context.Context, q apilens.LogQuery) ([]apilens.LogCount, error) {
	where, args := logWhere(q)
	rows, err := db.sql.QueryContext(ctx, `SELECT category, status, code, api, parsed, count(*) FROM log_records WHERE `+where+`
		GROUP BY category, status, code, api, parsed ORDER BY count(*) DESC, category, status, code, api, parsed`, args...)
	if err != nil {
		return nil, fmt.Errorf("count logs: %w", err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (apilens.LogCount, error) {
		var c apilens.LogCount
		err := rows.Scan(&c.Category, &c.Status, &c.Code, &c.API, &c.Parsed, &c.Count)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count logs: %w", err)
	}
	return out, nil
}

// LogTimeline counts q's records per category and step.
func (db *DB) LogTimeline(ctx context.Context, q apilens.LogQuery, step time.Duration) ([]apilens.LogPoint, error) {
	us := step.Microseconds()
	if us <= 0 {
		return nil, apilens.Errorf(apilens.EINVALID, "timeline step %v is not positive", step)
	}
	where, args := logWhere(q)
	rows, err := db.sql.QueryContext(ctx, `SELECT time DIV ? * ? AS b, category, count(*) FROM log_records WHERE `+where+`
		GROUP BY b, category ORDER BY b, category`, append([]any{us, us}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("log timeline: %w", err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (apilens.LogPoint, error) {
		var p apilens.LogPoint
		var b int64
		err := rows.Scan(&b, &p.Category, &p.Count)
		p.Time = fromMicros(b)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("log timeline: %w", err)
	}
	return out, nil
}

// Logs lists the records of q in time order (ties by ID), q.Limit at a
// time; the cursor is the time and ID of the page's last record.
func (db *DB) Logs(ctx context.Context, q apilens.LogQuery) (*apilens.LogPage, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	where, args := logWhere(q)
	op, order := ">", "ASC"
	if q.Desc {
		op, order = "<", "DESC"
	}
	if q.After != "" {
		t, id, err := sqlstore.ParseLogCursor(q.After)
		if err != nil {
			return nil, err
		}
		// Spelled out rather than (time, id) > (?, ?), which MySQL may not
		// use the index for.
		where += fmt.Sprintf(" AND (time %s ? OR time = ? AND id %[1]s ?)", op)
		args = append(args, t, t, id)
	}
	args = append(args, q.Limit+1)
	rows, err := db.sql.QueryContext(ctx, `SELECT `+logCols+` FROM log_records WHERE `+where+
		` ORDER BY time `+order+`, id `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	recs, err := collect(rows, func(rows *sql.Rows) (apilens.LogRecord, error) { return scanLog(rows) })
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	page := &apilens.LogPage{Records: recs}
	if len(page.Records) > q.Limit {
		page.Records = page.Records[:q.Limit]
		last := page.Records[q.Limit-1]
		page.Next = sqlstore.LogCursor(micros(last.Time), last.ID)
	}
	return page, nil
}

// LogContext returns the record with the id and up to before and after
// records of its source around it.
func (db *DB) LogContext(ctx context.Context, id int64, before, after int) (*apilens.LogRecord, []apilens.LogRecord, []apilens.LogRecord, error) {
	r, err := scanLog(db.sql.QueryRowContext(ctx, `SELECT `+logCols+` FROM log_records WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, apilens.Errorf(apilens.ENOTFOUND, "no log record %d", id)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("log record %d: %w", id, err)
	}
	around := func(cond string, n int) ([]apilens.LogRecord, error) {
		if n <= 0 {
			return []apilens.LogRecord{}, nil
		}
		rows, err := db.sql.QueryContext(ctx, `SELECT `+logCols+` FROM log_records WHERE `+cond, r.Source, r.Seq, n)
		if err != nil {
			return nil, fmt.Errorf("context of log record %d: %w", id, err)
		}
		out, err := collect(rows, func(rows *sql.Rows) (apilens.LogRecord, error) { return scanLog(rows) })
		if err != nil {
			return nil, fmt.Errorf("context of log record %d: %w", id, err)
		}
		return out, nil
	}
	prev, err := around(`source = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, before)
	if err != nil {
		return nil, nil, nil, err
	}
	for i, j := 0, len(prev)-1; i < j; i, j = i+1, j-1 {
		prev[i], prev[j] = prev[j], prev[i]
	}
	next, err := around(`source = ? AND seq > ? ORDER BY seq LIMIT ?`, after)
	if err != nil {
		return nil, nil, nil, err
	}
	return &r, prev, next, nil
}
