package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apilens/apilens/simulate"
)

func init() {
	register("simulate", "publish realistic simulated gateway traffic to a receiver", runSimulate)
}

// simulateFlags are the settings of `apilens simulate`. With receiver
// URLs the events go through package publisher, as a gateway's data agent
// sends them; without, they are posted to url.
type simulateFlags struct {
	url, user, password, token string
	receiverURLs, authURLs     string
	transport, caFile          string
	insecure                   bool
	rate                       float64
	duration                   time.Duration
	count                      int64
	seed                       uint64
	apis, applications         int
	batch, concurrency         int
	gzip                       bool
	backfillFrom, backfillTo   string
	logs, logsOnly             bool
	logFile, logSources        string
	logLayout, logZone         string
}

func (f *simulateFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "http://127.0.0.1:9090", "receiver base URL; events go to URL/api/v1/events")
	// The environment fills these after parsing, so -h never prints a password.
	fs.StringVar(&f.user, "user", "", "publisher account for HTTP Basic auth (default $APILENS_ADMIN_USER)")
	fs.StringVar(&f.password, "password", "", "its password (default $APILENS_ADMIN_PASSWORD)")
	fs.StringVar(&f.token, "token", "", "bearer API token, instead of --user and --password")
	fs.StringVar(&f.receiverURLs, "receiver-urls", "", "publish as a gateway's data agent to these receivers instead of --url: `receiver_urls` as in deployment.toml, e.g. '{tcp://a:9612,tcp://b:9612},{tcp://c:9612|tcp://d:9612}'")
	fs.StringVar(&f.authURLs, "auth-urls", "", "auth URLs of the receivers, in the same groups (default ssl://host:port+100 of each)")
	fs.StringVar(&f.transport, "transport", "", "with --receiver-urls: binary, thrift or http (default binary; http for http:// URLs)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM certificates to trust for ssl:// and https:// receiver and auth URLs (default the system's)")
	fs.BoolVar(&f.insecure, "insecure", false, "do not verify the receivers' TLS certificates (the self-signed one of a quick setup)")
	fs.Float64Var(&f.rate, "rate", 200, "events per second, 0 for as fast as the receiver takes them (a backfill defaults to 0)")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0: no limit)")
	fs.Int64Var(&f.count, "count", 0, "stop after this many events (0: no limit)")
	fs.Uint64Var(&f.seed, "seed", 1, "traffic seed: the same seed gives the same events")
	fs.IntVar(&f.apis, "apis", 30, "number of APIs on the simulated platform")
	fs.IntVar(&f.applications, "applications", 200, "number of subscribed applications")
	fs.IntVar(&f.batch, "batch", 500, "events per request")
	fs.IntVar(&f.concurrency, "concurrency", 4, "requests in flight")
	fs.BoolVar(&f.gzip, "gzip", false, "gzip the request bodies")
	fs.StringVar(&f.backfillFrom, "backfill-from", "", "make history from this time: RFC 3339, YYYY-MM-DD, or a duration relative to now (-720h)")
	fs.StringVar(&f.backfillTo, "backfill-to", "", "… up to this time (default now)")
	fs.BoolVar(&f.logs, "logs", false, "also post the gateways' wso2carbon.log lines that go with the traffic to URL/api/v1/logs")
	fs.BoolVar(&f.logsOnly, "logs-only", false, "post only the log lines, not the events (implies --logs)")
	fs.StringVar(&f.logFile, "log-file", "", "append the log lines to this file (one gateway's wso2carbon.log, for `apilens ship`) instead of posting them (implies --logs)")
	fs.StringVar(&f.logSources, "log-sources", "gw-1,gw-2", "comma-separated gateway names: each call is logged by one of them, and each ships its own log")
	fs.StringVar(&f.logLayout, "log-layout", "tid", "log line layout: tid (3.x/4.x file), tid2 (2.x file), console, console-short")
	fs.StringVar(&f.logZone, "log-zone", "UTC", "time zone the log timestamps are written in (an IANA name, or Local)")
}

// logRun turns the log flags into the run's log settings; nil when the
// run makes no logs.
func (f *simulateFlags) logRun() (*simulate.LogRun, error) {
	if !f.logs && !f.logsOnly && f.logFile == "" {
		return nil, nil
	}
	layout, err := simulate.ParseLogLayout(f.logLayout)
	if err != nil {
		return nil, fmt.Errorf("--log-layout: %w", err)
	}
	zone, err := time.LoadLocation(f.logZone)
	if err != nil {
		return nil, fmt.Errorf("--log-zone: %w", err)
	}
	lr := &simulate.LogRun{LogOptions: simulate.LogOptions{Layout: layout, Zone: zone}}
	for _, s := range strings.Split(f.logSources, ",") {
		if s = strings.TrimSpace(s); s != "" {
			lr.Sources = append(lr.Sources, s)
		}
	}
	if len(lr.Sources) == 0 {
		return nil, errors.New("--log-sources names no gateway")
	}
	return lr, nil
}

// options turns the flags into run options; now anchors relative times.
func (f *simulateFlags) options(now time.Time, rateSet bool) (simulate.RunOptions, error) {
	o := simulate.RunOptions{
		Options:     simulate.Options{Seed: f.seed, APIs: f.apis, Applications: f.applications},
		URL:         f.url,
		User:        f.user,
		Password:    f.password,
		Token:       f.token,
		Rate:        f.rate,
		Duration:    f.duration,
		Count:       f.count,
		BatchSize:   f.batch,
		Concurrency: f.concurrency,
		Gzip:        f.gzip,
	}
	if f.receiverURLs != "" {
		o.ReceiverURLs, o.AuthURLs, o.Transport = f.receiverURLs, f.authURLs, f.transport
		var err error
		if o.TLSConfig, err = f.tlsConfig(); err != nil {
			return o, err
		}
	} else if f.authURLs != "" || f.transport != "" {
		return o, errors.New("--auth-urls and --transport go with --receiver-urls")
	}
	if f.rate < 0 || f.count < 0 || f.duration < 0 || f.apis < 0 || f.applications < 0 || f.batch < 0 || f.concurrency < 0 {
		return o, errors.New("--rate, --count, --duration, --apis, --applications, --batch and --concurrency cannot be negative")
	}
	if f.backfillFrom == "" {
		if f.backfillTo != "" {
			return o, errors.New("--backfill-to needs --backfill-from")
		}
		return o, nil
	}
	from, err := parseWhen(f.backfillFrom, now)
	if err != nil {
		return o, fmt.Errorf("--backfill-from: %w", err)
	}
	to := now
	if f.backfillTo != "" {
		if to, err = parseWhen(f.backfillTo, now); err != nil {
			return o, fmt.Errorf("--backfill-to: %w", err)
		}
	}
	if !from.Before(to) {
		return o, fmt.Errorf("backfill window %s … %s is empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	o.BackfillFrom, o.BackfillTo = from, to
	if !rateSet {
		o.Rate = 0
	}
	return o, nil
}

// tlsConfig is the client TLS configuration of the publisher: nil for the
// system's roots.
func (f *simulateFlags) tlsConfig() (*tls.Config, error) {
	if f.insecure {
		return &tls.Config{InsecureSkipVerify: true}, nil
	}
	if f.caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(f.caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file: no PEM certificate in %s", f.caFile)
	}
	return &tls.Config{RootCAs: pool}, nil
}

// parseWhen reads an instant: "now", RFC 3339, a date (UTC midnight), or
// a duration added to now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339, YYYY-MM-DD or a duration like -720h", s)
}

func runSimulate(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "simulate", "[--url URL | --receiver-urls URLS [--auth-urls URLS] [--transport binary|thrift|http]] [--rate N] [--duration D | --count N] [--backfill-from T [--backfill-to T]] [--logs | --logs-only] [--log-file PATH]")
	var f simulateFlags
	f.add(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "apilens simulate: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	if f.user == "" {
		f.user = env.getenv("APILENS_ADMIN_USER")
	}
	if f.password == "" {
		f.password = env.getenv("APILENS_ADMIN_PASSWORD")
	}
	rateSet := false
	fs.Visit(func(fl *flag.Flag) { rateSet = rateSet || fl.Name == "rate" })
	o, err := f.options(time.Now(), rateSet)
	if err != nil {
		return err
	}
	o.Progress = env.stderr
	if o.Logs, err = f.logRun(); err != nil {
		return err
	}
	o.NoEvents = f.logsOnly
	if f.logFile != "" {
		file, err := os.OpenFile(f.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open log file %q: %w", f.logFile, err)
		}
		defer file.Close()
		o.Logs.File = file
	}

	what := "live traffic"
	if !o.BackfillFrom.IsZero() {
		what = fmt.Sprintf("history from %s to %s", o.BackfillFrom.Format(time.RFC3339), o.BackfillTo.Format(time.RFC3339))
	}
	pace := "as fast as it takes them"
	if o.Rate > 0 {
		pace = fmt.Sprintf("at %g events/s", o.Rate)
	}
	to := "to " + strings.TrimRight(o.URL, "/") + "/api/v1/events"
	switch {
	case o.ReceiverURLs != "":
		to = "to receiver URLs " + o.ReceiverURLs
		if o.Transport != "" {
			to += " over " + o.Transport
		}
	case o.Logs == nil:
	case f.logFile != "" && f.logsOnly:
		to = "log lines to " + f.logFile
	case f.logFile != "":
		to += " and log lines to " + f.logFile
	case f.logsOnly:
		to = fmt.Sprintf("log lines of %s to %s", strings.Join(o.Logs.Sources, ", "), strings.TrimRight(o.URL, "/")+"/api/v1/logs")
	default:
		to += fmt.Sprintf(" and the log lines of %s to …/api/v1/logs", strings.Join(o.Logs.Sources, ", "))
	}
	fmt.Fprintf(env.stderr, "Simulating %d APIs and %d applications: %s, %s %s. Ctrl-C stops.\n",
		f.apis, f.applications, what, to, pace)
	if _, err := simulate.Run(ctx, o); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	return nil
}
