package ingest

import (
	"context"
	"errors"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/spool"
)

// SpoolLog is the Log of a single machine: package spool. A full spool
// answers EUNAVAILABLE, which the receivers turn into their "retry later".
func SpoolLog(s *spool.Spool) Log { return spoolLog{s} }

type spoolLog struct{ s *spool.Spool }

func (l spoolLog) Append(ctx context.Context, payloads ...[]byte) (int64, error) {
	end, err := l.s.Append(ctx, payloads...)
	if errors.Is(err, spool.ErrFull) {
		return 0, apilens.Errorf(apilens.EUNAVAILABLE, "the event buffer is full while the database catches up; retry later")
	}
	return end, err
}

func (l spoolLog) Read(from int64) LogReader { return spoolReader{l.s.Reader(from)} }
func (l spoolLog) Release(upTo int64) error  { return l.s.Release(upTo) }

// spoolReader reads the spool's records, which are never modified: what
// LogReader asks.
type spoolReader struct{ r *spool.Reader }

func (r spoolReader) Next(ctx context.Context) ([]byte, int64, error) {
	rec, err := r.r.Next(ctx)
	return rec.Data, rec.End, err
}

func (r spoolReader) TryNext() ([]byte, int64, bool, error) {
	rec, ok, err := r.r.TryNext()
	return rec.Data, rec.End, ok, err
}

func (r spoolReader) Close() error { return r.r.Close() }
