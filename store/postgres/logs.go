package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/store/internal/sqlstore"
)

const logCols = `id, source, seq, time, level, logger, tenant, message, content, parsed, category, status, code, api`

// AppendLogs stores recs in one transaction, numbering each source's
// records on from the last number it was given, with key (if any) among
// the idempotency keys. The numbers are reserved by one upsert of
// log_sources that adds each source's count, so concurrent appends to one
// source get disjoint ranges.
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
	// Sources in order of first appearance, with their record counts.
	var sources []string
	counts := map[string]int64{}
	for _, r := range recs {
		if counts[r.Source] == 0 {
			sources = append(sources, r.Source)
		}
		counts[r.Source]++
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if key != "" {
			tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (key_sha, key, seen) VALUES ($1, $2, $3) ON CONFLICT (key_sha) DO NOTHING`,
				keySHA(key), sqlstore.Text(key), micros(time.Now()))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				duplicate = true
				return nil
			}
		}
		n := make([]int64, len(sources))
		for i, s := range sources {
			n[i] = counts[s]
		}
		rows, err := tx.Query(ctx, `INSERT INTO log_sources (source, last_seq) SELECT * FROM unnest($1::text[], $2::bigint[])
			ON CONFLICT (source) DO UPDATE SET last_seq = log_sources.last_seq + excluded.last_seq
			RETURNING source, last_seq`, sources, n)
		if err != nil {
			return err
		}
		next := map[string]int64{} // the next number to give out, per source
		for rows.Next() {
			var src string
			var last int64
			if err := rows.Scan(&src, &last); err != nil {
				rows.Close()
				return err
			}
			next[src] = last - counts[src] + 1
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// One array per column, for unnest().
		var (
			seqs, times                                        []int64
			srcs, levels, loggers, tenants, messages, contents []string
			parsed                                             []bool
			categories, statuses, codes, apis                  []string
		)
		for i := range recs {
			r := &recs[i]
			r.Seq = next[r.Source]
			next[r.Source]++
			srcs, seqs, times = append(srcs, r.Source), append(seqs, r.Seq), append(times, micros(r.Time))
			levels, loggers, tenants = append(levels, r.Level), append(loggers, r.Logger), append(tenants, r.Tenant)
			messages, contents, parsed = append(messages, r.Message), append(contents, r.Content), append(parsed, r.Parsed)
			categories, statuses = append(categories, r.Category), append(statuses, r.Status)
			codes, apis = append(codes, r.Code), append(apis, r.API)
		}
		// RETURNING gives rows in no promised order: match them by the
		// (source, seq) each is unique by.
		rows, err = tx.Query(ctx, `INSERT INTO log_records (source, seq, time, level, logger, tenant, message, content, parsed, category, status, code, api)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
				$9::boolean[], $10::text[], $11::text[], $12::text[], $13::text[])
			RETURNING id, source, seq`, srcs, seqs, times, levels, loggers, tenants, messages, contents,
			parsed, categories, statuses, codes, apis)
		if err != nil {
			return err
		}
		type srcSeq struct {
			source string
			seq    int64
		}
		index := make(map[srcSeq]int, len(recs))
		for i := range recs {
			index[srcSeq{recs[i].Source, recs[i].Seq}] = i
		}
		for rows.Next() {
			var id int64
			var k srcSeq
			if err := rows.Scan(&id, &k.source, &k.seq); err != nil {
				rows.Close()
				return err
			}
			recs[index[k]].ID = id
		}
		return rows.Err()
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
// Logs; args already holds the statement's earlier arguments.
func logWhere(q apilens.LogQuery, args []any) (string, []any) {
	conds := []string{"true"}
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	if !q.From.IsZero() {
		add("time >= ?", micros(q.From))
	}
	if !q.To.IsZero() {
		add("time < ?", micros(q.To))
	}
	for _, f := range []struct{ col, v string }{{"category", q.Category}, {"status", q.Status}, {"source", q.Source}, {"api", q.API}} {
		if f.v != "" {
			add(f.col+" = ?", sqlstore.Text(f.v))
		}
	}
	return strings.Join(conds, " AND "), args
}

// CountLogs counts the records of q's range by classification, the most
// frequent first.
func (db *DB) CountLogs(ctx context.Context, q apilens.LogQuery) ([]apilens.LogCount, error) {
	where, args := logWhere(q, nil)
	rows, err := db.pool.Query(ctx, `SELECT category, status, code, api, parsed, count(*) FROM log_records WHERE `+where+`
		GROUP BY category, status, code, api, parsed ORDER BY count(*) DESC, category, status, code, api, parsed`, args...)
	if err != nil {
		return nil, fmt.Errorf("count logs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (apilens.LogCount, error) {
		var c apilens.LogCount
		err := row.Scan(&c.Category, &c.Status, &c.Code, &c.API, &c.Parsed, &c.Count)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count logs: %w", err)
	}
	if out == nil {
		out = []apilens.LogCount{}
	}
	return out, nil
}

// LogTimeline counts q's records per category and step.
func (db *DB) LogTimeline(ctx context.Context, q apilens.LogQuery, step time.Duration) ([]apilens.LogPoint, error) {
	us := step.Microseconds()
	if us <= 0 {
		return nil, apilens.Errorf(apilens.EINVALID, "timeline step %v is not positive", step)
	}
	where, args := logWhere(q, []any{us})
	rows, err := db.pool.Query(ctx, `SELECT time / $1 * $1 AS b, category, count(*) FROM log_records WHERE `+where+`
		GROUP BY b, category ORDER BY b, category`, args...)
	if err != nil {
		return nil, fmt.Errorf("log timeline: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (apilens.LogPoint, error) {
		var p apilens.LogPoint
		var b int64
		err := row.Scan(&b, &p.Category, &p.Count)
		p.Time = fromMicros(b)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("log timeline: %w", err)
	}
	if out == nil {
		out = []apilens.LogPoint{}
	}
	return out, nil
}

// Logs lists the records of q in time order (ties by ID), q.Limit at a
// time; the cursor is the time and ID of the page's last record.
func (db *DB) Logs(ctx context.Context, q apilens.LogQuery) (*apilens.LogPage, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	where, args := logWhere(q, nil)
	op, order := ">", "ASC"
	if q.Desc {
		op, order = "<", "DESC"
	}
	if q.After != "" {
		t, id, err := sqlstore.ParseLogCursor(q.After)
		if err != nil {
			return nil, err
		}
		args = append(args, t, id)
		where += fmt.Sprintf(" AND (time, id) %s ($%d, $%d)", op, len(args)-1, len(args))
	}
	args = append(args, q.Limit+1)
	rows, err := db.pool.Query(ctx, `SELECT `+logCols+` FROM log_records WHERE `+where+
		` ORDER BY time `+order+`, id `+order+` LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (apilens.LogRecord, error) { return scanLog(row) })
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	page := &apilens.LogPage{Records: recs}
	if page.Records == nil {
		page.Records = []apilens.LogRecord{}
	}
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
	r, err := scanLog(db.pool.QueryRow(ctx, `SELECT `+logCols+` FROM log_records WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil, apilens.Errorf(apilens.ENOTFOUND, "no log record %d", id)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("log record %d: %w", id, err)
	}
	around := func(cond string, n int) ([]apilens.LogRecord, error) {
		out := []apilens.LogRecord{}
		if n <= 0 {
			return out, nil
		}
		rows, err := db.pool.Query(ctx, `SELECT `+logCols+` FROM log_records WHERE `+cond, r.Source, r.Seq, n)
		if err != nil {
			return nil, fmt.Errorf("context of log record %d: %w", id, err)
		}
		recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (apilens.LogRecord, error) { return scanLog(row) })
		if err != nil {
			return nil, fmt.Errorf("context of log record %d: %w", id, err)
		}
		return append(out, recs...), nil
	}
	prev, err := around(`source = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, before)
	if err != nil {
		return nil, nil, nil, err
	}
	for i, j := 0, len(prev)-1; i < j; i, j = i+1, j-1 {
		prev[i], prev[j] = prev[j], prev[i]
	}
	next, err := around(`source = $1 AND seq > $2 ORDER BY seq LIMIT $3`, after)
	if err != nil {
		return nil, nil, nil, err
	}
	return &r, prev, next, nil
}

// purgeChunk bounds one DELETE of PurgeLogs, so a large purge holds its
// row locks and its share of the write-ahead log briefly.
const purgeChunk = 10000

// PurgeLogs deletes the records older than before, a chunk at a time.
func (db *DB) PurgeLogs(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM log_records WHERE id IN
			(SELECT id FROM log_records WHERE time < $1 LIMIT $2)`, micros(before), purgeChunk)
		if err != nil {
			return total, fmt.Errorf("purge log records: %w", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}
