package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/loganalyzer"
	"github.com/apilens/apilens/simulate"
)

func init() {
	register("ship", "tail gateway log files (wso2carbon.log, apim_metrics.log) and post them to a server", runShip)
}

// Shipping limits and pace.
const (
	shipBatchBytes = 1 << 20 // a post's body before gzip, at most (but for one huge record)
	shipBatchLines = 5000
	shipReadBytes  = 4 << 20 // read at most this much of a file before posting
	shipPoll       = 250 * time.Millisecond
	// shipIdle is how long a file must stay unchanged before its last
	// record is taken as complete: carbon writes a record's stack trace
	// right after its first line, so a second of quiet means it is done.
	shipIdle = time.Second
)

const shipUsage = `--format carbon|apim-metrics [--source NAME] [--url URL --user U --password P | --token T] [--state-dir DIR] [--once] FILE…

With --format carbon, tails each FILE (a wso2carbon.log) and posts its
lines to URL/api/v1/logs under the source NAME (required). A record and
its stack trace always go in the same post.

With --format apim-metrics, tails each FILE (a 4.x gateway's
apim_metrics.log) and posts the events of its apim:response and
apim:faulty lines to URL/api/v1/events, up to 1,000 a post; the file's
other lines are skipped, and a line that cannot be read, or an event the
server rejects, is logged with its file and line number and passed over.

A file renamed and recreated, or truncated, is noticed and read from its
start, after the rest of the old file is sent.

Offsets: each FILE's position is kept in FILE.apilens-offset (or in
DIR/<FILE's name>.apilens-offset with --state-dir), rewritten after every
post the server acknowledged; a restarted ship goes on from there, so no
acknowledged line is lost or sent twice.`

func runShip(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "ship", shipUsage)
	format := fs.String("format", "carbon", "line format: carbon (wso2carbon.log) or apim-metrics (a 4.x gateway's apim_metrics.log)")
	source := fs.String("source", "", "the source the lines are stored under (the gateway's name); required for carbon")
	url := fs.String("url", "http://127.0.0.1:9090", "server base URL; lines go to URL/api/v1/logs, events to URL/api/v1/events")
	user := fs.String("user", "", "publisher account for HTTP Basic auth (default $APILENS_ADMIN_USER)")
	password := fs.String("password", "", "its password (default $APILENS_ADMIN_PASSWORD)")
	token := fs.String("token", "", "bearer API token, instead of --user and --password")
	stateDir := fs.String("state-dir", "", "directory for the offset files (default: beside each FILE)")
	once := fs.Bool("once", false, "read each file to its end, send it all and exit, instead of following it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != shipCarbon && *format != shipMetrics {
		fmt.Fprintf(env.stderr, "apilens ship: --format %q is not one of carbon, apim-metrics\n", *format)
		fs.Usage()
		return errUsage
	}
	// apimMetrics events carry their own API, application and gateway:
	// they need no source to be stored under.
	if (*source == "" && *format == shipCarbon) || fs.NArg() == 0 {
		what := "at least one FILE is required"
		if *format == shipCarbon {
			what = "--source and at least one FILE are required"
		}
		fmt.Fprintln(env.stderr, "apilens ship: "+what)
		fs.Usage()
		return errUsage
	}
	if *user == "" {
		*user = env.getenv("APILENS_ADMIN_USER")
	}
	if *password == "" {
		*password = env.getenv("APILENS_ADMIN_PASSWORD")
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, nil)).With("component", "ship", "format", *format)
	if *source != "" {
		logger = logger.With("source", *source)
	}
	sh := &shipper{
		format: *format,
		source: *source,
		once:   *once,
		logger: logger,
		client: &simulate.LogClient{URL: *url, User: *user, Password: *password, Token: *token},
		events: &eventClient{URL: *url, User: *user, Password: *password, Token: *token},
		bad:    lineLog{logger: logger},
	}
	onRetry := func(err error, wait time.Duration) {
		sh.retries.Add(1)
		logger.Warn("post failed; retrying", "err", err, "in", wait.Round(time.Millisecond))
	}
	sh.client.OnRetry, sh.events.OnRetry = onRetry, onRetry
	if !*once {
		// Following a file is a service: it outlasts any outage.
		sh.client.MaxRetries, sh.events.MaxRetries = -1, -1
	}
	for _, path := range fs.Args() {
		state := path + ".apilens-offset"
		if *stateDir != "" {
			state = filepath.Join(*stateDir, filepath.Base(path)+".apilens-offset")
		}
		sh.files = append(sh.files, &tailer{sh: sh, path: path, statePath: state})
	}
	if *format == shipMetrics {
		fmt.Fprintf(env.stderr, "Shipping the apimMetrics events of %d file(s) to %s.\n", len(sh.files), sh.events.endpoint())
	} else {
		fmt.Fprintf(env.stderr, "Shipping %d file(s) as %q to %s/api/v1/logs.\n", len(sh.files), *source, *url)
	}
	stop := sh.progress(env.stderr)
	err := sh.run(ctx)
	sh.bad.flush()
	stop()
	if err != nil {
		return fmt.Errorf("ship: %w", err)
	}
	return nil
}

// The formats ship reads.
const (
	shipCarbon  = "carbon"
	shipMetrics = "apim-metrics"
)

// shipper ships a set of files of one format (and, for carbon, one
// source).
type shipper struct {
	format string
	source string
	once   bool
	logger *slog.Logger
	client *simulate.LogClient // carbon
	events *eventClient        // apim-metrics
	files  []*tailer

	// Lines for carbon, events for apim-metrics.
	sent, acked, retries atomic.Int64
	// apim-metrics only: events the server rejected, lines that could not
	// be read, lines of other kinds than response and faulty, and lines
	// that are no apimMetrics lines.
	rejected, badLines, skipped, other atomic.Int64

	// Files are polled one at a time: they share the scratch space.
	metrics metricsScratch
	bad     lineLog
}

// run polls every file until ctx ends, or, with once, until every file
// is sent to its end.
func (sh *shipper) run(ctx context.Context) error {
	for _, t := range sh.files {
		if err := t.open(); err != nil {
			return err
		}
	}
	defer func() {
		for _, t := range sh.files {
			t.close()
		}
	}()
	tick := time.NewTicker(shipPoll)
	defer tick.Stop()
	for {
		for _, t := range sh.files {
			if err := t.poll(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		if sh.once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// progress prints a line every second until the returned function is
// called, which prints the totals.
func (sh *shipper) progress(w io.Writer) func() {
	tty := simulate.IsTerminal(w)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	line := func(rate float64) string {
		if sh.format == shipMetrics {
			return fmt.Sprintf("%.0f events/s, %d events sent, %d accepted, %d rejected, %d bad lines, %d other lines, %d of other kinds, %d retries",
				rate, sh.sent.Load(), sh.acked.Load(), sh.rejected.Load(), sh.badLines.Load(), sh.other.Load(), sh.skipped.Load(), sh.retries.Load())
		}
		return fmt.Sprintf("%.0f lines/s, %d lines sent, %d acknowledged, %d retries", rate, sh.sent.Load(), sh.acked.Load(), sh.retries.Load())
	}
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				n := sh.acked.Load()
				l := line(float64(n-last) / now.Sub(lastAt).Seconds())
				last, lastAt = n, now
				if tty {
					fmt.Fprintf(w, "\r%s\033[K", l)
				} else {
					fmt.Fprintln(w, l)
				}
			}
		}
	})
	return func() {
		close(stop)
		wg.Wait()
		if tty {
			fmt.Fprint(w, "\r\033[K")
		}
		fmt.Fprintln(w, line(float64(sh.acked.Load())/max(time.Since(start).Seconds(), 1e-3))+" in "+time.Since(start).Round(time.Millisecond).String())
	}
}

// shipState is what an offset file holds: which file was being read (its
// inode, and a digest of its first bytes, since a recycled inode must not
// pass for the old file) and how far the server has acknowledged it.
type shipState struct {
	Path   string `json:"path"`
	Inode  uint64 `json:"inode"`
	Head   string `json:"head"` // sha256 of the first min(headLen, offset) bytes
	Offset int64  `json:"offset"`
	// Lines is the number of lines before Offset, so that a restarted
	// ship still names a bad line by its number.
	Lines int64 `json:"lines,omitempty"`
}

const headLen = 256

// tailer follows one file. Its open file may be one that was renamed
// away (rotated): it is read to its end and sent whole before the tailer
// moves on to the file now at path.
type tailer struct {
	sh              *shipper
	path, statePath string
	f               *os.File
	fi              os.FileInfo // of f
	off             int64       // acknowledged bytes of f
	line            int64       // lines of f before off
	buf             []byte      // f's bytes from off on, read and not yet acknowledged
	head            string      // digest of f's first bytes, once known
	changed         time.Time   // when f last grew
	draining        bool        // f was rotated away: send it to its end, then open path
	warnedOpen      bool
}

// open finds where to start: at the offset of the state file if it still
// describes the file at path, or in the rotated file it describes, or at
// the start of the file at path.
func (t *tailer) open() error {
	var st shipState
	b, err := os.ReadFile(t.statePath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read offset file %q: %w", t.statePath, err)
	default:
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("offset file %q: %w", t.statePath, err)
		}
	}
	if st.Offset > 0 {
		if f, fi := t.find(st); f != nil {
			t.f, t.fi, t.off, t.line = f, fi, st.Offset, st.Lines
			if !sameAsPath(t.path, fi) {
				t.sh.logger.Info("finishing the rotated file first", "file", f.Name(), "offset", st.Offset)
			}
			return nil
		}
		t.sh.logger.Warn("the file of the offset file is gone or was truncated; starting from the beginning", "file", t.path, "offset", st.Offset)
	}
	return t.openPath()
}

// find returns the file st describes, open, if it is still at path or
// was renamed within its directory, and still holds st.Offset bytes.
func (t *tailer) find(st shipState) (*os.File, os.FileInfo) {
	candidates := []string{t.path}
	if entries, err := os.ReadDir(filepath.Dir(t.path)); err == nil {
		for _, e := range entries {
			candidates = append(candidates, filepath.Join(filepath.Dir(t.path), e.Name()))
		}
	}
	for _, c := range candidates {
		fi, err := os.Stat(c)
		if err != nil || !fi.Mode().IsRegular() || inode(fi) != st.Inode || fi.Size() < st.Offset {
			continue
		}
		f, err := os.Open(c)
		if err != nil {
			continue
		}
		if h, err := digestHead(f, st.Offset); err == nil && h == st.Head {
			return f, fi
		}
		f.Close()
	}
	return nil, nil
}

func digestHead(f *os.File, size int64) (string, error) {
	b := make([]byte, min(size, headLen))
	if _, err := f.ReadAt(b, 0); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func sameAsPath(path string, fi os.FileInfo) bool {
	cur, err := os.Stat(path)
	return err == nil && os.SameFile(cur, fi)
}

// openPath opens the file at path from its start. A file not there yet
// is waited for, except with --once.
func (t *tailer) openPath() error {
	f, err := os.Open(t.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !t.sh.once {
			if !t.warnedOpen {
				t.sh.logger.Warn("waiting for the file to appear", "file", t.path)
				t.warnedOpen = true
			}
			return nil
		}
		return fmt.Errorf("open %q: %w", t.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %q: %w", t.path, err)
	}
	t.f, t.fi, t.off, t.line, t.buf, t.head, t.changed = f, fi, 0, 0, t.buf[:0], "", time.Now()
	return nil
}

func (t *tailer) close() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}

// poll reads what the file gained and sends what is complete; at the
// file's end it checks for rotation and truncation. With --once it goes
// on until the file is sent to its end.
func (t *tailer) poll(ctx context.Context) error {
	for ctx.Err() == nil {
		if t.f == nil {
			if err := t.openPath(); err != nil || t.f == nil {
				return err
			}
		}
		if err := t.read(); err != nil {
			return err
		}
		atEnd := len(t.buf) < shipReadBytes
		if atEnd && !t.draining {
			rotated, err := t.rotated()
			if err != nil {
				return err
			}
			if rotated {
				// Whatever the old file holds now is all it will ever
				// hold (the writer has moved on): read it once more to
				// its end, and send it all.
				t.draining = true
				continue
			}
		}
		// An apimMetrics line is whole at its newline: only carbon waits
		// for quiet before taking the last line read as complete.
		quiet := t.sh.format == shipCarbon && time.Since(t.changed) >= shipIdle
		idle := atEnd && (t.draining || t.sh.once || quiet)
		if err := t.send(ctx, idle); err != nil {
			return err
		}
		if len(t.buf) >= shipReadBytes {
			// One "record" bigger than a read is no carbon record (the
			// server keeps 64 KiB of one) nor metrics line: cut it where
			// the read ends.
			if err := t.send(ctx, true); err != nil {
				return err
			}
		}
		if atEnd && t.draining {
			t.sh.logger.Info("file rotated; reading the new one", "file", t.path, "old", t.f.Name())
			t.close()
			t.draining = false
			continue
		}
		if atEnd {
			return nil
		}
	}
	return nil
}

// read appends what f holds past what was read, up to shipReadBytes
// unsent bytes.
func (t *tailer) read() error {
	total := 0
	for len(t.buf) < shipReadBytes {
		if cap(t.buf)-len(t.buf) < 64<<10 {
			t.buf = append(t.buf, make([]byte, 256<<10)...)[:len(t.buf)]
		}
		n, err := t.f.ReadAt(t.buf[len(t.buf):min(cap(t.buf), shipReadBytes)], t.off+int64(len(t.buf)))
		t.buf = t.buf[:len(t.buf)+n]
		total += n
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %q: %w", t.f.Name(), err)
		}
	}
	if total > 0 {
		t.changed = time.Now()
	}
	return nil
}

// rotated reports whether path now names another file than the one open
// (renamed and recreated); a file truncated under it is started over.
func (t *tailer) rotated() (bool, error) {
	fi, err := os.Stat(t.path)
	if err != nil {
		// Renamed, not yet recreated: keep reading the old one.
		return false, nil
	}
	if !os.SameFile(fi, t.fi) {
		return true, nil
	}
	if fi.Size() < t.off+int64(len(t.buf)) {
		t.sh.logger.Warn("file truncated; reading it from the start", "file", t.path, "size", fi.Size(), "offset", t.off+int64(len(t.buf)))
		t.off, t.line, t.buf, t.head, t.fi = 0, 0, t.buf[:0], "", fi
		return false, t.save()
	}
	t.fi = fi
	return false, nil
}

// batchKey is the Idempotency-Key of the batch at the file's current
// offset: a digest of the source, the offset and the lines, so a shipper
// restarted after a post whose answer it never saw sends the same key and
// the server stores the lines once.
func (t *tailer) batchKey(body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00", t.sh.source, t.path, t.off)
	h.Write(body)
	return "ship-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// send posts what buf holds that is complete, in batches, and moves the
// offset past each acknowledged batch.
func (t *tailer) send(ctx context.Context, idle bool) error {
	if t.sh.format == shipMetrics {
		return t.sendMetrics(ctx, idle)
	}
	return t.sendCarbon(ctx, idle)
}

// sendCarbon posts the records in buf that are complete. A record is
// complete when the next one has started; with idle, everything read is.
func (t *tailer) sendCarbon(ctx context.Context, idle bool) error {
	cuts := t.cuts(idle)
	start, startLines := 0, 0
	for len(cuts) > 0 {
		// The longest run of whole records within the limits, or one
		// record alone if it is bigger than they are.
		k := 0
		for k+1 < len(cuts) && cuts[k+1].off-start <= shipBatchBytes && cuts[k+1].lines-startLines <= shipBatchLines {
			k++
		}
		c := cuts[k]
		lines := c.lines - startLines
		t.sh.sent.Add(int64(lines))
		ack, err := t.sh.client.Post(ctx, t.batchKey(t.buf[start:c.off]), t.sh.source, "carbon", t.buf[start:c.off])
		if err != nil {
			t.sh.sent.Add(-int64(lines))
			if errors.Is(err, simulate.ErrLogRejected) {
				t.sh.logger.Error("the server refused the lines", "file", t.f.Name(), "offset", t.off, "err", err)
			}
			t.buf = t.buf[:copy(t.buf, t.buf[start:])]
			return err
		}
		if ack.Unparsed > 0 {
			t.sh.logger.Debug("lines no layout matched, kept raw", "count", ack.Unparsed)
		}
		t.sh.acked.Add(int64(lines))
		if err := t.advance(c.off-start, lines); err != nil {
			return err
		}
		start, startLines = c.off, c.lines
		cuts = cuts[k+1:]
	}
	t.buf = t.buf[:copy(t.buf, t.buf[start:])]
	return nil
}

// advance moves the offset past n acknowledged bytes holding lines lines,
// and saves it.
func (t *tailer) advance(n, lines int) error {
	t.off += int64(n)
	t.line += int64(lines)
	if t.head == "" || t.off <= headLen {
		var err error
		if t.head, err = digestHead(t.f, t.off); err != nil {
			return fmt.Errorf("read %q: %w", t.f.Name(), err)
		}
	}
	return t.save()
}

// cut is a place buf may be cut: a record starts there (or buf ends).
type cut struct {
	off, lines int // bytes and lines before it
}

// cuts finds the record boundaries in buf with the carbon parser: when
// Feed emits a record on a line, every line before it is complete. Only
// whole lines are considered; with idle the end of buf is a cut too, an
// unfinished last line included.
func (t *tailer) cuts(idle bool) []cut {
	var out []cut
	p := loganalyzer.NewParser("", nil)
	emitted := false
	emit := func(apilens.LogRecord) { emitted = true }
	lines := 0
	pos := 0
	for {
		i := bytes.IndexByte(t.buf[pos:], '\n')
		if i < 0 {
			break
		}
		emitted = false
		p.Feed(t.buf[pos:pos+i], emit)
		if emitted && pos > 0 {
			out = append(out, cut{pos, lines})
		}
		lines++
		pos += i + 1
	}
	if idle && len(t.buf) > 0 {
		if pos < len(t.buf) {
			lines++ // the unfinished last line
		}
		out = append(out, cut{len(t.buf), lines})
	}
	return out
}

// save writes the offset file: to a temporary file renamed over it, so
// that a crash leaves the old offset or the new one, never a torn one.
func (t *tailer) save() error {
	st := shipState{Path: t.f.Name(), Inode: inode(t.fi), Head: t.head, Offset: t.off, Lines: t.line}
	b, _ := json.Marshal(st) // a struct of plain fields always marshals
	tmp := t.statePath + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write offset file: %w", err)
	}
	if err := os.Rename(tmp, t.statePath); err != nil {
		return fmt.Errorf("write offset file: %w", err)
	}
	return nil
}
