package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/ingest"
)

func (s *Server) registerEventRoutes() {
	s.authed("POST /api/v1/events", canPublish, s.handleEvents)
}

// ingestState is the per-request scratch space, pooled: a busy publisher
// sends hundreds of batches a second.
type ingestState struct {
	body    bytes.Buffer
	parser  ingest.Parser
	encoded []byte // the accepted events, encoded as they are decoded
}

var ingestPool = sync.Pool{New: func() any { return new(ingestState) }}

// acceptedBody is the 202 answer of POST /api/v1/events.
type acceptedBody struct {
	Accepted int                `json:"accepted"`
	Rejected []ingest.Rejection `json:"rejected"`
	// Duplicate is true when the Idempotency-Key was seen before: the
	// batch was acknowledged again but not counted again.
	Duplicate bool `json:"duplicate,omitempty"`
}

// handleEvents is POST /api/v1/events (SPEC §2.1): NDJSON or a JSON array
// of 4.x events, optionally gzip. It answers 202 only once the accepted
// events are durable.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
	select {
	case s.inflight <- struct{}{}:
		defer func() { <-s.inflight }()
	default:
		return apilens.Errorf(apilens.EBUSY, "too many ingest requests in flight (%d); retry after a second", cap(s.inflight))
	}
	st := ingestPool.Get().(*ingestState)
	defer func() {
		if st.body.Cap() <= 4*int(s.opts.MaxBodyBytes) && cap(st.encoded) <= 4*int(s.opts.MaxBodyBytes) {
			st.body.Reset()
			st.encoded = st.encoded[:0]
			ingestPool.Put(st)
		}
	}()
	if err := s.readBody(r, &st.body); err != nil {
		return err
	}
	n := 0
	rejected, err := st.parser.Each(st.body.Bytes(), func(e *apilens.Event) {
		st.encoded = apilens.AppendEvent(st.encoded, e)
		n++
	})
	if err != nil {
		return err
	}
	s.opts.IngestMetrics.Rejected(len(rejected))
	if rejected == nil {
		rejected = []ingest.Rejection{}
	}
	if n == 0 {
		if len(rejected) == 0 {
			return apilens.Errorf(apilens.EINVALID, "the body holds no events")
		}
		msg := "no valid event in the batch"
		if len(rejected) == 1 {
			msg += ": item 0: " + rejected[0].Error
		}
		return &rejectedError{apilens.Errorf(apilens.EINVALID, "%s", msg), rejected}
	}
	dup, err := s.opts.Ingest.Submit(r.Context(), u.Name, r.Header.Get("Idempotency-Key"), st.encoded, n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, acceptedBody{Accepted: n, Rejected: rejected, Duplicate: dup})
	return nil
}

// readBody reads the request body into buf, gunzipping it if needed, and
// enforces the size limit on the bytes as sent and as decompressed.
func (s *Server) readBody(r *http.Request, buf *bytes.Buffer) error {
	limit := s.opts.MaxBodyBytes
	tooLarge := apilens.Errorf(apilens.ETOOLARGE, "request body over the limit of %d bytes; send smaller batches", limit)
	if r.ContentLength > limit {
		return tooLarge
	}
	var body io.Reader = http.MaxBytesReader(nil, r.Body, limit)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return apilens.Errorf(apilens.EINVALID, "Content-Encoding is gzip but the body is not: %v", err)
		}
		defer zr.Close()
		body = zr
	}
	n, err := buf.ReadFrom(io.LimitReader(body, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || n > limit:
		return tooLarge
	case err != nil:
		return apilens.Errorf(apilens.EINVALID, "cannot read the request body: %v", err)
	}
	return nil
}
