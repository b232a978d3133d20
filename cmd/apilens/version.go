package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set by the Makefile with -ldflags "-X main.version=…".
var version = "dev"

func init() {
	register("version", "print the version", func(ctx context.Context, env *cmdEnv, args []string) error {
		rev := ""
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					rev = " (" + s.Value[:12] + ")"
				}
			}
		}
		fmt.Fprintf(env.stdout, "apilens %s%s\n", version, rev)
		return nil
	})
}
