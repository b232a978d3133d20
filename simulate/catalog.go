package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
)

// catalogSeed seeds every random choice that describes the platform
// (APIs, applications, people), so runs with different traffic seeds talk
// about the same platform: the same application has the same id in every
// run, and a platform of 100 APIs starts with the 30 of the default one.
const catalogSeed = 0x61706c656e73 // "aplens"

// Kinds of catalog entity, to give each its own random stream.
const (
	streamAPI uint64 = iota + 1
	streamApp
	streamPerson
	streamTenant
)

// entityRand returns the random stream of catalog entity i of a kind.
func entityRand(kind uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(catalogSeed^kind<<56, uint64(i)))
}

// platform is the simulated API Manager deployment: tenants, the API
// versions they publish, the applications that subscribe to them and the
// people who use those applications.
type platform struct {
	tenants []*tenant
	apis    []*apiVersion
	apps    []*application
	people  []person
	appPick sampler // popularity of applications
	apiPick sampler // popularity of API versions, for backend trouble
	lbIPs   []string
}

type tenant struct {
	domain   string
	host     string // DNS suffix of the tenant's backends
	creators []string
	apis     []*apiVersion
	people   []int32 // indexes into platform.people
}

// apiVersion is one deployed version of an API: what an event's apiId
// names.
type apiVersion struct {
	id, name, version, context, creator string
	tenant                              *tenant
	apiType                             string
	destination                         string
	resources                           []resource
	resPick                             sampler
	weight                              float64 // popularity
	latMedian                           float64 // median backend latency, ms
	cacheable                           bool    // response caching is on
}

type resource struct {
	method, template string
	latMul           float64 // relative cost of the operation
	public           bool    // unsecured: no token, no application
}

type appKind uint8

const (
	kindWeb appKind = iota
	kindAndroid
	kindIOS
	kindServer
	kindPartner
	kindInternal
)

type application struct {
	id, name, owner, ownerUser string
	tenant                     *tenant
	kind                       appKind
	subs                       []*apiVersion
	subPick                    sampler
	users                      []int32 // indexes into platform.people
	userPick                   sampler
	uas                        []string // user agents of a native or server client
	ips                        []string // addresses of a server client
	sandbox                    float64  // share of calls with SANDBOX keys
	ownerPerson                int32
}

// person is an end user: one account in one tenant.
type person struct {
	userName  string    // as the gateway reports it: login@tenant
	login     string    // as an application owner is reported
	ips       [2]string // home and mobile addresses
	region    string    // the gateway region nearest to the person
	desktopUA string
	mobileUA  string // mobile browser
	nativeUA  string // Android system client (Dalvik), "" on iOS
	ios       bool
}

// sampler picks an index with probability proportional to its weight, in
// constant time (Walker's alias method): popularity is drawn for every
// event, over up to tens of thousands of items.
type sampler struct {
	prob  []float64
	alias []int32
}

func newSampler(weights []float64) sampler {
	n := len(weights)
	total := 0.0
	for _, w := range weights {
		total += w
	}
	s := sampler{prob: make([]float64, n), alias: make([]int32, n)}
	scaled := make([]float64, n)
	var small, large []int32
	for i, w := range weights {
		scaled[i] = w * float64(n) / total
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		l, g := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		s.prob[l], s.alias[l] = scaled[l], g
		scaled[g] -= 1 - scaled[l]
		if scaled[g] < 1 {
			large = large[:len(large)-1]
			small = append(small, g)
		}
	}
	for _, i := range append(small, large...) { // left over by rounding: certain
		s.prob[i], s.alias[i] = 1, i
	}
	return s
}

// zipfWeights returns n weights 1/(i+1)^s: the Zipf-like popularity of
// ranked things.
func zipfWeights(n int, s float64) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / math.Pow(float64(i+1), s)
	}
	return w
}

// at returns the index for u uniform in [0, 1).
func (s sampler) at(u float64) int {
	x := u * float64(len(s.prob))
	i := int(x)
	if i >= len(s.prob) {
		i = len(s.prob) - 1
	}
	if x-float64(i) < s.prob[i] {
		return i
	}
	return int(s.alias[i])
}

func (s sampler) pick(r *rand.Rand) int { return s.at(r.Float64()) }

// newPlatform builds the platform for the given sizes.
func newPlatform(nTenants, nAPIs, nApps int) *platform {
	p := &platform{}
	tw := make([]float64, nTenants)
	for i := range nTenants {
		t := &tenant{domain: "carbon.super", host: "backend.internal", creators: []string{"admin", "admin", "publisher"}}
		if i > 0 {
			d := tenantDomains[(i-1)%len(tenantDomains)]
			if i > len(tenantDomains) {
				d = fmt.Sprintf("tenant%d.%s", i, d)
			}
			t = &tenant{domain: d, host: d, creators: []string{"admin@" + d, "apiteam@" + d}}
		}
		p.tenants = append(p.tenants, t)
		tw[i] = 1 / float64(i+1) // the super tenant carries most of the traffic
	}
	tenantPick := newSampler(tw)

	p.buildPeople(nApps, tenantPick)
	p.buildAPIs(nAPIs, tenantPick)
	p.buildApps(nApps, tenantPick)
	for i := range 4 {
		p.lbIPs = append(p.lbIPs, fmt.Sprintf("10.0.%d.%d", 1+i/2, 10+i))
	}
	return p
}

func (p *platform) buildPeople(nApps int, tenantPick sampler) {
	n := max(300, 25*nApps)
	n = min(n, 60000)
	seen := make(map[string]bool, n)
	p.people = make([]person, n)
	for i := range n {
		r := entityRand(streamPerson, i)
		t := p.tenants[tenantPick.pick(r)]
		login := firstNames[r.IntN(len(firstNames))] + "." + lastNames[r.IntN(len(lastNames))]
		for k := 2; seen[t.domain+"/"+login]; k++ {
			login = fmt.Sprintf("%s%d", strings.TrimRight(login, "0123456789"), k)
		}
		seen[t.domain+"/"+login] = true
		c := &countries[countryPick.pick(r)]
		pe := person{
			userName:  login + "@" + t.domain,
			login:     login,
			region:    c.region,
			desktopUA: desktopUAs[desktopUAPick.pick(r)],
			ios:       r.Float64() < 0.3,
		}
		if t.domain != "carbon.super" {
			pe.login = pe.userName
		}
		pe.ips[0] = c.addr(r, r.Float64() < 0.25)
		pe.ips[1] = c.addr(r, false)
		if pe.ios {
			pe.mobileUA = iosBrowserUAs[r.IntN(len(iosBrowserUAs))]
		} else {
			pe.mobileUA = androidBrowserUAs[r.IntN(len(androidBrowserUAs))]
			pe.nativeUA = dalvikUAs[r.IntN(len(dalvikUAs))]
		}
		p.people[i] = pe
		t.people = append(t.people, int32(i))
	}
	for _, t := range p.tenants {
		if len(t.people) == 0 { // a tenant too small to draw anyone
			t.people = append(t.people, 0)
		}
	}
}

func (p *platform) buildAPIs(n int, tenantPick sampler) {
	popularity := zipfWeights(n, 1.0)
	for i := range n {
		r := entityRand(streamAPI, i)
		spec := apiSpecAt(i)
		t := p.tenants[0]
		if i >= 3 { // the samples everybody knows stay in the super tenant
			t = p.tenants[tenantPick.pick(r)]
		}
		nv := 1
		switch u := r.Float64(); {
		case spec.apiType == "WS":
		case u < 0.35:
			nv = 2
		case u < 0.5:
			nv = 3
		}
		versions := versionLadder(r, nv)
		latMedian := math.Exp(math.Log(15) + r.Float64()*(math.Log(350)-math.Log(15)))
		if spec.apiType == "GRAPHQL" {
			latMedian *= 1.8
		}
		cacheable := r.Float64() < 0.3
		creator := t.creators[r.IntN(len(t.creators))]
		vw := []float64{1}
		switch nv {
		case 2:
			vw = []float64{0.3, 0.7}
		case 3:
			vw = []float64{0.1, 0.3, 0.6}
		}
		for k, v := range versions {
			ctx := "/" + spec.path + "/" + v
			if t.domain != "carbon.super" {
				ctx = "/t/" + t.domain + ctx
			}
			a := &apiVersion{
				id:          uuidFrom(r),
				name:        spec.name,
				version:     v,
				context:     ctx,
				creator:     creator,
				tenant:      t,
				apiType:     spec.apiType,
				destination: destination(r, spec, t, v),
				weight:      popularity[i] * vw[k],
				latMedian:   latMedian * (0.8 + 0.4*r.Float64()),
				cacheable:   cacheable,
			}
			a.resources = spec.resourcesFor(r, k)
			a.resPick = newSampler(zipfWeights(len(a.resources), 1.1))
			p.apis = append(p.apis, a)
			t.apis = append(t.apis, a)
		}
	}
	w := make([]float64, len(p.apis))
	for i, a := range p.apis {
		w[i] = a.weight
	}
	p.apiPick = newSampler(w)
}

func (p *platform) buildApps(n int, tenantPick sampler) {
	seen := make(map[string]bool, n)
	for i := range n {
		r := entityRand(streamApp, i)
		t := p.tenants[tenantPick.pick(r)]
		if len(t.apis) == 0 {
			t = p.tenants[0]
		}
		kind := appKinds[appKindPick.pick(r)]
		ownerIdx := t.people[r.IntN(len(t.people))]
		owner := &p.people[ownerIdx]
		name := appPrefixes[r.IntN(len(appPrefixes))] + kindSuffixes[kind][r.IntN(len(kindSuffixes[kind]))]
		if r.Float64() < 0.06 {
			name = "DefaultApplication"
		}
		for k := 2; seen[owner.login+"/"+name]; k++ {
			name = fmt.Sprintf("%s%d", strings.TrimRight(name, "0123456789"), k)
		}
		seen[owner.login+"/"+name] = true
		a := &application{
			id:          uuidFrom(r),
			name:        name,
			owner:       owner.login,
			ownerUser:   owner.userName,
			ownerPerson: ownerIdx,
			tenant:      t,
			kind:        kind,
			sandbox:     0.02 + 0.13*r.Float64(),
		}
		// Subscriptions: a few API versions of the app's tenant, the
		// popular ones more likely.
		w := make([]float64, len(t.apis))
		for k, api := range t.apis {
			w[k] = api.weight
		}
		pick := newSampler(w)
		nsubs := min(len(t.apis), 1+r.IntN(6))
		chosen := map[int]bool{}
		for tries := 0; len(chosen) < nsubs && tries < 50; tries++ {
			chosen[pick.pick(r)] = true
		}
		sw := []float64{}
		for k, api := range t.apis { // in catalog order, for determinism
			if chosen[k] {
				a.subs = append(a.subs, api)
				sw = append(sw, api.weight*(0.5+r.Float64()))
			}
		}
		a.subPick = newSampler(sw)

		nusers := 1
		switch kind {
		case kindWeb:
			nusers = 10 + r.IntN(300)
		case kindAndroid, kindIOS:
			nusers = 20 + r.IntN(500)
		case kindInternal:
			nusers = 5 + r.IntN(40)
		case kindPartner:
			nusers = 1 + r.IntN(3)
		}
		if kind == kindServer || kind == kindPartner {
			a.users = []int32{ownerIdx}
			for range 1 + r.IntN(2) {
				a.ips = append(a.ips, cloudAddr(r))
			}
			a.uas = []string{serverUAs[r.IntN(len(serverUAs))]}
			if r.Float64() < 0.3 {
				a.uas = append(a.uas, serverUAs[r.IntN(len(serverUAs))])
			}
		} else {
			nusers = min(nusers, len(t.people))
			a.users = make([]int32, nusers)
			for k := range a.users {
				a.users[k] = t.people[r.IntN(len(t.people))]
			}
			if kind == kindInternal { // used from the office network
				a.ips = make([]string, nusers)
				for k := range a.ips {
					a.ips[k] = privateAddr(r)
				}
			}
		}
		switch kind {
		case kindAndroid:
			if r.Float64() < 0.6 {
				a.uas = []string{okhttpUAs[r.IntN(len(okhttpUAs))]}
			}
		case kindIOS:
			ver := fmt.Sprintf("%d.%d.%d", 1+r.IntN(6), r.IntN(10), r.IntN(5))
			appName := strings.TrimSuffix(strings.TrimSuffix(name, "iOS"), "iPhoneApp")
			if appName == "" {
				appName = "App"
			}
			for _, cf := range cfNetworks {
				a.uas = append(a.uas, appName+"/"+ver+" "+cf)
			}
		}
		a.userPick = newSampler(zipfWeights(len(a.users), 1.1))
		p.apps = append(p.apps, a)
	}
	// Popularity is by rank, and rank is not catalog order: the most used
	// application is not always the first one created.
	rank := entityRand(streamApp, -1).Perm(n)
	zw := zipfWeights(n, 1.05)
	w := make([]float64, n)
	for i := range n {
		w[i] = zw[rank[i]]
	}
	p.appPick = newSampler(w)
}

// versionLadder returns n ascending versions.
func versionLadder(r *rand.Rand, n int) []string {
	major, minor := 1, 0
	out := []string{"1.0.0"}
	for len(out) < n {
		if r.Float64() < 0.3 {
			minor++
		} else {
			major, minor = major+1, 0
		}
		out = append(out, fmt.Sprintf("%d.%d.0", major, minor))
	}
	return out
}

func destination(r *rand.Rand, spec apiSpec, t *tenant, version string) string {
	if spec.dest != "" {
		return spec.dest
	}
	major, _, _ := strings.Cut(version, ".")
	host := strings.ReplaceAll(spec.path, "/", "-")
	switch r.IntN(3) {
	case 0:
		return "https://" + host + ".svc.cluster.local:8443/api/v" + major
	case 1:
		return "http://" + host + "-backend." + t.host + ":8080/v" + major
	default:
		return "https://api." + t.host + "/" + spec.path + "/v" + major
	}
}

// uuidFrom returns a random (version 4 layout) UUID drawn from r.
func uuidFrom(r *rand.Rand) string {
	var b [36]byte
	formatUUID(&b, r.Uint64(), r.Uint64())
	return string(b[:])
}

const hexDigits = "0123456789abcdef"

func formatUUID(b *[36]byte, hi, lo uint64) {
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant 10
	var raw [16]byte
	for i := range 8 {
		raw[i] = byte(hi >> (56 - 8*i))
		raw[8+i] = byte(lo >> (56 - 8*i))
	}
	j := 0
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
}

// country is where clients come from: address blocks registered there
// and the gateway region that serves it.
type country struct {
	code   string
	weight float64
	region string
	v4     []string // CIDR blocks
	v6     string   // a /32, "" when none
}

// addr returns a random address in c; v6 asks for IPv6 where c has it.
func (c *country) addr(r *rand.Rand, v6 bool) string {
	if v6 && c.v6 != "" {
		pfx := netip.MustParsePrefix(c.v6)
		b := pfx.Addr().As16()
		for i := 4; i < 16; i++ {
			b[i] = byte(r.Uint32())
		}
		return netip.AddrFrom16(b).String()
	}
	return randomIn(r, c.v4[r.IntN(len(c.v4))])
}

func randomIn(r *rand.Rand, cidr string) string {
	pfx := netip.MustParsePrefix(cidr)
	b := pfx.Addr().As4()
	base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	host := r.Uint32() >> pfx.Bits()
	if pfx.Bits() == 0 {
		host = r.Uint32()
	}
	v := base | host
	if v&0xff == 0 || v&0xff == 0xff { // keep clear of network and broadcast-looking ends
		v = v&^0xff | 1 + uint32(r.IntN(250))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

// cloudAddr returns an address of a public cloud, where server-side
// clients run.
func cloudAddr(r *rand.Rand) string {
	return randomIn(r, cloudBlocks[r.IntN(len(cloudBlocks))])
}

// privateAddr returns an RFC 1918 address: clients inside the company.
func privateAddr(r *rand.Rand) string {
	return randomIn(r, privateBlocks[r.IntN(len(privateBlocks))])
}

var (
	countryPick   sampler
	desktopUAPick sampler
	appKindPick   sampler
	appKinds      = []appKind{kindWeb, kindAndroid, kindIOS, kindServer, kindPartner, kindInternal}
)

func init() {
	w := make([]float64, len(countries))
	for i, c := range countries {
		w[i] = c.weight
	}
	countryPick = newSampler(w)
	w = make([]float64, len(desktopUAs))
	for i := range w {
		w[i] = 1 / math.Pow(float64(i+1), 0.7)
	}
	desktopUAPick = newSampler(w)
	appKindPick = newSampler([]float64{0.28, 0.2, 0.14, 0.22, 0.08, 0.08})
}
