package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/web"
)

func init() {
	register("users", "manage local users: add, list, remove, passwd, token", runUsers)
}

const usersUsage = `Usage:
  apilens users add NAME [--role ROLE]... [--tenant T] [--password P]
  apilens users list
  apilens users remove NAME
  apilens users passwd NAME [--password P]
  apilens users token NAME [--name LABEL]     (prints a new bearer API token)
Common flags: --config FILE --data-dir DIR
Roles: admin, publisher, business_analytics:view, api_analytics:view,
       application_analytics:view, monitoring_dashboard:view`

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runUsers(ctx context.Context, env *cmdEnv, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.stderr, usersUsage)
		return errUsage
	}
	verb := args[0]
	fs := newFlagSet(env, "users "+verb, "")
	fs.Usage = func() { fmt.Fprintln(env.stderr, usersUsage) }
	var sf serverFlags
	sf.add(fs)
	var roles multiFlag
	fs.Var(&roles, "role", "role to grant (repeatable)")
	tenant := fs.String("tenant", "", "restrict the user to one tenant")
	password := fs.String("password", "", "password (default: generate and print one)")
	label := fs.String("name", "", "label of the token")
	// Accept the user name before or after the flags.
	rest := args[1:]
	var name string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if name == "" && verb != "list" {
		fmt.Fprintln(env.stderr, usersUsage)
		return errUsage
	}
	cfg, err := sf.load(env)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer db.Close()

	setPassword := func(u *apilens.User) error {
		p := *password
		generated := p == ""
		if generated {
			p = randomPassword()
		}
		h, err := web.HashPassword(p)
		if err != nil {
			return err
		}
		u.PasswordHash = h
		if generated {
			fmt.Fprintf(env.stdout, "password for %s: %s\n", u.Name, p)
		}
		return nil
	}
	switch verb {
	case "add":
		if _, err := db.User(ctx, name); err == nil {
			return fmt.Errorf("user %q already exists", name)
		}
		if err := apilens.CheckRoles(roles); err != nil {
			return errors.New(apilens.ErrorMessage(err))
		}
		u := &apilens.User{Name: name, Roles: roles, Tenant: *tenant, Created: time.Now().UTC()}
		if err := setPassword(u); err != nil {
			return err
		}
		if err := db.PutUser(ctx, u); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "added user %s (%s)\n", name, strings.Join(roles, ", "))
	case "list":
		users, err := db.Users(ctx)
		if err != nil {
			return err
		}
		sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLES\tTENANT\tCREATED")
		for _, u := range users {
			t := u.Tenant
			if t == "" {
				t = "(all)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, strings.Join(u.Roles, ","), t, u.Created.Format(time.RFC3339))
		}
		return tw.Flush()
	case "remove":
		if err := db.DeleteUser(ctx, name); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "removed user %s\n", name)
	case "passwd":
		u, err := db.User(ctx, name)
		if err != nil {
			return err
		}
		if err := setPassword(u); err != nil {
			return err
		}
		if err := db.PutUser(ctx, u); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "password of %s changed\n", name)
	case "token":
		if _, err := db.User(ctx, name); err != nil {
			return err
		}
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		secret := "al_" + hex.EncodeToString(b)
		t := &apilens.APIToken{Hash: web.HashToken(secret), User: name, Name: *label, Created: time.Now().UTC()}
		if err := db.PutToken(ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%s\n", secret)
	default:
		fmt.Fprintln(env.stderr, usersUsage)
		return errUsage
	}
	return nil
}
