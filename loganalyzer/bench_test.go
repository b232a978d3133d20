package loganalyzer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

// benchLines is a realistic gateway log: mostly authentication failures
// and INFO chatter in every layout, some deployments, logins and audit
// entries, and errors with stack traces; about twenty lines a second.
func benchLines(n int) [][]byte {
	const handler = "{org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler}"
	mix := []string{
		"TID: [-1234] [] [%s]  WARN " + handler + " - API authentication failure due to Invalid Credentials",
		"TID: [-1234] [] [%s]  WARN " + handler + " - API authentication failure due to Access Token Expired",
		"TID: [-1234] [] [%s] [3f1c2a7e-1d6b-4b3f-9a53-0d0c2b2e7f10]  WARN " + handler + " - API authentication failure due to Resource forbidden for appName=DefaultApplication for requestURI=/pizzashack/1.0.0/menu",
		"TID: [-1234] [] [%s]  WARN " + handler + " -  API authentication failure due to Missing Credentials " + handler,
		"[%s]  INFO {org.apache.synapse.mediators.builtin.LogMediator} |api:PizzaShackAPI| - To: /pizzashack/1.0.0/menu, MessageID: urn:uuid:5c1d6a3e, Direction: request",
		"[%s]  INFO {org.wso2.carbon.apimgt.gateway.throttling.ThrottleDataHolder} - Throttle data loaded for tenant carbon.super",
		"TID: [-1234] [] [%s]  INFO {org.apache.synapse.api.API} - Initializing API: PizzaShackAPI:v1.0.0",
		"[%s]  WARN - CarbonAuthenticationUtil Failed Administrator login attempt 'admin[-1234]' at [2020-05-12 10:15:30,123+0000]",
		"TID: [-1234] [] [%s]  INFO {AUDIT_LOG} - {\"performedBy\":\"admin\",\"action\":\"created\",\"typ\":\"API\",\"info\":\"{}\"}",
		"TID: [-1234] [] [%s] ERROR {org.apache.synapse.transport.passthru.TargetHandler} - I/O error: Connection reset by peer\n" +
			"java.io.IOException: Connection reset by peer\n" +
			"\tat sun.nio.ch.FileDispatcherImpl.read0(Native Method)\n" +
			"\tat sun.nio.ch.SocketDispatcher.read(SocketDispatcher.java:39)\n" +
			"\tat org.apache.http.impl.nio.reactor.SessionInputBufferImpl.fill(SessionInputBufferImpl.java:97)\n" +
			"Caused by: java.net.SocketException: Connection reset\n" +
			"\t... 12 more",
	}
	t := time.Date(2020, 5, 12, 10, 15, 30, 0, time.UTC)
	var lines [][]byte
	for i := 0; len(lines) < n; i++ {
		t = t.Add(47 * time.Millisecond)
		rec := fmt.Sprintf(mix[i%len(mix)], t.Format("2006-01-02 15:04:05,000"))
		for _, l := range strings.Split(rec, "\n") {
			lines = append(lines, []byte(l))
		}
	}
	return lines[:n]
}

// BenchmarkParseClassify parses and classifies a realistic mix of lines
// with the default rules, and reports the cost per line.
func BenchmarkParseClassify(b *testing.B) {
	lines := benchLines(10000)
	c, err := NewClassifier(DefaultRules())
	if err != nil {
		b.Fatal(err)
	}
	var records int
	emit := func(r apilens.LogRecord) {
		c.Classify(&r)
		records++
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		p := NewParser("gw1", time.UTC)
		for _, l := range lines {
			p.Feed(l, emit)
		}
		p.Flush(emit)
		n += len(lines)
	}
	elapsed := b.Elapsed()
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/line")
	b.ReportMetric(float64(n)/elapsed.Seconds(), "lines/s")
}
