package loganalyzer

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/apilens/apilens"
)

// jsonParsers are reused across calls: a fastjson.Parser keeps its
// buffers, which makes a log event decode allocation-light.
var jsonParsers fastjson.ParserPool

// ParseJSON decodes one NDJSON log event:
//
//	{"timestamp": "2020-05-12T10:15:30.123Z" or 1589278530123,
//	 "level": "WARN", "logger": "…", "message": "…",
//	 "source": "gw1", "tenant": "-1234", "content": "…"}
//
// timestamp is RFC 3339 (a zone is required: an event names its instant)
// or epoch milliseconds; message is required unless content is given;
// content, the record's full text, defaults to message; the rest may be
// missing or null (the caller supplies the source an event does not
// name), and unknown fields are ignored. level is read case
// insensitively ("warning" is WARN). Errors name the field. The record
// is Parsed, with its text capped and made valid UTF-8 as the carbon
// parser does.
func ParseJSON(line []byte) (apilens.LogRecord, error) {
	jp := jsonParsers.Get()
	defer jsonParsers.Put(jp)
	v, err := jp.ParseBytes(line)
	if err != nil {
		return apilens.LogRecord{}, fmt.Errorf("invalid JSON: %v", err)
	}
	obj, err := v.Object()
	if err != nil {
		return apilens.LogRecord{}, errors.New("not a JSON object")
	}
	r := apilens.LogRecord{Parsed: true}
	var sawTime, sawMessage, sawContent bool
	var ferr error
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if ferr != nil || v.Type() == fastjson.TypeNull {
			return
		}
		switch string(k) {
		case "timestamp":
			sawTime = true
			r.Time, ferr = jsonTime(v)
		case "level":
			var s string
			if s, ferr = jsonString(v); ferr == nil {
				r.Level, ferr = jsonLevel(s)
			}
		case "logger":
			r.Logger, ferr = jsonString(v)
		case "message":
			sawMessage = true
			r.Message, ferr = jsonString(v)
		case "source":
			r.Source, ferr = jsonString(v)
		case "tenant":
			r.Tenant, ferr = jsonString(v)
		case "content":
			sawContent = true
			r.Content, ferr = jsonString(v)
		}
		if ferr != nil {
			ferr = fmt.Errorf("field %q: %w", k, ferr)
		}
	})
	switch {
	case ferr != nil:
		return apilens.LogRecord{}, ferr
	case !sawTime:
		return apilens.LogRecord{}, errors.New(`field "timestamp" is missing`)
	case !sawMessage && !sawContent:
		return apilens.LogRecord{}, errors.New(`field "message" is missing`)
	}
	if !sawContent {
		r.Content = r.Message
	}
	r.Content = capText(r.Content)
	r.Message = capText(r.Message)
	return r, nil
}

// capText cuts valid UTF-8 text as the carbon parser cuts a record: at
// most apilens.MaxLogContentLen bytes, ending with the cut note when
// longer.
func capText(s string) string {
	if len(s) <= apilens.MaxLogContentLen {
		return s
	}
	b := []byte(s[:apilens.MaxLogContentLen])
	c, _ := cutContent(b, len(s)-len(b))
	return c
}

// jsonString reads a string, invalid UTF-8 replaced as the carbon parser
// does.
func jsonString(v *fastjson.Value) (string, error) {
	b, err := v.StringBytes()
	if err != nil {
		return "", fmt.Errorf("JSON %s where a string expected", v.Type())
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	}
	return string(b), nil
}

// jsonLevel maps a level name to the parser's spelling.
func jsonLevel(s string) (string, error) {
	if strings.EqualFold(s, "WARNING") {
		return "WARN", nil
	}
	for _, l := range levels {
		if strings.EqualFold(s, l) {
			return l, nil
		}
	}
	if s == "" {
		return "", nil
	}
	return "", fmt.Errorf("unknown level %q (want TRACE, DEBUG, INFO, WARN, ERROR or FATAL)", truncateForError(s))
}

// jsonTime reads an RFC 3339 string or a number of epoch milliseconds.
func jsonTime(v *fastjson.Value) (time.Time, error) {
	switch v.Type() {
	case fastjson.TypeNumber:
		ms, err := v.Int64()
		if err != nil {
			return time.Time{}, fmt.Errorf("%s is not a whole number of epoch milliseconds", v)
		}
		return time.UnixMilli(ms).UTC(), nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		t, err := time.Parse(time.RFC3339Nano, string(b))
		if err != nil {
			return time.Time{}, fmt.Errorf("cannot parse %q as RFC 3339", truncateForError(string(b)))
		}
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("JSON %s where an RFC 3339 string or epoch milliseconds expected", v.Type())
}

// truncateForError keeps an error message short whatever the input.
func truncateForError(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}
