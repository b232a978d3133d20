package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/apilens/apilens"
)

// Cookie names of a dashboard session.
const (
	sessionCookie = "apilens_session"
	csrfCookie    = "apilens_csrf"
	csrfHeader    = "X-CSRF-Token"
)

// Session lifetimes: a session ends this long after login, or after this
// long unused.
const (
	sessionMaxAge = 12 * time.Hour
	sessionIdle   = 30 * time.Minute
)

// Login throttling: after loginFailures failed logins from one address
// within loginWindow, further attempts are refused until the window ends.
const (
	loginFailures = 10
	loginWindow   = 5 * time.Minute
)

// sessions are the dashboard's logins. They live in memory: a restart signs
// everyone out, which costs a login and spares a table of secrets.
type sessions struct {
	now func() time.Time

	mu       sync.Mutex
	byID     map[string]*session
	failures map[string][]time.Time // by client address
}

type session struct {
	user          string
	csrf          string
	created, used time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, byID: make(map[string]*session), failures: make(map[string][]time.Time)}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(user string) (id string, sess *session) {
	now := s.now()
	id = randomToken()
	sess = &session{user: user, csrf: randomToken(), created: now, used: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.byID[id] = sess
	return id, sess
}

// get returns the live session with the id and marks it used.
func (s *sessions) get(id string) *session {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byID[id]
	if sess == nil {
		return nil
	}
	if now.Sub(sess.created) > sessionMaxAge || now.Sub(sess.used) > sessionIdle {
		delete(s.byID, id)
		return nil
	}
	sess.used = now
	return sess
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// sweep drops expired sessions and old login failures; mu is held.
func (s *sessions) sweep(now time.Time) {
	for id, sess := range s.byID {
		if now.Sub(sess.created) > sessionMaxAge || now.Sub(sess.used) > sessionIdle {
			delete(s.byID, id)
		}
	}
	for addr, ts := range s.failures {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > loginWindow {
			delete(s.failures, addr)
		}
	}
}

// loginWait returns how long addr must wait before trying again, or 0.
func (s *sessions) loginWait(addr string) time.Duration {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := recent(s.failures[addr], now)
	if len(ts) == 0 {
		delete(s.failures, addr)
	} else {
		s.failures[addr] = ts
	}
	if len(ts) < loginFailures {
		return 0
	}
	return ts[0].Add(loginWindow).Sub(now)
}

func (s *sessions) loginFailed(addr string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[addr] = append(recent(s.failures[addr], now), now)
}

// recent keeps the times within the login window.
func recent(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > loginWindow {
		i++
	}
	return ts[i:]
}

// fromCookie returns the user of the request's session cookie, or nil when
// there is none. A state-changing request must carry the session's CSRF
// token in the X-CSRF-Token header: another site can make the browser
// send the cookie, but cannot read the token.
func (a *Authenticator) fromCookie(r *http.Request) (*apilens.User, *session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil, nil
	}
	sess := a.sessions.get(c.Value)
	if sess == nil {
		return nil, nil, apilens.Errorf(apilens.EUNAUTHORIZED, "the session has ended: log in again")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(csrfHeader)), []byte(sess.csrf)) != 1 {
			return nil, nil, apilens.Errorf(apilens.EFORBIDDEN, "missing or wrong %s header", csrfHeader)
		}
	}
	u, err := a.users.User(r.Context(), sess.user)
	if apilens.ErrorCode(err) == apilens.ENOTFOUND {
		return nil, nil, apilens.Errorf(apilens.EUNAUTHORIZED, "user %q no longer exists", sess.user)
	}
	return u, sess, err
}

// Personas are the dashboard's sections, in navigation order.
var Personas = []string{"business", "api", "application", "monitoring", "loganalyzer", "alerts", "reports", "settings"}

// personaRoles says which roles open each persona besides admin.
var personaRoles = map[string][]string{
	"business":    {apilens.ScopeBusinessAnalytics},
	"api":         {apilens.ScopeAPIAnalytics},
	"application": {apilens.ScopeApplicationAnalytic},
	"monitoring":  {apilens.ScopeMonitoring},
	"alerts":      {apilens.ScopeMonitoring},
}

// mayOpen reports whether u may open persona p.
func mayOpen(u *apilens.User, p string) bool {
	if u.HasRole(apilens.RoleAdmin) {
		return true
	}
	for _, r := range personaRoles[p] {
		if u.HasRole(r) {
			return true
		}
	}
	return false
}

func personasOf(u *apilens.User) []string {
	ps := []string{}
	for _, p := range Personas {
		if mayOpen(u, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// sessionBody is the answer of the session endpoints.
type sessionBody struct {
	User      userBody `json:"user"`
	Personas  []string `json:"personas"`
	CSRFToken string   `json:"csrfToken"`
}

// userBody is a user as the API shows it: never the password hash.
type userBody struct {
	Name    string     `json:"name"`
	Roles   []string   `json:"roles"`
	Tenant  string     `json:"tenant"`
	Created *time.Time `json:"created,omitempty"`
}

func newUserBody(u *apilens.User) userBody {
	b := userBody{Name: u.Name, Roles: u.Roles, Tenant: u.Tenant}
	if !u.Created.IsZero() {
		b.Created = &u.Created
	}
	if b.Roles == nil {
		b.Roles = []string{}
	}
	return b
}

func (s *Server) registerSessionRoutes() {
	s.handle("POST /api/v1/session", s.handleLogin)
	s.handle("GET /api/v1/session", func(w http.ResponseWriter, r *http.Request) error {
		u, sess, err := s.auth.fromCookie(r)
		if err != nil {
			return err
		}
		if u == nil {
			return apilens.Errorf(apilens.EUNAUTHORIZED, "not logged in")
		}
		writeJSON(w, http.StatusOK, sessionBody{User: newUserBody(u), Personas: personasOf(u), CSRFToken: sess.csrf})
		return nil
	})
	s.handle("DELETE /api/v1/session", func(w http.ResponseWriter, r *http.Request) error {
		_, _, err := s.auth.fromCookie(r)
		if err != nil && apilens.ErrorCode(err) != apilens.EUNAUTHORIZED {
			return err
		}
		if c, err := r.Cookie(sessionCookie); err == nil {
			s.auth.sessions.delete(c.Value)
		}
		s.setSessionCookies(w, r, "", "", -1)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleLogin is POST /api/v1/session.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	if wait := s.auth.sessions.loginWait(addr); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		writeJSON(w, http.StatusTooManyRequests, errorBody{
			Error: "too many failed logins from this address: wait " + wait.Round(time.Second).String() + " before trying again",
			Code:  apilens.EBUSY,
		})
		return nil
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		return apilens.Errorf(apilens.EINVALID, "the body must be a JSON object {\"username\", \"password\"}: %v", err)
	}
	if in.Username == "" || in.Password == "" {
		return apilens.Errorf(apilens.EINVALID, "username and password are required")
	}
	u, err := s.auth.password(r.Context(), in.Username, in.Password)
	if err != nil {
		if apilens.ErrorCode(err) == apilens.EUNAUTHORIZED {
			s.auth.sessions.loginFailed(addr)
			s.log.Warn("login failed", "user", in.Username, "addr", addr)
			// No WWW-Authenticate here: the browser must not pop up its own
			// Basic dialog over the login page.
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: apilens.ErrorMessage(err), Code: apilens.EUNAUTHORIZED})
			return nil
		}
		return err
	}
	id, sess := s.auth.sessions.create(u.Name)
	s.setSessionCookies(w, r, id, sess.csrf, int(sessionMaxAge.Seconds()))
	s.log.Info("login", "user", u.Name, "addr", addr)
	writeJSON(w, http.StatusOK, sessionBody{User: newUserBody(u), Personas: personasOf(u), CSRFToken: sess.csrf})
	return nil
}

// setSessionCookies sets (or, with maxAge < 0, clears) the session cookie
// and its readable CSRF twin.
func (s *Server) setSessionCookies(w http.ResponseWriter, r *http.Request, id, csrf string, maxAge int) {
	secure := r.TLS != nil
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", MaxAge: maxAge,
		Secure: secure, SameSite: http.SameSiteStrictMode})
}
