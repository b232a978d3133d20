package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/apilens/apilens"
)

// PutUser creates u or replaces the fields of the user with the same name.
// Replacing keeps the user's tokens, and its creation time when u.Created
// is zero; a new user with a zero Created is created now.
func (db *DB) PutUser(ctx context.Context, u *apilens.User) error {
	if u.Name == "" {
		return apilens.Errorf(apilens.EINVALID, "user has no name")
	}
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	rolesJSON, err := json.Marshal(roles)
	if err != nil {
		return fmt.Errorf("put user %q: %w", u.Name, err)
	}
	var created any // NULL: keep the stored time, or now for a new user
	if !u.Created.IsZero() {
		created = micros(u.Created)
	}
	_, err = db.sql.ExecContext(ctx, `INSERT INTO users (name, password_hash, roles, tenant, created)
		VALUES (?, ?, ?, ?, coalesce(?, ?))
		ON DUPLICATE KEY UPDATE password_hash = VALUES(password_hash), roles = VALUES(roles),
			tenant = VALUES(tenant), created = coalesce(?, created)`,
		u.Name, u.PasswordHash, string(rolesJSON), u.Tenant, created, micros(time.Now()), created)
	if err != nil {
		return fmt.Errorf("put user %q: %w", u.Name, err)
	}
	return nil
}

const userCols = `name, password_hash, roles, tenant, created`

func scanUser(sc interface{ Scan(...any) error }) (*apilens.User, error) {
	var u apilens.User
	var roles string
	var created int64
	if err := sc.Scan(&u.Name, &u.PasswordHash, &roles, &u.Tenant, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
		return nil, fmt.Errorf("roles of user %q: %w", u.Name, err)
	}
	if len(u.Roles) == 0 {
		u.Roles = nil
	}
	u.Created = fromMicros(created)
	return &u, nil
}

// User returns the named user, or an error with code ENOTFOUND.
func (db *DB) User(ctx context.Context, name string) (*apilens.User, error) {
	u, err := scanUser(db.sql.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apilens.Errorf(apilens.ENOTFOUND, "user %q not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("read user %q: %w", name, err)
	}
	return u, nil
}

// Users returns every user, ordered by name.
func (db *DB) Users(ctx context.Context) ([]*apilens.User, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	us, err := collect(rows, func(rows *sql.Rows) (*apilens.User, error) { return scanUser(rows) })
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	if len(us) == 0 {
		return nil, nil
	}
	return us, nil
}

// DeleteUser removes the named user and, by the foreign key's cascade, its
// tokens; ENOTFOUND if there is no such user.
func (db *DB) DeleteUser(ctx context.Context, name string) error {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete user %q: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete user %q: %w", name, err)
	}
	if n == 0 {
		return apilens.Errorf(apilens.ENOTFOUND, "user %q not found", name)
	}
	return nil
}

// noReferencedRow is MySQL's error number for a foreign key whose
// referenced row is missing (ER_NO_REFERENCED_ROW_2).
const noReferencedRow = 1452

// PutToken stores t, replacing a token with the same hash. Its user must
// exist: ENOTFOUND otherwise. A zero Created is stored as now.
func (db *DB) PutToken(ctx context.Context, t *apilens.APIToken) error {
	if t.Hash == "" {
		return apilens.Errorf(apilens.EINVALID, "token has no hash")
	}
	created := t.Created
	if created.IsZero() {
		created = time.Now()
	}
	_, err := db.sql.ExecContext(ctx, "INSERT INTO api_tokens (hash, `user`, name, created) VALUES (?, ?, ?, ?)"+
		" ON DUPLICATE KEY UPDATE `user` = VALUES(`user`), name = VALUES(name), created = VALUES(created)",
		t.Hash, t.User, t.Name, micros(created))
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == noReferencedRow {
		return apilens.Errorf(apilens.ENOTFOUND, "user %q not found", t.User)
	}
	if err != nil {
		return fmt.Errorf("put token %q of user %q: %w", t.Name, t.User, err)
	}
	return nil
}

// Token returns the token with the hash, or an error with code ENOTFOUND.
func (db *DB) Token(ctx context.Context, hash string) (*apilens.APIToken, error) {
	t := apilens.APIToken{Hash: hash}
	var created int64
	err := db.sql.QueryRowContext(ctx, "SELECT `user`, name, created FROM api_tokens WHERE hash = ?", hash).
		Scan(&t.User, &t.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		// The hash is a credential: keep it out of the message.
		return nil, apilens.Errorf(apilens.ENOTFOUND, "token not found")
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	t.Created = fromMicros(created)
	return &t, nil
}
