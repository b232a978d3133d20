package apilens

import (
	"context"
	"time"
)

// LogRecord is one gateway log record: a line that starts a record and the
// continuation lines (stack traces, "Caused by:") that follow it.
type LogRecord struct {
	ID     int64  // assigned by the store
	Source string // the shipping host or file, as the publisher names it
	// Seq numbers a source's records in arrival order (assigned by the
	// store): the log viewer's context window is a range of it.
	Seq    int64
	Time   time.Time
	Level  string // TRACE, DEBUG, INFO, WARN, ERROR or FATAL; "" when unparsed
	Logger string // the logger as the line gives it, full class or short name
	Tenant string // the TID of a TID-prefixed line, else ""
	// Message is the first line's message, without the layout's prefix.
	Message string
	// Content is the record's text as received, continuation lines
	// included.
	Content string
	// Parsed is false for a line no layout matched: kept as it came and
	// counted, never dropped.
	Parsed bool

	// The classification, set as the record arrives by the first matching
	// rule; all empty when no rule matched.
	Category string // one of the Log* categories
	Status   string // e.g. "Invalid Credentials" for an access-token error
	Code     string // e.g. "900901"
	API      string // the API a deployment or failure record names
}

// Log categories, as the default classification rules assign them and the
// log analyzer's pages read them.
const (
	LogAccessToken = "access_token" // gateway authentication failures (Status, Code)
	LogLogin       = "login"        // failed logins to the portals
	LogAppError    = "app_error"    // ERROR records not classified otherwise
	LogAPIDeployed = "api_deployed"
	LogAPIDeleted  = "api_deleted"
	LogAPIFailure  = "api_failure" // message-processing failures, API set
	LogAudit       = "audit"
)

// MaxLogContentLen bounds a record's Content; a longer record (a runaway
// stack trace) is cut there and ends with a note that says so.
const MaxLogContentLen = 64 << 10

// LogQuery selects log records. Empty fields match everything.
type LogQuery struct {
	From, To time.Time
	Category string
	Status   string
	Source   string
	API      string
	// Desc orders by time, newest first; otherwise oldest first. Ties
	// break by ID the same way.
	Desc bool
	// After continues a listing after this cursor (an opaque string from
	// LogPage.Next).
	After string
	Limit int
}

// LogPage is a page of records and the cursor of the next, "" at the end.
type LogPage struct {
	Records []LogRecord
	Next    string
}

// LogCount is the number of records of one classification, parsed or
// not (an unparsed line is kept raw, and unclassified unless a rule
// matches its text).
type LogCount struct {
	Category string
	Status   string
	Code     string
	API      string
	Parsed   bool
	Count    int64
}

// LogPoint is the number of records of one category in one time step.
type LogPoint struct {
	Time     time.Time
	Category string
	Count    int64
}

// LogStore keeps log records.
type LogStore interface {
	// AppendLogs stores records durably, assigning each its ID and its
	// source's next Seq. A non-empty key is remembered with them, as the
	// idempotency keys of events are: a batch whose key was stored before
	// is not stored again, and AppendLogs reports it as a duplicate.
	AppendLogs(ctx context.Context, key string, recs []LogRecord) (duplicate bool, err error)
	// CountLogs counts the records of q's range by classification
	// (Category, Status, Code, API) and Parsed; q's filters narrow it.
	CountLogs(ctx context.Context, q LogQuery) ([]LogCount, error)
	// Logs lists records in time order, a page at a time.
	Logs(ctx context.Context, q LogQuery) (*LogPage, error)
	// LogContext returns the record with the id and up to before and after
	// records of the same source around it, in Seq order; ENOTFOUND when
	// there is no such record.
	LogContext(ctx context.Context, id int64, before, after int) (rec *LogRecord, prev, next []LogRecord, err error)
	// LogTimeline counts q's records per category in steps of step,
	// aligned to the Unix epoch, in time order; empty steps are left out.
	LogTimeline(ctx context.Context, q LogQuery, step time.Duration) ([]LogPoint, error)
	// PurgeLogs deletes records older than before.
	PurgeLogs(ctx context.Context, before time.Time) (int64, error)
}
