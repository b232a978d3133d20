package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apilens/apilens"
)

// logChunk is how many records one INSERT carries: 14 parameters each,
// well under SQLite's 32,766.
const logChunk = 500

const logCols = `id, source, seq, time, level, logger, tenant, message, content, parsed, category, status, code, api`

// AppendLogs stores recs in one transaction, numbering each source's
// records on from the last number it was given, with key (if any) among
// the idempotency keys.
func (db *DB) AppendLogs(ctx context.Context, key string, recs []apilens.LogRecord) (duplicate bool, err error) {
	if len(recs) == 0 {
		return false, nil
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("append %d log records: %w", len(recs), err)
		}
	}()
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil || duplicate {
			tx.Rollback()
		}
	}()
	if key != "" {
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (key, seen) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, micros(time.Now()))
		if err != nil {
			return false, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return n == 0, err
		}
	}
	last := map[string]int64{}
	for i := range recs {
		src := recs[i].Source
		seq, ok := last[src]
		if !ok {
			err := tx.QueryRowContext(ctx, `SELECT last_seq FROM log_sources WHERE source = ?`, src).Scan(&seq)
			if err != nil && err != sql.ErrNoRows {
				return false, err
			}
		}
		last[src] = seq + 1
		recs[i].Seq = seq + 1
	}
	type srcSeq struct {
		source string
		seq    int64
	}
	for start := 0; start < len(recs); start += logChunk {
		chunk := recs[start:min(start+logChunk, len(recs))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO log_records (source, seq, time, level, logger, tenant, message, content, parsed, category, status, code, api) VALUES `)
		args := make([]any, 0, 13*len(chunk))
		for i := range chunk {
			r := &chunk[i]
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?)")
			args = append(args, r.Source, r.Seq, micros(r.Time), r.Level, r.Logger, r.Tenant, r.Message, r.Content,
				r.Parsed, r.Category, r.Status, r.Code, r.API)
		}
		// RETURNING gives rows in no promised order: match them by the
		// (source, seq) each is unique by.
		sb.WriteString(" RETURNING id, source, seq")
		rows, err := tx.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return false, err
		}
		index := make(map[srcSeq]int, len(chunk))
		for i := range chunk {
			index[srcSeq{chunk[i].Source, chunk[i].Seq}] = i
		}
		for rows.Next() {
			var id int64
			var k srcSeq
			if err := rows.Scan(&id, &k.source, &k.seq); err != nil {
				rows.Close()
				return false, err
			}
			chunk[index[k]].ID = id
		}
		if err := rows.Close(); err != nil {
			return false, err
		}
	}
	for src, seq := range last {
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_sources (source, last_seq) VALUES (?, ?)
			ON CONFLICT (source) DO UPDATE SET last_seq = excluded.last_seq`, src, seq); err != nil {
			return false, err
		}
	}
	return false, tx.Commit()
}

func scanLog(sc interface{ Scan(...any) error }) (apilens.LogRecord, error) {
	var r apilens.LogRecord
	var t int64
	err := sc.Scan(&r.ID, &r.Source, &r.Seq, &t, &r.Level, &r.Logger, &r.Tenant, &r.Message, &r.Content,
		&r.Parsed, &r.Category, &r.Status, &r.Code, &r.API)
	r.Time = fromMicros(t)
	return r, err
}

// logWhere builds the conditions shared by CountLogs and Logs.
func logWhere(q apilens.LogQuery) (string, []any) {
	conds := []string{"1"}
	var args []any
	if !q.From.IsZero() {
		conds, args = append(conds, "time >= ?"), append(args, micros(q.From))
	}
	if !q.To.IsZero() {
		conds, args = append(conds, "time < ?"), append(args, micros(q.To))
	}
	if q.Category != "" {
		conds, args = append(conds, "category = ?"), append(args, q.Category)
	}
	if q.Status != "" {
		conds, args = append(conds, "status = ?"), append(args, q.Status)
	}
	if q.Source != "" {
		conds, args = append(conds, "source = ?"), append(args, q.Source)
	}
	if q.API != "" {
		conds, args = append(conds, "api = ?"), append(args, q.API)
	}
	return strings.Join(conds, " AND "), args
}

// CountLogs counts the records of q's range by classification, the most
// frequent first.
func (db *DB) CountLogs(ctx context.Context, q apilens.LogQuery) ([]apilens.LogCount, error) {
	where, args := logWhere(q)
	rows, err := db.reader.QueryContext(ctx, `SELECT category, status, code, api, parsed, count(*) FROM log_records WHERE `+where+`
		GROUP BY category, status, code, api, parsed ORDER BY count(*) DESC, category, status, code, api, parsed`, args...)
	if err != nil {
		return nil, fmt.Errorf("count logs: %w", err)
	}
	defer rows.Close()
	out := []apilens.LogCount{}
	for rows.Next() {
		var c apilens.LogCount
		if err := rows.Scan(&c.Category, &c.Status, &c.Code, &c.API, &c.Parsed, &c.Count); err != nil {
			return nil, fmt.Errorf("count logs: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LogTimeline counts q's records per category and step.
func (db *DB) LogTimeline(ctx context.Context, q apilens.LogQuery, step time.Duration) ([]apilens.LogPoint, error) {
	us := step.Microseconds()
	if us <= 0 {
		return nil, apilens.Errorf(apilens.EINVALID, "timeline step %v is not positive", step)
	}
	where, args := logWhere(q)
	rows, err := db.reader.QueryContext(ctx, `SELECT time / ? * ? AS b, category, count(*) FROM log_records WHERE `+where+`
		GROUP BY b, category ORDER BY b, category`, append([]any{us, us}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("log timeline: %w", err)
	}
	defer rows.Close()
	out := []apilens.LogPoint{}
	for rows.Next() {
		var p apilens.LogPoint
		var b int64
		if err := rows.Scan(&b, &p.Category, &p.Count); err != nil {
			return nil, fmt.Errorf("log timeline: %w", err)
		}
		p.Time = fromMicros(b)
		out = append(out, p)
	}
	return out, rows.Err()
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
		t, id, err := parseLogCursor(q.After)
		if err != nil {
			return nil, err
		}
		where += " AND (time, id) " + op + " (?, ?)"
		args = append(args, t, id)
	}
	args = append(args, q.Limit+1)
	rows, err := db.reader.QueryContext(ctx, `SELECT `+logCols+` FROM log_records WHERE `+where+
		` ORDER BY time `+order+`, id `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	defer rows.Close()
	page := &apilens.LogPage{Records: []apilens.LogRecord{}}
	for rows.Next() {
		r, err := scanLog(rows)
		if err != nil {
			return nil, fmt.Errorf("list logs: %w", err)
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	if len(page.Records) > q.Limit {
		page.Records = page.Records[:q.Limit]
		last := page.Records[q.Limit-1]
		page.Next = strconv.FormatInt(micros(last.Time), 10) + "." + strconv.FormatInt(last.ID, 10)
	}
	return page, nil
}

func parseLogCursor(c string) (t, id int64, err error) {
	a, b, ok := strings.Cut(c, ".")
	if ok {
		t, err = strconv.ParseInt(a, 10, 64)
		if err == nil {
			id, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil {
		return 0, 0, apilens.Errorf(apilens.EINVALID, "cursor: %q is not a cursor this server gave out", c)
	}
	return t, id, nil
}

// LogContext returns the record with the id and up to before and after
// records of its source around it.
func (db *DB) LogContext(ctx context.Context, id int64, before, after int) (*apilens.LogRecord, []apilens.LogRecord, []apilens.LogRecord, error) {
	r, err := scanLog(db.reader.QueryRowContext(ctx, `SELECT `+logCols+` FROM log_records WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, nil, nil, apilens.Errorf(apilens.ENOTFOUND, "no log record %d", id)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("log record %d: %w", id, err)
	}
	around := func(query string, n int) ([]apilens.LogRecord, error) {
		out := []apilens.LogRecord{}
		if n <= 0 {
			return out, nil
		}
		rows, err := db.reader.QueryContext(ctx, `SELECT `+logCols+` FROM log_records WHERE `+query, r.Source, r.Seq, n)
		if err != nil {
			return nil, fmt.Errorf("context of log record %d: %w", id, err)
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scanLog(rows)
			if err != nil {
				return nil, fmt.Errorf("context of log record %d: %w", id, err)
			}
			out = append(out, x)
		}
		return out, rows.Err()
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

// purgeChunk bounds one DELETE of PurgeLogs, so a large purge never holds
// the writer (and with it the flushes) for long.
const purgeChunk = 10000

// PurgeLogs deletes the records older than before, a chunk at a time.
func (db *DB) PurgeLogs(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := db.writer.ExecContext(ctx, `DELETE FROM log_records WHERE id IN
			(SELECT id FROM log_records WHERE time < ? LIMIT ?)`, micros(before), purgeChunk)
		if err != nil {
			return total, fmt.Errorf("purge log records: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("purge log records: %w", err)
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}
