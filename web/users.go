package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/apilens/apilens"
)

// minPasswordLen is the shortest password the API accepts.
const minPasswordLen = 10

func isAdmin(u *apilens.User) bool { return u.HasRole(apilens.RoleAdmin) }

func (s *Server) registerUserRoutes() {
	s.authed("GET /api/v1/users", isAdmin, s.handleUsers)
	s.authed("POST /api/v1/users", isAdmin, s.handleAddUser)
	s.authed("DELETE /api/v1/users/{name}", isAdmin, s.handleDeleteUser)
}

// handleUsers is GET /api/v1/users.
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, _ *apilens.User) error {
	users, err := s.opts.Users.Users(r.Context())
	if err != nil {
		return err
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	out := make([]userBody, len(users))
	for i, u := range users {
		out[i] = newUserBody(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

// handleAddUser is POST /api/v1/users.
func (s *Server) handleAddUser(w http.ResponseWriter, r *http.Request, admin *apilens.User) error {
	var in struct {
		Name     string   `json:"name"`
		Password string   `json:"password"`
		Roles    []string `json:"roles"`
		Tenant   string   `json:"tenant"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		return apilens.Errorf(apilens.EINVALID, "the body must be a JSON object {\"name\", \"password\", \"roles\", \"tenant\"}: %v", err)
	}
	if in.Name == "" {
		return apilens.Errorf(apilens.EINVALID, "name is required")
	}
	if len(in.Password) < minPasswordLen {
		return apilens.Errorf(apilens.EINVALID, "password: at least %d characters", minPasswordLen)
	}
	if err := apilens.CheckRoles(in.Roles); err != nil {
		return err
	}
	if _, err := s.opts.Users.User(r.Context(), in.Name); err == nil {
		return apilens.Errorf(apilens.ECONFLICT, "user %q already exists", in.Name)
	} else if apilens.ErrorCode(err) != apilens.ENOTFOUND {
		return err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return err
	}
	u := &apilens.User{Name: in.Name, PasswordHash: hash, Roles: in.Roles, Tenant: in.Tenant, Created: time.Now().UTC()}
	if err := s.opts.Users.PutUser(r.Context(), u); err != nil {
		return err
	}
	s.audit(r, admin, "user added", "user", u.Name, "roles", u.Roles, "tenant", u.Tenant)
	writeJSON(w, http.StatusCreated, newUserBody(u))
	return nil
}

// handleDeleteUser is DELETE /api/v1/users/{name}.
func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request, admin *apilens.User) error {
	name := r.PathValue("name")
	if name == admin.Name {
		return apilens.Errorf(apilens.ECONFLICT, "you cannot remove yourself")
	}
	if err := s.opts.Users.DeleteUser(r.Context(), name); err != nil {
		return err
	}
	s.audit(r, admin, "user removed", "user", name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// audit logs an administrative action with who did it and from where.
func (s *Server) audit(r *http.Request, by *apilens.User, action string, args ...any) {
	s.log.LogAttrs(r.Context(), slog.LevelInfo, action, slog.Bool("audit", true), slog.String("by", by.Name),
		slog.String("addr", r.RemoteAddr), slog.Group("", args...))
}
