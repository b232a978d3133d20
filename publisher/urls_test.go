package publisher

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func ep(scheme, host string, port int) Endpoint {
	return Endpoint{Scheme: scheme, Host: host, Port: port}
}

func TestParseReceiverURLs(t *testing.T) {
	a, b, c := ep("tcp", "a", 9612), ep("tcp", "b", 9612), ep("tcp", "c", 9613)
	tests := []struct {
		in   string
		want []Group
	}{
		{"tcp://a:9612", []Group{{FailOver, []Endpoint{a}}}},
		{"  tcp://a:9612  ", []Group{{FailOver, []Endpoint{a}}}},
		{"tcp://a:9612/", []Group{{FailOver, []Endpoint{a}}}},
		{"TCP://a:9612", []Group{{FailOver, []Endpoint{a}}}},
		{"tcp://a:9612,tcp://b:9612", []Group{{LoadBalance, []Endpoint{a, b}}}},
		{"tcp://a:9612 | tcp://b:9612 |tcp://c:9613", []Group{{FailOver, []Endpoint{a, b, c}}}},
		{"{tcp://a:9612}", []Group{{FailOver, []Endpoint{a}}}},
		{"{tcp://a:9612,tcp://b:9612},{tcp://c:9613}", []Group{{LoadBalance, []Endpoint{a, b}}, {FailOver, []Endpoint{c}}}},
		{"{tcp://a:9612|tcp://b:9612}{tcp://c:9613}", []Group{{FailOver, []Endpoint{a, b}}, {FailOver, []Endpoint{c}}}},
		{" { tcp://a:9612/ , tcp://b:9612/ } ,\n{ tcp://c:9613 } ", []Group{{LoadBalance, []Endpoint{a, b}}, {FailOver, []Endpoint{c}}}},
		{"{tcp://a:9612,tcp://b:9612},{tcp://a:9612|tcp://c:9613}", []Group{{LoadBalance, []Endpoint{a, b}}, {FailOver, []Endpoint{a, c}}}},
		{"ssl://10.0.0.1:9712", []Group{{FailOver, []Endpoint{ep("ssl", "10.0.0.1", 9712)}}}},
		{"tcp://[::1]:9612", []Group{{FailOver, []Endpoint{ep("tcp", "::1", 9612)}}}},
		{"tcp://[::1]:9612/,tcp://[2001:db8::7]:9612", []Group{{LoadBalance, []Endpoint{ep("tcp", "::1", 9612), ep("tcp", "2001:db8::7", 9612)}}}},
		{"tcp://[fe80::1%eth0]:9612", []Group{{FailOver, []Endpoint{ep("tcp", "fe80::1%eth0", 9612)}}}},
		{"tcp://gw_1.example.com:1", []Group{{FailOver, []Endpoint{ep("tcp", "gw_1.example.com", 1)}}}},
		{"tcp://a:065535", []Group{{FailOver, []Endpoint{ep("tcp", "a", 65535)}}}},
		{"https://an.example:443/analytics/", []Group{{FailOver, []Endpoint{{Scheme: "https", Host: "an.example", Port: 443, Path: "/analytics"}}}}},
		{"http://h:9090//", []Group{{FailOver, []Endpoint{ep("http", "h", 9090)}}}},
	}
	for _, tt := range tests {
		got, err := ParseReceiverURLs(tt.in)
		if err != nil {
			t.Errorf("ParseReceiverURLs(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseReceiverURLs(%q) = %v, want %v", tt.in, got, tt.want)
		}
		again, err := ParseReceiverURLs(FormatGroups(got))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("FormatGroups(%q) = %q, which parses to %v, %v", tt.in, FormatGroups(got), again, err)
		}
	}
}

func TestParseReceiverURLsErrors(t *testing.T) {
	tests := []struct {
		in   string
		pos  int
		part string
		msg  string // a piece of the message
	}{
		{"tcp://a:1,tcp://b:1|tcp://c:1", 20, "|tcp://c:1", "mixes ',' (load-balance) and '|' (fail-over)"},
		{"{tcp://a:1}, {tcp://a:1|tcp://b:1,tcp://c:1}", 34, ",tcp://c:1}", "group 2 mixes"},
		{"tcp://a:1,,tcp://b:1", 11, "", "empty URL"},
		{"tcp://a:1,", 11, "", "empty URL"},
		{"{}", 2, "", "empty URL"},
		{"{tcp://a:1", 1, "{tcp://a:1", "not closed"},
		{"{tcp://a:1}}", 12, "}", "expected '{' to open group 2"},
		{"{tcp://a:1} tcp://b:1", 13, "tcp://b:1", "expected '{' to open group 2"},
		{"{tcp://a:1},", 12, ",", "comma after the last group"},
		{"{tcp://a:1,{tcp://b:1}}", 12, "{", "do not nest"},
		{"tcp://a:1,{tcp://b:1}", 11, "{", "does not start with '{'"},
		{"a:9612", 1, "a:9612", "no scheme"},
		{"udp://a:9612", 1, "udp://a:9612", `unknown scheme "udp"`},
		{"tcp://a", 1, "tcp://a", "no port"},
		{"tcp://:9612", 1, "tcp://:9612", "no host"},
		{"tcp://a:0", 1, "tcp://a:0", "not a number from 1 to 65535"},
		{"tcp://a:65536", 1, "tcp://a:65536", "not a number from 1 to 65535"},
		{"tcp://a:+1", 1, "tcp://a:+1", "not a number"},
		{"tcp://a:", 1, "tcp://a:", "not a number"},
		{"tcp://::1:9612", 1, "tcp://::1:9612", "IPv6 address goes in brackets: tcp://[::1]:9612"},
		{"tcp://[::1:9612", 1, "tcp://[::1:9612", "without ']'"},
		{"tcp://[::1]", 1, "tcp://[::1]", "no port after the IPv6 address"},
		{"tcp://[10.0.0.1]:1", 1, "tcp://[10.0.0.1]:1", "not an IPv6 address"},
		{"tcp://a b:1", 1, "tcp://a b:1", `" " in the host name`},
		{"tcp://a:1/x", 1, "tcp://a:1/x", "a tcp URL has no path"},
		{"  ", 0, "", "empty"},
	}
	for _, tt := range tests {
		_, err := ParseReceiverURLs(tt.in)
		if err == nil {
			t.Errorf("ParseReceiverURLs(%q) succeeded", tt.in)
			continue
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseReceiverURLs(%q): %v, want %q in it", tt.in, err, tt.msg)
		}
		var se *SyntaxError
		if tt.pos == 0 {
			continue
		}
		if !errors.As(err, &se) {
			t.Errorf("ParseReceiverURLs(%q): %v is not a *SyntaxError", tt.in, err)
			continue
		}
		if se.Pos != tt.pos || se.Part != tt.part || se.What != "receiver URLs" {
			t.Errorf("ParseReceiverURLs(%q): position %d, part %q (%s), want %d, %q", tt.in, se.Pos, se.Part, se.What, tt.pos, tt.part)
		}
	}
}

func TestAuthURLs(t *testing.T) {
	recv, err := ParseReceiverURLs("{tcp://a:9612,tcp://[::1]:9613},{tcp://c:9612}")
	if err != nil {
		t.Fatal(err)
	}
	derived, err := DeriveAuthURLs(recv)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := FormatGroups(derived), "{ssl://a:9712,ssl://[::1]:9713},{ssl://c:9712}"; got != want {
		t.Errorf("DeriveAuthURLs = %s, want %s", got, want)
	}
	high, _ := ParseReceiverURLs("tcp://a:65500")
	if _, err := DeriveAuthURLs(high); err == nil || !strings.Contains(err.Error(), "give the auth URLs") {
		t.Errorf("DeriveAuthURLs(port 65500): %v, want an out-of-range error", err)
	}

	explicit, err := ParseAuthURLs("{ssl://x:1,ssl://y:2},{tcp://z:3}", recv)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := FormatGroups(explicit), "{ssl://x:1,ssl://y:2},{tcp://z:3}"; got != want {
		t.Errorf("ParseAuthURLs = %s, want %s", got, want)
	}
	for in, msg := range map[string]string{
		"ssl://x:1,ssl://y:2":                    "1 groups for 2 receiver groups",
		"{ssl://x:1},{ssl://z:3}":                "group 1 has 1 URLs, receiver group 1 has 2",
		"{ssl://x:1|ssl://y:2},{ssl://z:3}":      "group 1 is failover, receiver group 1 is loadbalance",
		"{ssl://x:1,ssl://y:2},{ssl://z:3|ssl:}": `auth URLs: position 34: "ssl:": no scheme`,
	} {
		if _, err := ParseAuthURLs(in, recv); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseAuthURLs(%q): %v, want %q", in, err, msg)
		}
	}
}

func FuzzParseReceiverURLs(f *testing.F) {
	for _, s := range []string{
		"tcp://a:9612", "{tcp://a:1,tcp://b:2},{ssl://c:3|ssl://d:4}", "tcp://[::1]:9612/",
		"tcp://a:1,tcp://b:1|tcp://c:1", "https://h:443/base/", "{ tcp://a:1 } { tcp://b:2 }",
		"tcp://[fe80::1%eth0]:1", "{tcp://a:1},", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		groups, err := ParseReceiverURLs(s)
		if err != nil {
			return
		}
		if len(groups) == 0 {
			t.Fatalf("ParseReceiverURLs(%q) gave no group and no error", s)
		}
		out := FormatGroups(groups)
		again, err := ParseReceiverURLs(out)
		if err != nil {
			t.Fatalf("ParseReceiverURLs(%q) = %q, which does not parse: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, groups) {
			t.Fatalf("ParseReceiverURLs(%q) = %v, printed %q, parsed again %v", s, groups, out, again)
		}
	})
}
