package apilens

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Flush is one durable step of the rollup consumer: everything it applies
// in one transaction. Because the spool position travels with the rollup
// deltas, a crash either keeps both or neither, and replay from the stored
// position counts every acknowledged event exactly once.
type Flush struct {
	// Stream names the spool the flush consumed ("events").
	Stream string
	// Offset is the spool position after the last record this flush covers.
	Offset int64
	// Rows are deltas: each is added to the stored row with the same
	// family, granularity, bucket and dimensions (or inserted).
	Rows []RollupRow
	// Raw are batches of raw events for drill-down and export.
	Raw []RawBatch
	// Keys are the idempotency keys of the batches the flush covers.
	Keys []IdempotencyKey
}

// RawBatch is a compressed batch of raw events (see package ingest for the
// encoding) covering requestTimestamps in [MinTime, MaxTime].
type RawBatch struct {
	ID      int64 // assigned by the store
	MinTime time.Time
	MaxTime time.Time
	Count   int
	Data    []byte
}

// IdempotencyKey remembers a publisher's batch so a retry counts once.
type IdempotencyKey struct {
	Key  string // publisher-scoped: "user\x1fkey" (a separator every database's text type takes)
	Seen time.Time
}

// RollupQuery selects stored rollup rows of one family and granularity with
// buckets in [From, To) (Unix seconds). Filter maps a dimension position to
// the value it must equal; Filter[0] is served by an index.
type RollupQuery struct {
	Family Family
	Gran   Granularity
	From   int64
	To     int64
	Filter map[int]string
}

// RollupStore keeps the rollups, raw events and idempotency keys.
type RollupStore interface {
	// ApplyFlush applies f atomically and records f.Offset for f.Stream.
	ApplyFlush(ctx context.Context, f *Flush) error
	// StreamOffset returns the position recorded by the last flush of
	// stream, or 0 if there was none.
	StreamOffset(ctx context.Context, stream string) (int64, error)
	// IdempotencyKeys returns the keys seen at or after since.
	IdempotencyKeys(ctx context.Context, since time.Time) ([]IdempotencyKey, error)
	// QueryRollups calls fn for each row q selects, in no particular order.
	// The row is reused between calls.
	QueryRollups(ctx context.Context, q RollupQuery, fn func(*RollupRow) error) error
	// RawBatches calls fn for each raw batch that overlaps [from, to).
	RawBatches(ctx context.Context, from, to time.Time, fn func(*RawBatch) error) error
	// Purge deletes rollup rows of each granularity older than its
	// retention, raw batches whose MaxTime is before rawBefore, and
	// idempotency keys seen before keysBefore. It returns rows deleted.
	Purge(ctx context.Context, now time.Time, r Retention, rawBefore, keysBefore time.Time) (int64, error)
}

// Role names. Scope roles follow REFERENCE §9.
const (
	RoleAdmin                = "admin"
	RolePublisher            = "publisher" // may publish events and logs only
	ScopeBusinessAnalytics   = "business_analytics:view"
	ScopeAPIAnalytics        = "api_analytics:view"
	ScopeApplicationAnalytic = "application_analytics:view"
	ScopeMonitoring          = "monitoring_dashboard:view"
)

// Roles lists every role a user can hold.
var Roles = []string{RoleAdmin, RolePublisher, ScopeBusinessAnalytics, ScopeAPIAnalytics,
	ScopeApplicationAnalytic, ScopeMonitoring}

// CheckRoles returns an EINVALID error naming the first unknown role, or
// when there is none at all.
func CheckRoles(roles []string) error {
	if len(roles) == 0 {
		return Errorf(EINVALID, "give at least one role (%s)", strings.Join(Roles, ", "))
	}
	for _, r := range roles {
		if !slices.Contains(Roles, r) {
			return Errorf(EINVALID, "unknown role %q (want %s)", r, strings.Join(Roles, ", "))
		}
	}
	return nil
}

// User is a local account: a dashboard user, a publisher, or both.
type User struct {
	Name         string
	PasswordHash string // bcrypt
	Roles        []string
	Tenant       string // "" for all tenants (admin)
	Created      time.Time
}

// HasRole reports whether u has role r.
func (u *User) HasRole(r string) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// APIToken is a bearer token for scripts and publishers. Only a hash of
// the secret is stored.
type APIToken struct {
	Hash    string // hex SHA-256 of the secret
	User    string
	Name    string
	Created time.Time
}

// UserStore keeps local users and API tokens.
type UserStore interface {
	// PutUser creates u or replaces the user with the same name.
	PutUser(ctx context.Context, u *User) error
	// User returns the named user, or an error with code ENOTFOUND.
	User(ctx context.Context, name string) (*User, error)
	Users(ctx context.Context) ([]*User, error)
	// DeleteUser removes the user and its tokens; ENOTFOUND if none.
	DeleteUser(ctx context.Context, name string) error
	PutToken(ctx context.Context, t *APIToken) error
	// Token returns the token with the hash, or ENOTFOUND.
	Token(ctx context.Context, hash string) (*APIToken, error)
}

// Store is everything a backend provides.
type Store interface {
	RollupStore
	UserStore
	LogStore
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}
