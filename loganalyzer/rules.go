package loganalyzer

import "github.com/apilens/apilens"

// authFailurePrefix starts every gateway authentication failure message
// (APIAuthenticationHandler); the text after it is the failure's message.
const authFailurePrefix = "API authentication failure due to "

// authFailures are the gateway's authentication failure messages and
// their codes (REFERENCE §7).
var authFailures = []struct{ code, message string }{
	{"900900", "Unclassified Authentication Failure"},
	{"900901", "Invalid Credentials"},
	{"900902", "Missing Credentials"},
	{"900903", "Access Token Expired"},
	{"900904", "Access Token Inactive"},
	{"900905", "Incorrect Access Token Type is provided"},
	{"900906", "No matching resource found in the API for the given request"},
	{"900907", "The requested API is temporarily blocked"},
	{"900908", "Resource forbidden"}, // may go on " for appName=… for requestURI=…"
	{"900909", "The subscription to the API is inactive"},
	{"900910", "The access token does not allow you to access the requested resource"},
	{"900911", "Internal Server Error"},
}

// DefaultRules returns the classification rules apilens uses when the
// config gives none, in their order:
//
//   - access tokens: one rule per gateway authentication failure message,
//     its Status the message and Code its code — once per record, unlike
//     2.x, which counted every invalid-credential line as both
//     INVALID_KEY and REVOKED_KEY. The unclassified failure (900900) is
//     logged at ERROR with a stack trace; the rest at WARN, which the
//     rules do not require;
//   - login failures of the carbon authentication services;
//   - API deployed and deleted, from Synapse's "Initializing API: " and
//     "Destroying API: " (the 2.x rules), with the API's name as Synapse
//     gives it (e.g. "admin--PizzaShackAPI:v1.0.0");
//   - API message-processing failures, with the API from the
//     API_LOGGER.<api> logger;
//   - audit entries (the AUDIT_LOG logger), after the login rules so that
//     a failed login the audit log repeats counts as a login failure;
//   - last, application errors: every other ERROR or FATAL record, its
//     Status the logger's class, so that errors group by class.
//
// The caller owns the returned slice.
func DefaultRules() []Rule {
	rules := make([]Rule, 0, len(authFailures)+12)
	for _, f := range authFailures {
		r := Rule{
			Name:     "access-token-" + f.code,
			Category: apilens.LogAccessToken,
			Status:   f.message,
			Code:     f.code,
			Message:  authFailurePrefix + f.message,
		}
		if f.code == "900900" {
			r.Level = "ERROR"
		}
		rules = append(rules, r)
	}
	return append(rules,
		// org.wso2.carbon.core.services.util.CarbonAuthenticationUtil:
		// "Failed Administrator login attempt 'admin[-1234]' at [2020-05-12 10:15:30,123+0000]".
		Rule{Name: "login-failed-admin", Category: apilens.LogLogin, Status: "Login failed",
			Message: "Failed Administrator login attempt"},
		Rule{Name: "login-auth-failure", Category: apilens.LogLogin, Status: "Login failed",
			Message: "Authentication failure for user"},
		// A call to an admin service without a valid session:
		// "Illegal access attempt at [2020-05-12 10:15:30,0123] from IP address 10.0.0.7 while trying to authenticate access to service RemoteUserStoreManagerService".
		Rule{Name: "login-illegal-access", Category: apilens.LogLogin, Status: "Illegal access attempt",
			Message: "Illegal access attempt"},

		Rule{Name: "api-deployed", Category: apilens.LogAPIDeployed, Status: "API deployed",
			Message: "Initializing API: ", APIFrom: "message-after:Initializing API: "},
		Rule{Name: "api-deleted", Category: apilens.LogAPIDeleted, Status: "API deleted",
			Message: "Destroying API: ", APIFrom: "message-after:Destroying API: "},

		Rule{Name: "api-build-message", Category: apilens.LogAPIFailure, Status: "Error while building message",
			Message: "Error while building message", APIFrom: "logger-suffix:API_LOGGER."},
		Rule{Name: "api-passthrough-stream", Category: apilens.LogAPIFailure, Status: "Error while building Passthrough stream",
			Message: "Error while building Passthrough stream", APIFrom: "logger-suffix:API_LOGGER."},
		// Any other error an API's own logger reports is a failure of
		// that API's message processing too.
		Rule{Name: "api-error", Category: apilens.LogAPIFailure, Status: "Message processing error",
			Logger: "API_LOGGER.", Level: "ERROR", APIFrom: "logger-suffix:API_LOGGER."},

		Rule{Name: "audit", Category: apilens.LogAudit, Status: "Audit entry", Logger: "AUDIT_LOG"},

		Rule{Name: "app-error", Category: apilens.LogAppError, Status: "{class}", Level: "ERROR"},
		Rule{Name: "app-fatal", Category: apilens.LogAppError, Status: "{class}", Level: "FATAL"},
	)
}
