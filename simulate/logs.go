package simulate

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/apilens/apilens"
)

// LogLayout is how a gateway writes its wso2carbon.log lines (REFERENCE §7).
type LogLayout int

// The carbon layouts.
const (
	// LayoutTID is the 3.x/4.x file layout, the default:
	// "TID: [-1234] [] [2026-11-23 10:15:30,123]  WARN {logger} - message".
	LayoutTID LogLayout = iota
	// LayoutTID2 is the 2.x file layout, which repeats the logger after
	// the message: "TID: [-1234] [] [date]  WARN {logger} -  message {logger}".
	LayoutTID2
	// LayoutConsole is the 3.x/4.x console layout: "[date]  WARN {logger} - message".
	LayoutConsole
	// LayoutConsoleShort is the older console layout with the logger's
	// last component only: "[date]  WARN - APIAuthenticationHandler message".
	LayoutConsoleShort
)

// ParseLogLayout reads a layout's name: tid (or 4x), tid2 (or 2x), console,
// console-short.
func ParseLogLayout(s string) (LogLayout, error) {
	switch s {
	case "", "tid", "4x":
		return LayoutTID, nil
	case "tid2", "2x":
		return LayoutTID2, nil
	case "console":
		return LayoutConsole, nil
	case "console-short":
		return LayoutConsoleShort, nil
	}
	return 0, fmt.Errorf("log layout %q is not one of tid, tid2, console, console-short", s)
}

// LogOptions describe the gateway logs of a simulated platform. Zero
// values mean the defaults.
type LogOptions struct {
	// Options are the platform's sizes, as for the traffic, so that the
	// logs name the same APIs; Seed selects the log's own random choices.
	Options
	// Layout is the line layout; default LayoutTID.
	Layout LogLayout
	// Zone is the zone the timestamps are written in (carbon writes the
	// server's local time without a zone); default UTC.
	Zone *time.Location
	// AmbientInterval is the mean time between two records of a gateway's
	// own activity (deployments, logins, errors, INFO chatter) that no
	// call causes; default 20 s.
	AmbientInterval time.Duration
}

// LogKey is how the default classification rules of package loganalyzer
// classify a record: the generator counts what it writes by it, so that a
// test can hold the classifier to it.
type LogKey struct {
	Category, Status, Code, API string
}

// LogGenerator writes the wso2carbon.log records of a simulated gateway:
// those its calls cause (an authentication failure, a message that could
// not be built) and those of its own activity. It counts what it writes
// by classification. It is not safe for concurrent use.
type LogGenerator struct {
	p      *platform
	r      *rand.Rand
	o      LogOptions
	apis   map[string]*apiVersion // by id
	tids   map[*tenant]int
	counts map[LogKey]int
	recs   int64
	lines  int64
}

// NewLogGenerator returns a LogGenerator for o.
func NewLogGenerator(o LogOptions) *LogGenerator {
	o.Options = o.Options.withDefaults()
	if o.Zone == nil {
		o.Zone = time.UTC
	}
	if o.AmbientInterval <= 0 {
		o.AmbientInterval = 20 * time.Second
	}
	p := newPlatform(o.Tenants, o.APIs, o.Applications)
	g := &LogGenerator{
		p:      p,
		r:      rand.New(rand.NewPCG(o.Seed^0x6c6f6773, 3)), // "logs"
		o:      o,
		apis:   make(map[string]*apiVersion, len(p.apis)),
		tids:   make(map[*tenant]int, len(p.tenants)),
		counts: map[LogKey]int{},
	}
	for _, a := range p.apis {
		g.apis[a.id] = a
	}
	for i, t := range p.tenants {
		g.tids[t] = i // tenant ids count from 1
	}
	g.tids[p.tenants[0]] = superTenantID
	return g
}

// superTenantID is carbon.super's tenant id, the TID of most lines.
const superTenantID = -1234

// Counts returns the number of records written so far by classification;
// unclassified records count under the zero LogKey. The map is the
// generator's own: copy it to keep it.
func (g *LogGenerator) Counts() map[LogKey]int { return g.counts }

// Records and Lines return the number of records and lines written so far.
func (g *LogGenerator) Records() int64 { return g.recs }

// Lines returns the number of lines written so far (a record with a stack
// trace has several).
func (g *LogGenerator) Lines() int64 { return g.lines }

// NextAmbient returns when the gateway next logs something of its own
// after t: the records of its own activity come as a Poisson process.
func (g *LogGenerator) NextAmbient(t time.Time) time.Time {
	return t.Add(time.Duration(g.r.ExpFloat64() * float64(g.o.AmbientInterval)))
}

// authHandler logs the gateway's authentication failures.
const authHandler = "org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler"

// authMessages are the gateway's authentication failure messages by code
// (REFERENCE §7).
var authMessages = map[int]string{
	900900: "Unclassified Authentication Failure",
	900901: "Invalid Credentials",
	900902: "Missing Credentials",
	900903: "Access Token Expired",
	900904: "Access Token Inactive",
	900905: "Incorrect Access Token Type is provided",
	900906: "No matching resource found in the API for the given request",
	900907: "The requested API is temporarily blocked",
	900908: "Resource forbidden",
	900909: "The subscription to the API is inactive",
	900910: "The access token does not allow you to access the requested resource",
	900911: "Internal Server Error",
}

// AppendEvent appends the records the gateway logs for the call e, if
// any, at the call's time: an authentication failure for an AUTH fault,
// a message-processing failure on the API's logger for a mediation
// error, now and then a warning for a backend that did not answer.
func (g *LogGenerator) AppendEvent(dst []byte, e *apilens.Event) []byte {
	if e.EventType != apilens.EventFault {
		return dst
	}
	api := g.apis[e.APIID]
	tid := superTenantID
	if api != nil {
		tid = g.tids[api.tenant]
	}
	ts := e.RequestTimestamp
	switch e.ErrorType {
	case apilens.FaultAuth:
		return g.authFailure(dst, ts, tid, e.ErrorCode, api)
	case apilens.FaultOther:
		if e.ErrorMessage == "MEDIATION_ERROR" && api != nil {
			return g.apiFailure(dst, ts, tid, api)
		}
	case apilens.FaultTargetConnectivity:
		if api != nil && g.r.Float64() < 0.3 {
			return g.backendWarning(dst, ts, tid, api, e.ErrorCode)
		}
	}
	return dst
}

func (g *LogGenerator) authFailure(dst []byte, ts time.Time, tid, code int, api *apiVersion) []byte {
	msg, ok := authMessages[code]
	if !ok {
		return dst
	}
	key := LogKey{Category: apilens.LogAccessToken, Status: msg, Code: strconv.Itoa(code)}
	text := "API authentication failure due to " + msg
	if code == 900908 && api != nil && g.r.Float64() < 0.6 {
		app := g.p.apps[g.p.appPick.pick(g.r)]
		res := api.resources[api.resPick.pick(g.r)]
		text += " for appName=" + app.name + " for requestURI=" + api.context + res.template
	}
	if code != 900900 {
		return g.record(dst, key, ts, tid, "WARN", authHandler, text, nil)
	}
	// The unclassified failure is the one the gateway logs as an error,
	// with the exception that caused it.
	cause := unclassifiedCauses[g.r.IntN(len(unclassifiedCauses))]
	trace := []string{
		"org.wso2.carbon.apimgt.gateway.handlers.security.APISecurityException: " + msg,
		"\tat org.wso2.carbon.apimgt.gateway.handlers.security.oauth.OAuthAuthenticator.authenticate(OAuthAuthenticator.java:294)",
		"\tat org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler.isAuthenticate(APIAuthenticationHandler.java:432)",
		"\tat org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler.handleRequest(APIAuthenticationHandler.java:359)",
		"\tat org.apache.synapse.rest.API.process(API.java:367)",
		"\tat org.apache.synapse.rest.RESTRequestHandler.apiProcess(RESTRequestHandler.java:135)",
		"\tat org.apache.synapse.rest.RESTRequestHandler.dispatchToAPI(RESTRequestHandler.java:113)",
		"\tat org.apache.synapse.core.axis2.Axis2SynapseEnvironment.injectMessage(Axis2SynapseEnvironment.java:332)",
		"\tat org.apache.synapse.transport.passthru.ServerWorker.processNonEntityEnclosingRESTHandler(ServerWorker.java:367)",
		"\tat org.apache.synapse.transport.passthru.ServerWorker.run(ServerWorker.java:172)",
		"\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1128)",
		"\tat java.base/java.lang.Thread.run(Thread.java:829)",
		"Caused by: " + cause,
		"\tat org.wso2.carbon.apimgt.keymgt.service.APIKeyValidationService.validateKey(APIKeyValidationService.java:188)",
		"\tat org.wso2.carbon.apimgt.gateway.handlers.security.keys.WSAPIKeyDataStore.getAPIKeyData(WSAPIKeyDataStore.java:62)",
		"\t... 11 more",
	}
	return g.record(dst, key, ts, tid, "ERROR", authHandler, text, trace)
}

var unclassifiedCauses = []string{
	"org.wso2.carbon.apimgt.keymgt.APIKeyMgtException: Error while validating the access token",
	"java.net.SocketTimeoutException: Read timed out",
	"org.wso2.carbon.apimgt.api.APIManagementException: Error while retrieving the key manager configuration",
}

// apiFailure is a message the API's mediation could not build or process,
// logged on the API's own logger.
func (g *LogGenerator) apiFailure(dst []byte, ts time.Time, tid int, api *apiVersion) []byte {
	name := synapseName(api)
	logger := "API_LOGGER." + name
	if g.r.Float64() < 0.7 {
		key := g.apiKey(logger, "Error while building message", name)
		trace := []string{
			"org.apache.axis2.AxisFault: Error while building Passthrough stream",
			"\tat org.apache.synapse.transport.passthru.util.RelayUtils.handleException(RelayUtils.java:468)",
			"\tat org.apache.synapse.transport.passthru.util.RelayUtils.buildMessage(RelayUtils.java:173)",
			"\tat org.apache.synapse.mediators.AbstractListMediator.buildMessage(AbstractListMediator.java:155)",
			"\tat org.apache.synapse.rest.API.process(API.java:367)",
			"Caused by: org.apache.axiom.om.OMException: com.ctc.wstx.exc.WstxUnexpectedCharException: Unexpected character '{' (code 123) in prolog; expected '<'",
			"\tat org.apache.axiom.om.impl.builder.StAXOMBuilder.next(StAXOMBuilder.java:296)",
			"\t... 22 more",
		}
		return g.record(dst, key, ts, tid, "ERROR", logger, "Error while building message. Error while building Passthrough stream", trace)
	}
	key := g.apiKey(logger, "Message processing error", name)
	msg := "Error occurred while processing the response: Unexpected character ('<' (code 60)): expected a valid value"
	return g.record(dst, key, ts, tid, "ERROR", logger, msg, nil)
}

// apiKey is the classification of an ERROR record on an API's logger:
// an API failure, except in the short console layout, whose logger
// ("0", the end of "…:v1.0.0") no longer names the API: there a message
// that could not be built is an API failure of no known API, and any
// other error an application error of that "class".
func (g *LogGenerator) apiKey(logger, status, api string) LogKey {
	if g.o.Layout == LayoutConsoleShort {
		if status == "Error while building message" {
			return LogKey{Category: apilens.LogAPIFailure, Status: status}
		}
		return LogKey{Category: apilens.LogAppError, Status: shortLogger(logger)}
	}
	return LogKey{Category: apilens.LogAPIFailure, Status: status, API: api}
}

func (g *LogGenerator) backendWarning(dst []byte, ts time.Time, tid int, api *apiVersion, code int) []byte {
	if code == 101504 || code == 101508 {
		msg := fmt.Sprintf("Expiring message ID : urn:uuid:%s; dropping message after GLOBAL_TIMEOUT of : 120 seconds for Endpoint [%s--%s_APIproductionEndpoint], URI : %s, Received through API : %s",
			g.uuid(), apiProvider(api), api.name, api.destination, synapseName(api))
		return g.record(dst, LogKey{}, ts, tid, "WARN", "org.apache.synapse.core.axis2.TimeoutHandler", msg, nil)
	}
	msg := fmt.Sprintf("Endpoint : %s--%s_APIproductionEndpoint with address %s will be marked SUSPENDED as it failed",
		apiProvider(api), api.name, api.destination)
	return g.record(dst, LogKey{}, ts, tid, "WARN", "org.apache.synapse.endpoints.EndpointContext", msg, nil)
}

// ambient is the mix of a gateway's own activity, by weight.
var ambient = []struct {
	weight float64
	write  func(g *LogGenerator, dst []byte, ts time.Time) []byte
}{
	{62, (*LogGenerator).info},
	{6, (*LogGenerator).warning},
	{4, (*LogGenerator).appError},
	{3, (*LogGenerator).failedLogin},
	{2.5, (*LogGenerator).deployment},
	{2, (*LogGenerator).audit},
	{0.15, func(g *LogGenerator, dst []byte, ts time.Time) []byte {
		return g.authFailure(dst, ts, superTenantID, 900906, nil)
	}},
	{0.08, func(g *LogGenerator, dst []byte, ts time.Time) []byte {
		return g.authFailure(dst, ts, superTenantID, 900911, nil)
	}},
}

// AppendAmbient appends one item of the gateway's own activity at ts: an
// INFO line most of the time; now and then a deployment, a failed login,
// an application error with its stack trace, an audit entry.
func (g *LogGenerator) AppendAmbient(dst []byte, ts time.Time) []byte {
	total := 0.0
	for _, a := range ambient {
		total += a.weight
	}
	x := g.r.Float64() * total
	for _, a := range ambient {
		if x < a.weight {
			return a.write(g, dst, ts)
		}
		x -= a.weight
	}
	return ambient[0].write(g, dst, ts)
}

func (g *LogGenerator) info(dst []byte, ts time.Time) []byte {
	api := g.p.apis[g.p.apiPick.pick(g.r)]
	tid := g.tids[api.tenant]
	var logger, msg string
	switch g.r.IntN(7) {
	case 0:
		res := api.resources[api.resPick.pick(g.r)]
		logger = "org.apache.synapse.mediators.builtin.LogMediator"
		msg = fmt.Sprintf("To: %s%s, MessageID: urn:uuid:%s, correlation_id: %s, Direction: request", api.context, res.template, g.uuid(), g.uuid())
	case 1:
		logger = "org.wso2.carbon.core.services.util.CarbonAuthenticationUtil"
		msg = fmt.Sprintf("'%s [%d]' logged in at [%s]", g.adminOf(api.tenant), tid, g.stamp(ts))
	case 2:
		logger = "org.wso2.carbon.identity.application.authentication.framework.store.SessionCleanUpService"
		msg = "Session Data cleanup task is running successfully for removing expired Data"
	case 3:
		logger = "org.wso2.carbon.databridge.core.DataBridge"
		msg = "user admin connected"
	case 4:
		logger = "org.wso2.carbon.apimgt.gateway.throttling.util.KeyTemplateRetriever"
		msg = "Starting web service based key template retriever"
	case 5:
		logger = "org.wso2.carbon.apimgt.impl.notifier.SubscriptionsNotifier"
		msg = fmt.Sprintf("Subscription created for API %s by application %s", synapseName(api), g.p.apps[g.p.appPick.pick(g.r)].name)
	default:
		logger = "org.apache.synapse.commons.throttle.core.ThrottleWindowReplicator"
		msg = "Throttle window replicator task completed; 0 windows replicated"
	}
	return g.record(dst, LogKey{}, ts, tid, "INFO", logger, msg, nil)
}

func (g *LogGenerator) warning(dst []byte, ts time.Time) []byte {
	var logger, msg string
	if g.r.IntN(2) == 0 {
		logger = "org.apache.synapse.transport.passthru.SourceHandler"
		msg = fmt.Sprintf("Connection time out after request is read: http-incoming-%d Socket Timeout : 180000 Correlation id : %s", g.r.IntN(9000)+100, g.uuid())
	} else {
		logger = "org.apache.synapse.core.axis2.SynapseCallbackReceiver"
		msg = fmt.Sprintf("Synapse received a response for the request with message Id : urn:uuid:%s and correlation_id : %s But a callback is not registered (anymore) to process this response", g.uuid(), g.uuid())
	}
	return g.record(dst, LogKey{}, ts, superTenantID, "WARN", logger, msg, nil)
}

// appErrors are the application errors a gateway logs now and then, with
// their stack traces: a handful of classes, a few messages each.
var appErrors = []struct {
	logger string
	msgs   []string
	trace  []string
}{
	{
		"org.apache.synapse.transport.passthru.TargetHandler",
		[]string{"I/O error: Connection reset by peer", "I/O error: Broken pipe"},
		[]string{
			"java.io.IOException: Connection reset by peer",
			"\tat java.base/sun.nio.ch.FileDispatcherImpl.read0(Native Method)",
			"\tat java.base/sun.nio.ch.SocketDispatcher.read(SocketDispatcher.java:39)",
			"\tat org.apache.http.impl.nio.reactor.SessionInputBufferImpl.fill(SessionInputBufferImpl.java:231)",
			"\tat org.apache.synapse.transport.passthru.TargetHandler.inputReady(TargetHandler.java:466)",
		},
	},
	{
		"org.wso2.carbon.databridge.agent.endpoint.DataEndpointConnectionWorker",
		[]string{"Error while trying to connect to the endpoint. Cannot borrow client for ssl://10.0.2.15:9711."},
		[]string{
			"org.wso2.carbon.databridge.agent.exception.DataEndpointAuthenticationException: Cannot borrow client for ssl://10.0.2.15:9711.",
			"\tat org.wso2.carbon.databridge.agent.endpoint.DataEndpointConnectionWorker.connect(DataEndpointConnectionWorker.java:99)",
			"\tat org.wso2.carbon.databridge.agent.endpoint.DataEndpointConnectionWorker.run(DataEndpointConnectionWorker.java:42)",
			"Caused by: org.apache.thrift.transport.TTransportException: Could not connect to 10.0.2.15 on port 9711",
			"\tat org.apache.thrift.transport.TSSLTransportFactory.createClient(TSSLTransportFactory.java:237)",
			"\t... 9 more",
		},
	},
	{
		"org.wso2.carbon.apimgt.gateway.handlers.throttling.ThrottleHandler",
		[]string{"Error while evaluating the throttle policy: could not read the throttle data"},
		[]string{
			"java.lang.NullPointerException",
			"\tat org.wso2.carbon.apimgt.gateway.handlers.throttling.ThrottleHandler.doRoleBasedAccessThrottlingWithCEP(ThrottleHandler.java:323)",
			"\tat org.wso2.carbon.apimgt.gateway.handlers.throttling.ThrottleHandler.doThrottle(ThrottleHandler.java:582)",
			"\tat org.wso2.carbon.apimgt.gateway.handlers.throttling.ThrottleHandler.handleRequest(ThrottleHandler.java:517)",
		},
	},
	{
		"org.wso2.carbon.apimgt.impl.utils.APIUtil",
		[]string{"Error while retrieving the tenant domain from the registry", "Error occurred while reading the gateway environments"},
		[]string{
			"org.wso2.carbon.registry.core.exceptions.RegistryException: Failed to get the resource at /_system/governance/apimgt/applicationdata/tenant-conf.json",
			"\tat org.wso2.carbon.registry.core.jdbc.dao.JDBCResourceDAO.getResourceID(JDBCResourceDAO.java:221)",
			"\tat org.wso2.carbon.apimgt.impl.utils.APIUtil.getTenantConfig(APIUtil.java:6023)",
			"Caused by: java.sql.SQLTransientConnectionException: WSO2AM_DB - Connection is not available, request timed out after 30000ms.",
			"\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
			"\t... 14 more",
		},
	},
	{
		"org.wso2.carbon.apimgt.gateway.listeners.GatewayJMSMessageListener",
		[]string{"Error occurred while processing the JMS message: Unrecognized token 'keep': was expecting 'null', 'true', 'false' or NaN"},
		[]string{
			"com.fasterxml.jackson.core.JsonParseException: Unrecognized token 'keep': was expecting 'null', 'true', 'false' or NaN",
			" at [Source: (String)\"keep-alive\"; line: 1, column: 5]",
			"\tat com.fasterxml.jackson.core.JsonParser._constructError(JsonParser.java:1851)",
			"\tat org.wso2.carbon.apimgt.gateway.listeners.GatewayJMSMessageListener.onMessage(GatewayJMSMessageListener.java:104)",
		},
	},
}

func (g *LogGenerator) appError(dst []byte, ts time.Time) []byte {
	a := appErrors[g.r.IntN(len(appErrors))]
	msg := a.msgs[g.r.IntN(len(a.msgs))]
	key := LogKey{Category: apilens.LogAppError, Status: shortLogger(a.logger)}
	return g.record(dst, key, ts, superTenantID, "ERROR", a.logger, msg, a.trace)
}

func (g *LogGenerator) failedLogin(dst []byte, ts time.Time) []byte {
	key := LogKey{Category: apilens.LogLogin, Status: "Login failed"}
	t := g.p.tenants[g.r.IntN(len(g.p.tenants))]
	tid := g.tids[t]
	switch u := g.r.Float64(); {
	case u < 0.55:
		msg := fmt.Sprintf("Failed Administrator login attempt '%s[%d]' at [%s]", g.adminOf(t), tid, g.stamp(ts))
		return g.record(dst, key, ts, tid, "WARN", "org.wso2.carbon.core.services.util.CarbonAuthenticationUtil", msg, nil)
	case u < 0.9:
		pe := &g.p.people[t.people[g.r.IntN(len(t.people))]]
		msg := fmt.Sprintf("Authentication failure for user %s from IP %s", pe.userName, pe.ips[0])
		return g.record(dst, key, ts, tid, "WARN", "org.wso2.carbon.identity.authenticator.BasicAuthenticator", msg, nil)
	default:
		key.Status = "Illegal access attempt"
		msg := fmt.Sprintf("Illegal access attempt at [%s] from IP address %s while trying to authenticate access to service RemoteUserStoreManagerService",
			g.stamp(ts), g.p.lbIPs[g.r.IntN(len(g.p.lbIPs))])
		return g.record(dst, key, ts, superTenantID, "WARN", "org.wso2.carbon.server.admin.module.handler.AuthenticationHandler", msg, nil)
	}
}

// deployment is an API published (Synapse initialises it), republished
// (destroyed, then initialised again) or retired (destroyed).
func (g *LogGenerator) deployment(dst []byte, ts time.Time) []byte {
	api := g.p.apis[g.r.IntN(len(g.p.apis))]
	tid := g.tids[api.tenant]
	name := synapseName(api)
	deployed := LogKey{Category: apilens.LogAPIDeployed, Status: "API deployed", API: name}
	deleted := LogKey{Category: apilens.LogAPIDeleted, Status: "API deleted", API: name}
	const tracker = "org.wso2.carbon.mediation.dependency.mgt.DependencyTracker"
	switch u := g.r.Float64(); {
	case u < 0.6:
		dst = g.record(dst, deployed, ts, tid, "INFO", "org.apache.synapse.rest.API", "Initializing API: "+name, nil)
		return g.record(dst, LogKey{}, ts.Add(3*time.Millisecond), tid, "INFO", tracker, "API : "+name+" was added to the Synapse configuration successfully", nil)
	case u < 0.85:
		dst = g.record(dst, deleted, ts, tid, "INFO", "org.apache.synapse.rest.API", "Destroying API: "+name, nil)
		dst = g.record(dst, deployed, ts.Add(5*time.Millisecond), tid, "INFO", "org.apache.synapse.rest.API", "Initializing API: "+name, nil)
		return g.record(dst, LogKey{}, ts.Add(8*time.Millisecond), tid, "INFO", tracker, "API : "+name+" was updated from the Synapse configuration successfully", nil)
	default:
		dst = g.record(dst, deleted, ts, tid, "INFO", "org.apache.synapse.rest.API", "Destroying API: "+name, nil)
		return g.record(dst, LogKey{}, ts.Add(2*time.Millisecond), tid, "INFO", tracker, "API : "+name+" was removed from the Synapse configuration successfully", nil)
	}
}

func (g *LogGenerator) audit(dst []byte, ts time.Time) []byte {
	api := g.p.apis[g.r.IntN(len(g.p.apis))]
	app := g.p.apps[g.r.IntN(len(g.p.apps))]
	var msg string
	switch g.r.IntN(3) {
	case 0:
		msg = fmt.Sprintf(`{"performedBy":%q,"action":"updated","typ":"API","info":"{\"provider\":\"%s\",\"name\":\"%s\",\"context\":\"%s\",\"version\":\"%s\"}"}`,
			api.creator, api.creator, api.name, api.context, api.version)
	case 1:
		msg = fmt.Sprintf(`{"performedBy":%q,"action":"created","typ":"Application","info":"{\"tier\":\"Unlimited\",\"name\":\"%s\",\"callbackURL\":null}"}`,
			app.owner, app.name)
	default:
		msg = fmt.Sprintf(`{"performedBy":%q,"action":"created","typ":"Subscription","info":"{\"application_name\":\"%s\",\"tier\":\"Gold\",\"provider\":\"%s\",\"api_name\":\"%s\"}"}`,
			app.owner, app.name, api.creator, api.name)
	}
	return g.record(dst, LogKey{Category: apilens.LogAudit, Status: "Audit entry"}, ts, g.tids[api.tenant], "INFO", "AUDIT_LOG", msg, nil)
}

// record appends one record in the generator's layout and counts it.
func (g *LogGenerator) record(dst []byte, key LogKey, ts time.Time, tid int, level, logger, msg string, trace []string) []byte {
	stamp := func(dst []byte) []byte {
		return ts.In(g.o.Zone).AppendFormat(dst, "2006-01-02 15:04:05,000")
	}
	lvl := fmt.Sprintf("%5s", level)
	switch g.o.Layout {
	case LayoutTID, LayoutTID2:
		dst = append(dst, "TID: ["...)
		dst = strconv.AppendInt(dst, int64(tid), 10)
		dst = append(dst, "] [] ["...)
		dst = stamp(dst)
		dst = append(dst, "] "...)
		dst = append(dst, lvl...)
		dst = append(dst, " {"...)
		dst = append(dst, logger...)
		dst = append(dst, "} - "...)
		if g.o.Layout == LayoutTID2 {
			dst = append(append(append(append(dst, ' '), msg...), " {"...), logger...)
			dst = append(dst, '}')
		} else {
			dst = append(dst, msg...)
		}
	case LayoutConsole:
		dst = stamp(append(dst, '['))
		dst = append(append(append(dst, "] "...), lvl...), " {"...)
		dst = append(append(append(dst, logger...), "} - "...), msg...)
	case LayoutConsoleShort:
		dst = stamp(append(dst, '['))
		dst = append(append(append(dst, "] "...), lvl...), " - "...)
		dst = append(append(append(dst, shortLogger(logger)...), ' '), msg...)
	}
	dst = append(dst, '\n')
	for _, l := range trace {
		dst = append(append(dst, l...), '\n')
	}
	g.counts[key]++
	g.recs++
	g.lines += int64(1 + len(trace))
	return dst
}

// stamp is a time as carbon writes it inside a message, with its offset.
func (g *LogGenerator) stamp(ts time.Time) string {
	return ts.In(g.o.Zone).Format("2006-01-02 15:04:05,000-0700")
}

func (g *LogGenerator) adminOf(t *tenant) string {
	if t.domain == "carbon.super" {
		return "admin"
	}
	return "admin@" + t.domain
}

func (g *LogGenerator) uuid() string {
	var b [36]byte
	formatUUID(&b, g.r.Uint64(), g.r.Uint64())
	return string(b[:])
}

// synapseName is an API's name as Synapse knows it and logs it:
// "admin--PizzaShackAPI:v1.0.0", the provider's "@" written "-AT-".
func synapseName(api *apiVersion) string {
	return apiProvider(api) + "--" + api.name + ":v" + api.version
}

func apiProvider(api *apiVersion) string {
	return strings.ReplaceAll(api.creator, "@", "-AT-")
}

// shortLogger is a logger's last component, as the short console layout
// writes it (log4j's %c{1}).
func shortLogger(logger string) string {
	return logger[strings.LastIndexByte(logger, '.')+1:]
}
