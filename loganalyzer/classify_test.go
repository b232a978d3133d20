package loganalyzer

import (
	"strings"
	"testing"

	"github.com/apilens/apilens"
)

// TestDefaultRules classifies a real line for every default rule; a rule
// without a case fails the test, so a new rule comes with its line.
func TestDefaultRules(t *testing.T) {
	const handler = "TID: [-1234] [] [2020-05-12 10:15:30,123]  WARN {org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler} - "
	type want struct{ category, status, code, api string }
	tests := map[string]struct {
		line string
		want want
	}{
		"access-token-900900": {
			"TID: [-1234] [] [2020-05-12 10:15:30,123] ERROR {org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler} - API authentication failure due to Unclassified Authentication Failure\n" +
				"org.wso2.carbon.apimgt.gateway.handlers.security.APISecurityException: Unclassified Authentication Failure\n" +
				"\tat org.wso2.carbon.apimgt.gateway.handlers.security.oauth.OAuthAuthenticator.authenticate(OAuthAuthenticator.java:212)",
			want{apilens.LogAccessToken, "Unclassified Authentication Failure", "900900", ""}},
		"access-token-900901": {
			// The 2.x line that 2.x counted twice (INVALID_KEY and REVOKED_KEY).
			"TID: [-1234] [] [2018-10-05 11:04:48,398]  WARN {org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler} -  API authentication failure due to Invalid Credentials {org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler}",
			want{apilens.LogAccessToken, "Invalid Credentials", "900901", ""}},
		"access-token-900902": {handler + "API authentication failure due to Missing Credentials",
			want{apilens.LogAccessToken, "Missing Credentials", "900902", ""}},
		"access-token-900903": {handler + "API authentication failure due to Access Token Expired",
			want{apilens.LogAccessToken, "Access Token Expired", "900903", ""}},
		"access-token-900904": {"[2016-03-01 09:00:05,500]  WARN - APIAuthenticationHandler API authentication failure due to Access Token Inactive",
			want{apilens.LogAccessToken, "Access Token Inactive", "900904", ""}},
		"access-token-900905": {handler + "API authentication failure due to Incorrect Access Token Type is provided",
			want{apilens.LogAccessToken, "Incorrect Access Token Type is provided", "900905", ""}},
		"access-token-900906": {handler + "API authentication failure due to No matching resource found in the API for the given request",
			want{apilens.LogAccessToken, "No matching resource found in the API for the given request", "900906", ""}},
		"access-token-900907": {"[2020-05-12 10:15:30,123]  WARN {org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler} - API authentication failure due to The requested API is temporarily blocked",
			want{apilens.LogAccessToken, "The requested API is temporarily blocked", "900907", ""}},
		"access-token-900908": {handler + "API authentication failure due to Resource forbidden for appName=DefaultApplication for requestURI=/pizzashack/1.0.0/menu",
			want{apilens.LogAccessToken, "Resource forbidden", "900908", ""}},
		"access-token-900909": {handler + "API authentication failure due to The subscription to the API is inactive",
			want{apilens.LogAccessToken, "The subscription to the API is inactive", "900909", ""}},
		"access-token-900910": {handler + "API authentication failure due to The access token does not allow you to access the requested resource",
			want{apilens.LogAccessToken, "The access token does not allow you to access the requested resource", "900910", ""}},
		"access-token-900911": {handler + "API authentication failure due to Internal Server Error",
			want{apilens.LogAccessToken, "Internal Server Error", "900911", ""}},
		"login-failed-admin": {"TID: [-1234] [] [2020-05-12 10:15:30,123]  WARN {org.wso2.carbon.core.services.util.CarbonAuthenticationUtil} - Failed Administrator login attempt 'admin[-1234]' at [2020-05-12 10:15:30,123+0000]",
			want{apilens.LogLogin, "Login failed", "", ""}},
		"login-auth-failure": {"[2020-05-12 10:15:30,123]  WARN {org.wso2.carbon.identity.authenticator.BasicAuthenticator} - Authentication failure for user admin",
			want{apilens.LogLogin, "Login failed", "", ""}},
		"login-illegal-access": {"[2016-03-01 09:00:06,250]  WARN - AuthenticationHandler Illegal access attempt at [2016-03-01 09:00:06,0250] from IP address 10.0.0.7 while trying to authenticate access to service RemoteUserStoreManagerService",
			want{apilens.LogLogin, "Illegal access attempt", "", ""}},
		"api-deployed": {"TID: [-1234] [] [2018-10-05 11:04:42,116]  INFO {org.apache.synapse.rest.API} -  Initializing API: admin--PizzaShackAPI:v1.0.0 {org.apache.synapse.rest.API}",
			want{apilens.LogAPIDeployed, "API deployed", "", "admin--PizzaShackAPI:v1.0.0"}},
		"api-deleted": {"TID: [-1234] [] [2020-05-12 10:15:30,123]  INFO {org.apache.synapse.api.API} - {api:PizzaShackAPI:v1.0.0} Destroying API: PizzaShackAPI:v1.0.0",
			want{apilens.LogAPIDeleted, "API deleted", "", "PizzaShackAPI:v1.0.0"}},
		"api-build-message": {"TID: [-1234] [] [2018-10-05 11:06:10,045] ERROR {API_LOGGER.admin--PizzaShackAPI:v1.0.0} -  Error while building message {API_LOGGER.admin--PizzaShackAPI:v1.0.0}\n" +
			"org.apache.axis2.AxisFault: Error while building message",
			want{apilens.LogAPIFailure, "Error while building message", "", "admin--PizzaShackAPI:v1.0.0"}},
		"api-passthrough-stream": {"[2020-05-12 10:15:37,010] ERROR {org.apache.synapse.transport.passthru.util.RelayUtils} - Error while building Passthrough stream",
			want{apilens.LogAPIFailure, "Error while building Passthrough stream", "", ""}},
		"api-error": {"[2020-05-12 10:15:37,010] ERROR {API_LOGGER.PizzaShackAPI} - Error while sending the request to the backend",
			want{apilens.LogAPIFailure, "Message processing error", "", "PizzaShackAPI"}},
		"audit": {`TID: [-1234] [] [2020-05-12 10:15:30,123]  INFO {AUDIT_LOG} - {"performedBy":"admin","action":"created","typ":"API","info":"{\"name\":\"PizzaShackAPI\"}"}`,
			want{apilens.LogAudit, "Audit entry", "", ""}},
		"app-error": {"TID: [-1234] [] [2020-05-12 10:15:33,900] ERROR {org.wso2.carbon.apimgt.impl.APIManagerConfiguration} - Error while reading the API Manager configuration\n" +
			"java.io.FileNotFoundException: api-manager.xml",
			want{apilens.LogAppError, "APIManagerConfiguration", "", ""}},
		"app-fatal": {"[2020-05-12 10:15:38,000] FATAL - CarbonServerManager Cannot start server",
			want{apilens.LogAppError, "CarbonServerManager", "", ""}},
	}
	c, err := NewClassifier(DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range DefaultRules() {
		if _, ok := tests[r.Name]; !ok {
			t.Errorf("default rule %q has no test line", r.Name)
		}
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			recs := parseAll(t, tt.line, nil)
			if len(recs) != 1 || !recs[0].Parsed {
				t.Fatalf("the line does not parse as one record: %+v", recs)
			}
			r := recs[0]
			c.Classify(&r)
			if got := (want{r.Category, r.Status, r.Code, r.API}); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestClassifyUnmatched(t *testing.T) {
	c, err := NewClassifier(DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"[2020-05-12 10:15:35,250]  INFO {org.apache.synapse.mediators.builtin.LogMediator} - To: /menu",
		// The unclassified failure is an access-token status only at ERROR.
		"[2020-05-12 10:15:35,250]  WARN {a.B} - API authentication failure due to Unclassified Authentication Failure",
		// Unparsed records have no level: never an application error.
		"ERROR at the start of a garbage line",
	} {
		r := parseAll(t, line, nil)[0]
		r.Category, r.Status, r.Code, r.API = "stale", "stale", "stale", "stale"
		c.Classify(&r)
		if r.Category != "" || r.Status != "" || r.Code != "" || r.API != "" {
			t.Errorf("%q classified as %q/%q/%q/%q", line, r.Category, r.Status, r.Code, r.API)
		}
	}
}

func TestClassifyFirstMatchWins(t *testing.T) {
	c, err := NewClassifier([]Rule{
		{Name: "specific", Category: apilens.LogAccessToken, Status: "Invalid Credentials", Code: "900901", Message: "Invalid Credentials", Level: "warn"},
		{Name: "broad", Category: apilens.LogAppError, Status: "auth", Message: "API authentication failure"},
		{Name: "by-logger", Category: apilens.LogAppError, Status: "Error in {class}!", Logger: `^org\.wso2\.`, Regex: true},
		{Name: "regex-api", Category: apilens.LogAPIFailure, Status: "failed", Message: `^Backend of (?P<api>\w+) failed`, Regex: true, APIFrom: "message-regex"},
		{Name: "regex-no-api", Category: apilens.LogAPIFailure, Status: "failed", Message: `^Backend (of (?P<api>\w+) )?down`, Regex: true, APIFrom: "message-regex"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		level, logger, message string
		category, status, api  string
	}{
		{"WARN", "x.Y", "API authentication failure due to Invalid Credentials", apilens.LogAccessToken, "Invalid Credentials", ""},
		{"ERROR", "x.Y", "API authentication failure due to Invalid Credentials", apilens.LogAppError, "auth", ""},
		{"ERROR", "org.wso2.carbon.Foo", "API authentication failure due to X", apilens.LogAppError, "auth", ""},
		{"ERROR", "org.wso2.carbon.Foo", "something else", apilens.LogAppError, "Error in Foo!", ""},
		{"ERROR", "x.Y", "Backend of PizzaShack failed", apilens.LogAPIFailure, "failed", "PizzaShack"},
		{"ERROR", "x.Y", "Backend down", apilens.LogAPIFailure, "failed", ""},
		{"ERROR", "x.Y", "unmatched", "", "", ""},
	}
	for _, tt := range tests {
		r := apilens.LogRecord{Level: tt.level, Logger: tt.logger, Message: tt.message, Parsed: true}
		c.Classify(&r)
		if r.Category != tt.category || r.Status != tt.status || r.API != tt.api {
			t.Errorf("%s %s %q: got %q/%q/%q, want %q/%q/%q", tt.level, tt.logger, tt.message,
				r.Category, r.Status, r.API, tt.category, tt.status, tt.api)
		}
	}
}

func TestNewClassifierErrors(t *testing.T) {
	ok := Rule{Name: "r", Category: apilens.LogAppError, Status: "s", Level: "ERROR"}
	with := func(f func(*Rule)) []Rule {
		r := ok
		f(&r)
		return []Rule{{Name: "first", Category: apilens.LogAudit, Status: "a", Logger: "AUDIT_LOG"}, r}
	}
	tests := []struct {
		rules []Rule
		want  string
	}{
		{with(func(r *Rule) { r.Name = "" }), "rule 2: name is missing"},
		{with(func(r *Rule) { r.Name = "first" }), `rule 2: name "first" is used by an earlier rule`},
		{with(func(r *Rule) { r.Category = "errors" }), `rule "r": category "errors" is not one of`},
		{with(func(r *Rule) { r.Status = "" }), `rule "r": status is missing`},
		{with(func(r *Rule) { r.Level = "" }), `rule "r": no message, logger or level to match`},
		{with(func(r *Rule) { r.Level = "WARNING" }), `rule "r": level "WARNING" is not one of`},
		{with(func(r *Rule) { r.Message, r.Regex = "(", true }), `rule "r": message: error parsing regexp`},
		{with(func(r *Rule) { r.Logger, r.Regex = "[a-", true }), `rule "r": logger: error parsing regexp`},
		{with(func(r *Rule) { r.APIFrom = "logger" }), `rule "r": api_from "logger" is not`},
		{with(func(r *Rule) { r.APIFrom = "logger-suffix:" }), `rule "r": api_from "logger-suffix:" is not`},
		{with(func(r *Rule) { r.Message, r.APIFrom = "x", "message-regex" }), `rule "r": api_from "message-regex" needs a message regex`},
		{with(func(r *Rule) { r.Message, r.Regex, r.APIFrom = "(x)", true, "message-regex" }), `rule "r": api_from "message-regex": the message regex has no group named api`},
	}
	for _, tt := range tests {
		_, err := NewClassifier(tt.rules)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("got error %v, want one starting %q", err, tt.want)
		}
	}
	if _, err := NewClassifier(with(func(*Rule) {})); err != nil {
		t.Errorf("a good rule list: %v", err)
	}
}
