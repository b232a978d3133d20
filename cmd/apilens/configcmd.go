package main

import (
	"context"
	"fmt"
)

func init() {
	register("config", "check the configuration: apilens config check [--config FILE] [--print]", runConfig)
}

func runConfig(ctx context.Context, env *cmdEnv, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(env.stderr, "Usage: apilens config check [--config FILE] [--data-dir DIR] [--http-addr ADDR] [--print]")
		return errUsage
	}
	fs := newFlagSet(env, "config check", "[--config FILE] [--print]")
	var sf serverFlags
	sf.add(fs)
	print := fs.Bool("print", false, "print the effective configuration, secrets masked")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := sf.load(env)
	if err != nil {
		return err
	}
	if *print {
		return cfg.WriteTOML(env.stdout)
	}
	fmt.Fprintln(env.stdout, "configuration OK")
	return nil
}
