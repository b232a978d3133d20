package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/apilens/apilens"
)

// Authenticator checks credentials against the user store. A bcrypt check
// costs tens of milliseconds by design, which a publisher posting hundreds
// of batches a second cannot pay each time: verified credentials are
// remembered (as a SHA-256 of user and password, never in clear) for a
// short TTL, so a changed password takes effect within it.
type Authenticator struct {
	users    apilens.UserStore
	sessions *sessions
	ttl      time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	user    *apilens.User
	expires time.Time
}

// NewAuthenticator returns an Authenticator over users.
func NewAuthenticator(users apilens.UserStore) *Authenticator {
	return &Authenticator{users: users, sessions: newSessions(time.Now), ttl: time.Minute, now: time.Now, cache: make(map[[32]byte]cached)}
}

// HashPassword returns the bcrypt hash stored for a password.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// HashToken returns the stored form of an API token's secret.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Authenticate returns the user of the request's credentials: HTTP Basic,
// a bearer API token or the dashboard's session cookie. It returns an
// EUNAUTHORIZED error when there are none or they are wrong.
func (a *Authenticator) Authenticate(r *http.Request) (*apilens.User, error) {
	if name, pass, ok := r.BasicAuth(); ok {
		return a.password(r.Context(), name, pass)
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return a.token(r.Context(), strings.TrimSpace(h[7:]))
	}
	u, _, err := a.fromCookie(r)
	if u != nil || err != nil {
		return u, err
	}
	return nil, apilens.Errorf(apilens.EUNAUTHORIZED, "credentials required: log in, or use HTTP Basic or a bearer API token")
}

func (a *Authenticator) lookup(k [32]byte) *apilens.User {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.cache[k]
	if !ok || a.now().After(c.expires) {
		return nil
	}
	return c.user
}

func (a *Authenticator) remember(k [32]byte, u *apilens.User) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) > 10000 {
		clear(a.cache)
	}
	a.cache[k] = cached{user: u, expires: a.now().Add(a.ttl)}
}

// Password checks a user name and password as HTTP Basic does (bcrypt, and
// the short cache of verified credentials): for receivers that log in
// outside HTTP, such as the data-bridge's. A wrong pair is EUNAUTHORIZED.
func (a *Authenticator) Password(ctx context.Context, name, pass string) (*apilens.User, error) {
	return a.password(ctx, name, pass)
}

// password checks a user name and password.
func (a *Authenticator) password(ctx context.Context, name, pass string) (*apilens.User, error) {
	k := sha256.Sum256([]byte("basic\x00" + name + "\x00" + pass))
	if u := a.lookup(k); u != nil {
		return u, nil
	}
	bad := apilens.Errorf(apilens.EUNAUTHORIZED, "wrong user name or password")
	u, err := a.users.User(ctx, name)
	if apilens.ErrorCode(err) == apilens.ENOTFOUND {
		// Spend the same time as a wrong password, so user names can't be probed.
		_ = bcrypt.CompareHashAndPassword([]byte("$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z3xQhDa5J1xk3hY6Zq7b7W2e"), []byte(pass))
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pass)) != nil {
		return nil, bad
	}
	a.remember(k, u)
	return u, nil
}

func (a *Authenticator) token(ctx context.Context, secret string) (*apilens.User, error) {
	k := sha256.Sum256([]byte("token\x00" + secret))
	if u := a.lookup(k); u != nil {
		return u, nil
	}
	bad := apilens.Errorf(apilens.EUNAUTHORIZED, "unknown API token")
	t, err := a.users.Token(ctx, HashToken(secret))
	if apilens.ErrorCode(err) == apilens.ENOTFOUND {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(HashToken(secret))) != 1 {
		return nil, bad
	}
	u, err := a.users.User(ctx, t.User)
	if err != nil {
		return nil, bad
	}
	a.remember(k, u)
	return u, nil
}

// canPublish reports whether u may post events and logs.
func canPublish(u *apilens.User) bool {
	return u.HasRole(apilens.RoleAdmin) || u.HasRole(apilens.RolePublisher)
}

// canViewTraffic reports whether u may read traffic analytics.
func canViewTraffic(u *apilens.User) bool {
	for _, r := range []string{apilens.RoleAdmin, apilens.ScopeBusinessAnalytics, apilens.ScopeAPIAnalytics,
		apilens.ScopeApplicationAnalytic, apilens.ScopeMonitoring} {
		if u.HasRole(r) {
			return true
		}
	}
	return false
}
