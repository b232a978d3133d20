package simulate

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

var tenantDomains = []string{"acme.com", "globex.io", "initech.lk", "umbrella.co.uk", "hooli.dev"}

var firstNames = []string{
	"maria", "john", "wei", "aisha", "carlos", "yuki", "olga", "ahmed", "sofia", "raj",
	"emma", "lucas", "fatima", "chen", "anna", "david", "priya", "james", "nadia", "kofi",
	"elena", "omar", "hana", "mateo", "ingrid", "tariq", "grace", "ivan", "leila", "sam",
	"kasun", "nimali", "tomas", "julia", "minh", "sara", "pedro", "amara", "jonas", "mei",
	"noah", "zara", "felix", "ayesha", "hugo", "lina", "diego", "kenji", "ruth", "amir",
}

var lastNames = []string{
	"garcia", "smith", "wang", "khan", "silva", "tanaka", "ivanova", "hassan", "rossi", "patel",
	"johnson", "muller", "ali", "li", "kowalski", "brown", "sharma", "williams", "haddad", "mensah",
	"popescu", "farouk", "kim", "lopez", "larsen", "aziz", "okafor", "petrov", "nasser", "taylor",
	"perera", "fernando", "novak", "schmidt", "nguyen", "cohen", "santos", "diallo", "berg", "zhang",
	"martin", "dubois", "wagner", "rahman", "moreau", "jansen", "ramirez", "sato", "adeyemi", "karimi",
}

// countries where clients sit, by share of traffic, with address blocks
// that registries assign there (approximate, for plausible geo lookups).
var countries = []country{
	{"US", 24, "us-east-1", []string{"73.0.0.0/8", "98.192.0.0/10", "172.56.0.0/13", "24.0.0.0/12"}, "2601::/32"},
	{"IN", 10, "ap-south-1", []string{"117.192.0.0/10", "49.32.0.0/11"}, "2409:4040::/32"},
	{"GB", 7, "eu-west-1", []string{"86.128.0.0/10", "2.96.0.0/13", "81.2.69.0/24"}, ""},
	{"DE", 7, "eu-west-1", []string{"91.0.0.0/10", "79.192.0.0/10", "84.128.0.0/10"}, "2003:e4::/32"},
	{"BR", 5, "us-east-1", []string{"177.0.0.0/9", "191.0.0.0/10"}, "2804:14c::/32"},
	{"JP", 5, "ap-southeast-1", []string{"126.0.0.0/8", "153.128.0.0/10"}, "240b:10::/32"},
	{"FR", 5, "eu-west-1", []string{"90.0.0.0/9", "78.192.0.0/10"}, "2a01:e0a::/32"},
	{"CN", 4, "ap-southeast-1", []string{"117.128.0.0/10", "223.64.0.0/11"}, "240e:3b0::/32"},
	{"CA", 4, "us-east-1", []string{"99.224.0.0/11", "174.88.0.0/13"}, "2607:fea8::/32"},
	{"LK", 3, "ap-south-1", []string{"112.134.0.0/15", "175.157.0.0/16"}, ""},
	{"AU", 3, "ap-southeast-1", []string{"1.128.0.0/11", "101.160.0.0/11"}, "2001:8003::/32"},
	{"NL", 3, "eu-west-1", []string{"77.160.0.0/12"}, ""},
	{"ES", 3, "eu-west-1", []string{"83.32.0.0/11", "88.0.0.0/11"}, ""},
	{"IT", 3, "eu-west-1", []string{"151.0.0.0/10", "79.0.0.0/11"}, ""},
	{"SE", 2, "eu-west-1", []string{"81.224.0.0/12", "89.160.0.0/14"}, ""},
	{"KR", 2, "ap-southeast-1", []string{"121.128.0.0/10", "175.192.0.0/10"}, ""},
	{"MX", 2, "us-east-1", []string{"187.128.0.0/10"}, ""},
	{"ZA", 2, "eu-west-1", []string{"105.224.0.0/12", "41.0.0.0/11"}, ""},
	{"SG", 2, "ap-southeast-1", []string{"116.86.0.0/15", "175.156.0.0/15"}, ""},
	{"NG", 1, "eu-west-1", []string{"105.112.0.0/12"}, ""},
	{"PL", 1, "eu-west-1", []string{"83.0.0.0/11"}, ""},
	{"AE", 1, "ap-south-1", []string{"94.200.0.0/13"}, ""},
}

// cloudBlocks are public-cloud ranges where server-side clients run.
var cloudBlocks = []string{"3.80.0.0/12", "52.0.0.0/11", "34.64.0.0/10", "35.184.0.0/13", "20.40.0.0/13", "13.64.0.0/11"}

var privateBlocks = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}

// User agents as clients sent them in late 2025, most common first.
var desktopUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:146.0) Gecko/20100101 Firefox/146.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 OPR/124.0.0.0",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
	"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
}

var androidBrowserUAs = []string{
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 15; SM-S931B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Android 15; Mobile; rv:146.0) Gecko/146.0 Firefox/146.0",
}

var iosBrowserUAs = []string{
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_6_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/143.0.7499.92 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPad; CPU OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
}

var dalvikUAs = []string{
	"Dalvik/2.1.0 (Linux; U; Android 16; Pixel 9 Build/BP2A.250805.005)",
	"Dalvik/2.1.0 (Linux; U; Android 15; SM-S931B Build/AP3A.240905.015.A2)",
	"Dalvik/2.1.0 (Linux; U; Android 14; SM-A546E Build/UP1A.231005.007)",
	"Dalvik/2.1.0 (Linux; U; Android 14; Redmi Note 13 Pro Build/UKQ1.231003.002)",
	"Dalvik/2.1.0 (Linux; U; Android 13; moto g54 5G Build/T1TDS33.80-34-4)",
}

var okhttpUAs = []string{"okhttp/4.12.0", "okhttp/5.1.0", "okhttp/4.11.0"}

// cfNetworks follow "<App>/<version> " in the user agent of an iOS app.
var cfNetworks = []string{
	"CFNetwork/3860.100.1 Darwin/25.0.0",
	"CFNetwork/3826.500.131 Darwin/24.5.0",
	"CFNetwork/1568.300.101 Darwin/24.2.0",
}

var serverUAs = []string{
	"Go-http-client/2.0", "Go-http-client/1.1", "python-requests/2.32.5", "python-httpx/0.28.1",
	"Java-http-client/21.0.8", "Apache-HttpClient/5.5 (Java/17.0.16)", "axios/1.12.2",
	"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "Dart/3.9 (dart:io)", "curl/8.14.1",
}

// devToolUAs are what developers try their sandbox keys with.
var devToolUAs = []string{"PostmanRuntime/7.49.1", "curl/8.14.1", "curl/7.81.0", "insomnia/11.6.1", "PostmanRuntime/7.48.0", "HTTPie/3.2.4"}

var botUAs = []string{
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
	"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
}

var appPrefixes = []string{
	"Pizza", "Acme", "Shop", "Fleet", "Care", "Pay", "Travel", "Health", "Bank", "Insure",
	"Retail", "Food", "Ride", "Learn", "Fit", "Home", "Energy", "Media", "Ticket", "Stock",
	"Green", "Nova", "Zen", "Swift", "Pixel", "Atlas", "Orbit", "Lumen", "Quartz", "Harbor",
}

var kindSuffixes = map[appKind][]string{
	kindWeb:      {"Web", "Portal", "Storefront", "WebApp", "Dashboard"},
	kindAndroid:  {"Android", "AndroidApp"},
	kindIOS:      {"iOS", "iPhoneApp"},
	kindServer:   {"Backend", "Sync", "BatchJob", "Integration", "Service", "ETL"},
	kindPartner:  {"Partner", "Connector"},
	kindInternal: {"AdminConsole", "Backoffice"},
}

// apiSpec describes an API of the catalog; its versions are deployed from it.
type apiSpec struct {
	name      string // PizzaShackAPI
	path      string // the context's first segment
	apiType   string
	dest      string   // fixed backend, "" to make one up
	resources []string // "METHOD /template"; nil to derive from noun
	noun, id  string   // collection and its id parameter
	subs      []string // sub-collections
}

var baseAPIs = []apiSpec{
	{name: "PizzaShackAPI", path: "pizzashack", apiType: "HTTP", dest: "https://localhost:9443/am/sample/pizzashack/v1/api/",
		resources: []string{"GET /menu", "POST /order", "GET /order/{orderId}", "PUT /order/{orderId}", "DELETE /order/{orderId}"}},
	{name: "PaymentsAPI", path: "payments", noun: "payments", id: "paymentId", subs: []string{"refunds", "captures"}},
	{name: "StarWarsAPI", path: "swapi", apiType: "GRAPHQL",
		resources: []string{"QUERY hero", "QUERY human", "QUERY droid", "QUERY search", "QUERY character", "MUTATION createReview", "QUERY reviews", "QUERY starship"}},
	{name: "OrdersAPI", path: "orders", noun: "orders", id: "orderId", subs: []string{"items", "shipments", "status"}},
	{name: "CustomersAPI", path: "customers", noun: "customers", id: "customerId", subs: []string{"addresses", "preferences"}},
	{name: "InventoryAPI", path: "inventory", noun: "items", id: "sku", subs: []string{"stock", "reservations"}},
	{name: "CatalogAPI", path: "catalog", noun: "products", id: "productId", subs: []string{"variants", "prices", "images"}},
	{name: "WeatherAPI", path: "weather",
		resources: []string{"GET /current", "GET /forecast", "GET /forecast/hourly", "GET /alerts", "GET /history/{date}", "GET /stations/{stationId}"}},
	{name: "CartAPI", path: "cart", noun: "carts", id: "cartId", subs: []string{"items", "coupons"}},
	{name: "ShippingAPI", path: "shipping", noun: "shipments", id: "shipmentId", subs: []string{"tracking", "labels"}},
	{name: "AccountsAPI", path: "open-banking/accounts", noun: "accounts", id: "accountId", subs: []string{"balances", "transactions", "standing-orders", "direct-debits"}},
	{name: "NotificationsAPI", path: "notifications", noun: "notifications", id: "notificationId", subs: []string{"deliveries"}},
	{name: "FXRatesAPI", path: "fxrates",
		resources: []string{"GET /rates", "GET /rates/{base}", "GET /convert", "GET /currencies", "GET /rates/{base}/history"}},
	{name: "LoyaltyAPI", path: "loyalty", noun: "members", id: "memberId", subs: []string{"points", "rewards"}},
	{name: "BookingAPI", path: "booking", noun: "bookings", id: "bookingId", subs: []string{"passengers", "seats"}},
	{name: "ChatNotificationsAPI", path: "chatnotifications", apiType: "WS",
		resources: []string{"SUBSCRIBE /notifications", "PUBLISH /messages", "SUBSCRIBE /rooms/{roomId}"}},
	{name: "FlightStatusAPI", path: "flightstatus", noun: "flights", id: "flightNumber", subs: []string{"delays", "gates"}},
	{name: "ClaimsAPI", path: "claims", noun: "claims", id: "claimId", subs: []string{"documents", "notes"}},
	{name: "PolicyAPI", path: "policies", noun: "policies", id: "policyId", subs: []string{"coverages", "renewals"}},
	{name: "PatientRecordsAPI", path: "fhir/patients", noun: "Patient", id: "patientId", subs: []string{"Observation", "Encounter", "MedicationRequest"}},
	{name: "AppointmentsAPI", path: "appointments", noun: "appointments", id: "appointmentId", subs: []string{"reminders"}},
	{name: "InvoicesAPI", path: "invoices", noun: "invoices", id: "invoiceId", subs: []string{"lines", "payments"}},
	{name: "TaxCalculationAPI", path: "tax",
		resources: []string{"POST /calculate", "GET /rates", "GET /jurisdictions/{code}", "POST /validate"}},
	{name: "KYCVerificationAPI", path: "kyc", noun: "verifications", id: "verificationId", subs: []string{"documents"}},
	{name: "FraudScoreAPI", path: "fraud",
		resources: []string{"POST /score", "GET /score/{transactionId}", "POST /feedback", "GET /rules"}},
	{name: "DeviceRegistryAPI", path: "devices", noun: "devices", id: "deviceId", subs: []string{"telemetry", "commands"}},
	{name: "FleetTrackingAPI", path: "fleet", noun: "vehicles", id: "vehicleId", subs: []string{"positions", "trips"}},
	{name: "EmployeeDirectoryAPI", path: "employees", noun: "employees", id: "employeeId", subs: []string{"manager", "reports"}},
	{name: "DocumentStoreAPI", path: "documents", noun: "documents", id: "documentId", subs: []string{"versions", "content"}},
	{name: "SearchAPI", path: "search",
		resources: []string{"GET /search", "GET /suggest", "GET /facets", "POST /search/advanced"}},
	{name: "RecommendationsAPI", path: "recommendations",
		resources: []string{"GET /users/{userId}/recommendations", "POST /events", "GET /trending", "GET /similar/{itemId}"}},
	{name: "ReviewsAPI", path: "reviews", noun: "reviews", id: "reviewId", subs: []string{"votes"}},
	{name: "PricingAPI", path: "pricing", noun: "prices", id: "sku", subs: []string{"quotes"}},
	{name: "StockQuoteAPI", path: "stockquote",
		resources: []string{"GET /quotes/{symbol}", "GET /quotes/{symbol}/history", "GET /symbols", "GET /market/status"}},
	{name: "HotelSearchAPI", path: "hotels", noun: "hotels", id: "hotelId", subs: []string{"rooms", "availability"}},
	{name: "TicketingAPI", path: "tickets", noun: "tickets", id: "ticketId", subs: []string{"comments", "attachments"}},
	{name: "SubscriptionsAPI", path: "subscriptions", noun: "subscriptions", id: "subscriptionId", subs: []string{"usage", "invoices"}},
	{name: "MeteringAPI", path: "metering", noun: "meters", id: "meterId", subs: []string{"readings"}},
	{name: "CountriesGraphQLAPI", path: "countries", apiType: "GRAPHQL",
		resources: []string{"QUERY countries", "QUERY country", "QUERY continents", "QUERY languages"}},
	{name: "PayrollAPI", path: "payroll", noun: "payslips", id: "payslipId", subs: []string{"deductions"}},
}

var apiPrefixes = []string{"Partner", "Mobile", "Internal", "Retail", "Corporate", "Open", "Legacy", "Smart", "Global", "B2B", "Digital", "Core"}

// apiSpecAt returns the i-th API of the catalog: the base ones first, then
// made-up combinations of a prefix and a base REST API.
func apiSpecAt(i int) apiSpec {
	if i < len(baseAPIs) {
		s := baseAPIs[i]
		if s.apiType == "" {
			s.apiType = "HTTP"
		}
		return s
	}
	var rest []apiSpec
	for _, s := range baseAPIs {
		if s.noun != "" {
			rest = append(rest, s)
		}
	}
	k := i - len(baseAPIs)
	s := rest[k%len(rest)]
	pfx := apiPrefixes[(k/len(rest))%len(apiPrefixes)]
	gen := k / (len(rest) * len(apiPrefixes))
	s.name = pfx + s.name
	s.path = strings.ToLower(pfx) + "-" + s.path
	if gen > 0 {
		s.name = fmt.Sprintf("%s%d", strings.TrimSuffix(s.name, "API"), gen+1) + "API"
		s.path = fmt.Sprintf("%s%d", s.path, gen+1)
	}
	s.apiType = "HTTP"
	return s
}

// resourcesFor returns the resources of the k-th version (0 first): a later
// version tends to have a few more.
func (s apiSpec) resourcesFor(r *rand.Rand, k int) []resource {
	var list []string
	if s.resources != nil {
		list = s.resources
	} else {
		n, id := "/"+s.noun, "/{"+s.id+"}"
		list = []string{"GET " + n, "GET " + n + id, "POST " + n, "PUT " + n + id, "DELETE " + n + id}
		for j, sub := range s.subs {
			list = append(list, "GET "+n+id+"/"+sub)
			if j == 0 {
				list = append(list, "POST "+n+id+"/"+sub)
			}
		}
		list = append(list, "PATCH "+n+id, "GET "+n+"/search", "GET /health")
		want := min(len(list), 3+r.IntN(7)+2*k)
		list = list[:want]
	}
	out := make([]resource, len(list))
	for i, rs := range list {
		method, tmpl, _ := strings.Cut(rs, " ")
		res := resource{method: method, template: tmpl, latMul: 0.5 + 1.5*r.Float64()}
		switch method {
		case "POST", "PUT", "PATCH", "MUTATION":
			res.latMul *= 1.6
		case "DELETE":
			res.latMul *= 0.8
		}
		if strings.Contains(tmpl, "search") || strings.Contains(tmpl, "history") {
			res.latMul *= 2.5
		}
		res.public = tmpl == "/health" || (s.name == "PizzaShackAPI" && tmpl == "/menu") || (s.name == "WeatherAPI" && tmpl == "/current")
		out[i] = res
	}
	return out
}
