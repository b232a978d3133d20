// Package loganalyzer turns gateway log lines into apilens.LogRecords and
// classifies them: a streaming parser for the WSO2 carbon log layouts
// (REFERENCE §7), a decoder for NDJSON log events, and an ordered list of
// classification rules applied as records arrive.
package loganalyzer

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apilens/apilens"
)

// Parser reads the lines of one carbon log (a wso2carbon.log file, or the
// lines one publisher posts) and groups them into records: a line that
// starts a record, then every line that does not (stack traces, "Caused
// by:", a message's own line breaks). A record is complete only when the
// next one starts, so the parser holds one pending record between calls.
//
// The three line families of REFERENCE §7 are recognised:
//
//	TID: [-1234] [] [2018-10-05 11:04:48,398]  WARN {a.b.Logger} -  msg {a.b.Logger}   (2.x)
//	TID: [-1234] [] [2020-05-12 10:15:30,123] [corr-id]  WARN {a.b.Logger} - msg       (3.x/4.x)
//	[2020-05-12 10:15:30,123]  WARN {a.b.Logger} |artifact| - msg
//	[2020-05-12 10:15:30,123]  WARN - ShortLogger msg
//
// A Parser is not safe for concurrent use; keep one per source.
type Parser struct {
	source string
	loc    *time.Location

	// The pending record: rec holds what is known when it starts; its
	// text grows in buf until emitted.
	rec     apilens.LogRecord
	pending bool
	buf     []byte
	// dropped counts the record's bytes past apilens.MaxLogContentLen
	// (line breaks included); the record ends with a note that says how
	// many.
	dropped int
	// blanks counts empty lines seen since the last non-empty one: they
	// join the record only when more text follows, so a record never ends
	// in the blank lines that separate it from the next.
	blanks int
	// Offsets into buf of the first line's fields, kept as offsets so the
	// strings share the one allocation of Content; see header.
	msgStart, msgEnd int
	logger, tenant   span

	// lastTime stamps unparsed lines: see Feed.
	lastTime time.Time
	// The minute of the last timestamp, so that most lines skip
	// time.Date's calendar and zone arithmetic: see parseTime. The zero
	// key matches no timestamp.
	minuteKey  [16]byte
	minuteZone int // zone offset in seconds, or noZone
	minute     time.Time
}

// span is a field of the first line: offsets into the record's text, or,
// for a field too far into a huge first line to be sure it survives the
// content cap, its own copy.
type span struct {
	start, end int
	copied     *string
}

func (s span) of(content string) string {
	if s.copied != nil {
		return *s.copied
	}
	return content[s.start:s.end]
}

// NewParser returns a parser for the named source. Timestamps without a
// zone, as carbon writes them (the server's local time), are read in loc;
// UTC when loc is nil.
func NewParser(source string, loc *time.Location) *Parser {
	if loc == nil {
		loc = time.UTC
	}
	return &Parser{source: source, loc: loc}
}

// Feed takes the next line of the log, without its line break (a trailing
// "\r" of a CRLF file is dropped here), and calls emit with the record the
// line completes, if any: a line that starts a record completes the
// pending one. A line that starts no record joins the pending record's
// Content; when there is none (the input starts inside a stack trace, or
// the pending record was flushed while its trace was still being written)
// it is emitted at once as a record of its own, Parsed false and its
// Message the line itself, because a line is never dropped silently. Such a record takes the time of the
// last parsed record of this parser, so that it sorts beside its
// neighbours; before any record has parsed its Time is zero and the caller
// stamps it (with the arrival time, say). An empty line with no pending
// record carries nothing and is skipped.
//
// Invalid UTF-8 is replaced with U+FFFD. The emitted record owns its
// strings; line may be reused once Feed returns.
func (p *Parser) Feed(line []byte, emit func(apilens.LogRecord)) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if !utf8.Valid(line) {
		line = []byte(strings.ToValidUTF8(string(line), "\uFFFD"))
	}
	var h header
	if p.scanHeader(line, &h) {
		p.Flush(emit)
		p.start(line, &h)
		return
	}
	if p.pending {
		if len(line) == 0 {
			p.blanks++
			return
		}
		for range p.blanks + 1 {
			p.append(newline)
		}
		p.blanks = 0
		p.append(line)
		return
	}
	if len(line) == 0 {
		return
	}
	p.start(line, nil)
	p.Flush(emit)
}

var newline = []byte{'\n'}

// Flush emits the pending record, if any. Call it at the end of the input,
// and when a source has been idle for a while: a record is otherwise held
// until the next one starts.
func (p *Parser) Flush(emit func(apilens.LogRecord)) {
	if !p.pending {
		return
	}
	content, kept := p.content()
	r := p.rec
	r.Content = content
	if r.Parsed {
		r.Message = content[min(p.msgStart, kept):min(p.msgEnd, kept)]
		r.Logger = p.logger.of(content)
		r.Tenant = p.tenant.of(content)
	} else {
		r.Message = content
	}
	p.pending = false
	emit(r)
}

// start makes line the pending record: parsed when h is given.
func (p *Parser) start(line []byte, h *header) {
	p.pending = true
	p.buf = p.buf[:0]
	p.dropped = 0
	p.blanks = 0
	p.rec = apilens.LogRecord{Source: p.source, Time: p.lastTime}
	p.append(line)
	if h == nil {
		return
	}
	p.rec.Parsed = true
	p.rec.Time = h.time
	p.rec.Level = h.level
	p.lastTime = h.time
	p.msgStart, p.msgEnd = h.msg.start, h.msg.end
	p.logger = fieldSpan(line, h.logger)
	p.tenant = fieldSpan(line, h.tenant)
}

// fieldSpan keeps a field as offsets when it lies where the content cap
// can never reach (see content), and copies it otherwise — only ever for
// a pathological first line.
func fieldSpan(line []byte, s span) span {
	if s.end <= apilens.MaxLogContentLen-maxNoteLen-utf8.UTFMax {
		return s
	}
	c := string(line[s.start:s.end])
	return span{copied: &c}
}

// append adds b to the pending record's text, up to the content cap. Past
// the cap only the count of bytes is kept.
func (p *Parser) append(b []byte) {
	if p.dropped > 0 {
		p.dropped += len(b)
		return
	}
	room := apilens.MaxLogContentLen - len(p.buf)
	if len(b) <= room {
		p.buf = append(p.buf, b...)
		return
	}
	cut := runeBoundary(b, room)
	p.buf = append(p.buf, b[:cut]...)
	p.dropped = len(b) - cut
}

// maxNoteLen bounds the length of the note a cut record ends with.
const maxNoteLen = len("\n… (cut:  more bytes)") + 20

// content returns the pending record's text, and how many of its bytes
// are the record's own (the rest is the cut note). A cut record keeps as
// much of its text as fits with the note within the cap.
func (p *Parser) content() (string, int) {
	if p.dropped == 0 {
		return string(p.buf), len(p.buf)
	}
	return cutContent(p.buf, p.dropped)
}

// cutContent returns b, of which dropped more bytes were not kept, cut so
// that it ends with a note of the bytes left out and is no longer than
// apilens.MaxLogContentLen; and the length kept before the note.
func cutContent(b []byte, dropped int) (string, int) {
	// The note's own length depends on the count it reports, which grows
	// with what the note displaces: settle it in a few rounds.
	n := dropped
	for {
		note := "\n… (cut: " + strconv.Itoa(n) + " more bytes)"
		keep := runeBoundary(b, apilens.MaxLogContentLen-len(note))
		if total := dropped + len(b) - keep; total != n {
			n = total
			continue
		}
		return string(b[:keep]) + note, keep
	}
}

// runeBoundary returns the largest length ≤ n at which b can be cut
// without splitting a UTF-8 sequence.
func runeBoundary(b []byte, n int) int {
	if n >= len(b) {
		return len(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return n
}

// header is what a record's first line says.
type header struct {
	time   time.Time
	level  string
	logger span
	tenant span
	msg    span
}

// scanHeader reports whether line starts a record, and fills h. It is a
// hand-written scanner rather than a regexp: it runs on every line, most
// of which (stack frames) fail at the first byte, and a regexp costs a
// few hundred nanoseconds a line even then, several times this scanner's
// whole budget.
func (p *Parser) scanHeader(line []byte, h *header) bool {
	i := 0
	if hasPrefix(line, "TID:") {
		i = skipSpaces(line, 4)
		var ok bool
		if h.tenant, i, ok = bracketed(line, i); !ok {
			return false
		}
		// The application (2.x: server) name: not kept.
		if _, i, ok = bracketed(line, skipSpaces(line, i)); !ok {
			return false
		}
		i = skipSpaces(line, i)
	}
	if i >= len(line) || line[i] != '[' {
		return false
	}
	t, n, ok := p.parseTime(line[i+1:])
	if !ok || i+1+n >= len(line) || line[i+1+n] != ']' {
		return false
	}
	h.time = t
	i = skipSpaces(line, i+n+2)
	// An optional correlation id (3.x/4.x) or other bracketed tag.
	if i < len(line) && line[i] == '[' {
		if _, i, ok = bracketed(line, i); !ok {
			return false
		}
		i = skipSpaces(line, i)
	}
	if h.level, i = scanLevel(line, i); h.level == "" {
		return false
	}
	if i >= len(line) || line[i] != ' ' {
		return false
	}
	i = skipSpaces(line, i)
	if i >= len(line) {
		return false
	}
	switch line[i] {
	case '{': // {logger} [|artifact|] - message [{logger}]
		end := indexByteFrom(line, i+1, '}')
		if end < 0 || end == i+1 {
			return false
		}
		h.logger = span{start: i + 1, end: end}
		i = skipSpaces(line, end+1)
		if i < len(line) && line[i] == '|' {
			bar := indexByteFrom(line, i+1, '|')
			if bar < 0 {
				return false
			}
			i = skipSpaces(line, bar+1)
		}
		if i >= len(line) || line[i] != '-' || (i+1 < len(line) && line[i+1] != ' ') {
			return false
		}
		h.msg.start = skipSpaces(line, i+1)
		h.msg.end = len(line)
		trimTrailingLogger(line, h)
	case '-': // - ShortLogger message
		if i+1 < len(line) && line[i+1] != ' ' {
			return false
		}
		i = skipSpaces(line, i+1)
		end := i
		for end < len(line) && line[end] != ' ' {
			end++
		}
		if end == i {
			return false
		}
		h.logger = span{start: i, end: end}
		h.msg = span{start: skipSpaces(line, end), end: len(line)}
	default:
		return false
	}
	return true
}

// trimTrailingLogger drops the " {logger}" that the 2.x layout repeats
// after the message, and the spaces before it.
func trimTrailingLogger(line []byte, h *header) {
	lg := line[h.logger.start:h.logger.end]
	end := h.msg.end
	if end-h.msg.start < len(lg)+2 || line[end-1] != '}' || string(line[end-1-len(lg):end-1]) != string(lg) || line[end-2-len(lg)] != '{' {
		return
	}
	end -= len(lg) + 2
	for end > h.msg.start && line[end-1] == ' ' {
		end--
	}
	h.msg.end = end
}

// bracketed reads "[…]" at i and returns the span inside and the index
// after it.
func bracketed(line []byte, i int) (span, int, bool) {
	if i >= len(line) || line[i] != '[' {
		return span{}, i, false
	}
	end := indexByteFrom(line, i+1, ']')
	if end < 0 {
		return span{}, i, false
	}
	return span{start: i + 1, end: end}, end + 1, true
}

// levels are the log4j levels, as the parser returns them (constant
// strings, so a record's Level costs no allocation).
var levels = [...]string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// scanLevel reads a level at i and returns it and the index after it; ""
// when there is none.
func scanLevel(line []byte, i int) (string, int) {
	for _, l := range levels {
		if hasPrefix(line[min(i, len(line)):], l) {
			return l, i + len(l)
		}
	}
	return "", i
}

// noZone marks a timestamp without a zone, read in the parser's location.
const noZone = -1 << 31

// parseTime reads "2006-01-02 15:04:05" (or with a "T"), an optional
// fraction after "," or ".", and an optional zone ("Z", "+0530",
// "+05:30") at the start of b, and returns the time and its length.
// Without a zone it is read in the parser's location.
func (p *Parser) parseTime(b []byte) (time.Time, int, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, 0, false
	}
	n := 19
	nsec := 0
	if n < len(b) && (b[n] == ',' || b[n] == '.') {
		n++
		scale := int(time.Second)
		start := n
		for n < len(b) && n-start < 9 && b[n] >= '0' && b[n] <= '9' {
			scale /= 10
			nsec += int(b[n]-'0') * scale
			n++
		}
		if n == start {
			return time.Time{}, 0, false
		}
	}
	zone := noZone
	if n < len(b) {
		switch b[n] {
		case 'Z':
			zone, n = 0, n+1
		case '+', '-':
			off, m, ok := parseOffset(b[n:])
			if !ok {
				return time.Time{}, 0, false
			}
			zone, n = off, n+m
		}
	}
	// Log lines arrive in time order, many to a minute: reuse the start
	// of the last minute seen. Zone transitions fall on whole minutes, so
	// a minute's offset is the same throughout.
	if string(b[:16]) != string(p.minuteKey[:]) || zone != p.minuteZone {
		loc := p.loc
		if zone != noZone {
			loc = time.FixedZone("", zone)
		}
		t := time.Date(year, time.Month(month), day, hour, minute, 0, 0, loc)
		if t.Day() != day { // 2021-02-30 is no date, not 2021-03-02
			return time.Time{}, 0, false
		}
		copy(p.minuteKey[:], b[:16])
		p.minuteZone = zone
		p.minute = t.UTC()
	}
	return p.minute.Add(time.Duration(sec)*time.Second + time.Duration(nsec)), n, true
}

// parseOffset reads "+hhmm", "+hh:mm" or "+hh".
func parseOffset(b []byte) (int, int, bool) {
	if len(b) < 3 {
		return 0, 0, false
	}
	hh, ok := digits(b[1:3])
	if !ok || hh > 23 {
		return 0, 0, false
	}
	n, mm := 3, 0
	if n < len(b) && b[n] == ':' {
		n++
	}
	if n+2 <= len(b) {
		if v, ok := digits(b[n : n+2]); ok && v < 60 {
			mm, n = v, n+2
		} else if b[n-1] == ':' {
			return 0, 0, false
		}
	} else if b[n-1] == ':' {
		return 0, 0, false
	}
	off := hh*3600 + mm*60
	if b[0] == '-' {
		off = -off
	}
	return off, n, true
}

func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

func indexByteFrom(b []byte, i int, c byte) int {
	if i > len(b) {
		return -1
	}
	if j := bytes.IndexByte(b[i:], c); j >= 0 {
		return i + j
	}
	return -1
}
