// Command apilens is the analytics server for API gateways: one binary whose
// subcommands run the server, the worker, the dashboard, the demo, the
// gateway simulator and the operator tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand. run gets the arguments after the subcommand's
// name; it returns errUsage for bad usage.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cmdEnv, args []string) error
}

// cmdEnv is what a subcommand may touch of the outside world, so tests can
// run subcommands in-process.
type cmdEnv struct {
	stdout  io.Writer
	stderr  io.Writer
	getenv  func(string) string
	environ func() []string
}

var commands = map[string]*command{}

// register adds a subcommand; each subcommand's file calls it from init.
func register(name, summary string, run func(ctx context.Context, env *cmdEnv, args []string) error) {
	commands[name] = &command{name: name, summary: summary, run: run}
}

// errUsage reports bad usage; the usage was already printed.
var errUsage = errors.New("usage")

// errHelp reports that -h was asked for and answered: nothing else runs.
var errHelp = errors.New("help")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &cmdEnv{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, environ: os.Environ}
	err := run(ctx, env, os.Args[1:])
	stop()
	if errors.Is(err, errHelp) {
		return
	}
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "apilens:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, env *cmdEnv, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.stderr)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "apilens: unknown command %q\n\n", args[0])
		usage(env.stderr)
		return errUsage
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: apilens <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'apilens <command> -h' for a command's flags.")
}

// newFlagSet returns a flag set for a subcommand that prints its errors and
// usage to env.stderr.
func newFlagSet(env *cmdEnv, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: apilens %s %s\n\nFlags:\n", name, usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs, mapping a parse error to errUsage and
// -h to errHelp, so that the caller returns without running.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	return nil
}
