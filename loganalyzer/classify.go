package loganalyzer

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/apilens/apilens"
)

// Rule classifies the records it matches. Rules are tried in order and
// the first that matches sets the record's classification, so a record
// counts once however many rules it would match. The fields map one to
// one to a [[loganalyzer.rules]] table of the config.
type Rule struct {
	// Name identifies the rule in errors and in the config.
	Name string `toml:"name"`
	// Category is one of the apilens.Log* categories.
	Category string `toml:"category"`
	// Status is the record's status within its category, e.g. "Invalid
	// Credentials". "{class}" in it stands for the short class name of
	// the record's logger (the part after its last "."), which is how
	// application errors are grouped by class.
	Status string `toml:"status"`
	// Code is an optional error code, e.g. "900901".
	Code string `toml:"code"`

	// The conditions, all of which must hold; an empty one holds for
	// every record. Message and Logger match as substrings of the
	// record's Message and Logger, or as regular expressions when Regex
	// is set. Level is a level name, matched exactly but for case.
	Message string `toml:"message"`
	Logger  string `toml:"logger"`
	Level   string `toml:"level"`
	Regex   bool   `toml:"regex"`

	// APIFrom says where the record's API name comes from, if anywhere:
	//
	//	"logger-suffix:P"  the logger's text after P ("logger-suffix:API_LOGGER."
	//	                   reads "API_LOGGER.admin--PizzaShackAPI:v1.0.0")
	//	"message-after:P"  the message's word after P ("message-after:Initializing API: ")
	//	"message-regex"    the group named api of the Message regex
	//
	// When the logger or message does not hold the name, the rule still
	// matches and API stays empty.
	APIFrom string `toml:"api_from"`
}

// Classifier applies an ordered list of rules, compiled once. It is safe
// for concurrent use.
type Classifier struct {
	rules []compiledRule
}

type compiledRule struct {
	category, code string
	// status is the Status, split around "{class}" when it holds it.
	statusBefore, statusAfter string
	statusClass               bool

	level           string // upper case
	message, logger string
	messageRE       *regexp.Regexp
	loggerRE        *regexp.Regexp

	api      apiSource
	apiArg   string
	apiGroup int // the index of the api group in messageRE
}

type apiSource int

const (
	apiNone apiSource = iota
	apiLoggerSuffix
	apiMessageAfter
	apiMessageRegex
)

var categories = []string{
	apilens.LogAccessToken, apilens.LogLogin, apilens.LogAppError, apilens.LogAPIDeployed,
	apilens.LogAPIDeleted, apilens.LogAPIFailure, apilens.LogAudit,
}

// NewClassifier compiles rules, in order. An error names the first rule
// that is wrong and what is wrong with it.
func NewClassifier(rules []Rule) (*Classifier, error) {
	c := &Classifier{rules: make([]compiledRule, 0, len(rules))}
	names := make(map[string]bool, len(rules))
	for i, r := range rules {
		if r.Name == "" {
			return nil, fmt.Errorf("rule %d: name is missing", i+1)
		}
		if names[r.Name] {
			return nil, fmt.Errorf("rule %d: name %q is used by an earlier rule", i+1, r.Name)
		}
		names[r.Name] = true
		cr, err := compileRule(r)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", r.Name, err)
		}
		c.rules = append(c.rules, cr)
	}
	return c, nil
}

func compileRule(r Rule) (compiledRule, error) {
	cr := compiledRule{category: r.Category, code: r.Code, message: r.Message, logger: r.Logger}
	if !slices.Contains(categories, r.Category) {
		return cr, fmt.Errorf("category %q is not one of %s", r.Category, strings.Join(categories, ", "))
	}
	if r.Status == "" {
		return cr, fmt.Errorf("status is missing")
	}
	cr.statusBefore, cr.statusAfter, cr.statusClass = strings.Cut(r.Status, "{class}")
	if r.Message == "" && r.Logger == "" && r.Level == "" {
		// A rule without conditions would take every record that reaches
		// it, which is never what a rule list means.
		return cr, fmt.Errorf("no message, logger or level to match")
	}
	if r.Level != "" {
		cr.level = strings.ToUpper(r.Level)
		if !slices.Contains(levels[:], cr.level) {
			return cr, fmt.Errorf("level %q is not one of %s", r.Level, strings.Join(levels[:], ", "))
		}
	}
	if r.Regex {
		var err error
		if r.Message != "" {
			if cr.messageRE, err = regexp.Compile(r.Message); err != nil {
				return cr, fmt.Errorf("message: %w", err)
			}
		}
		if r.Logger != "" {
			if cr.loggerRE, err = regexp.Compile(r.Logger); err != nil {
				return cr, fmt.Errorf("logger: %w", err)
			}
		}
	}
	kind, arg, _ := strings.Cut(r.APIFrom, ":")
	switch {
	case r.APIFrom == "":
	case kind == "logger-suffix" && arg != "":
		cr.api, cr.apiArg = apiLoggerSuffix, arg
	case kind == "message-after" && arg != "":
		cr.api, cr.apiArg = apiMessageAfter, arg
	case r.APIFrom == "message-regex":
		if cr.messageRE == nil {
			return cr, fmt.Errorf(`api_from "message-regex" needs a message regex (regex = true)`)
		}
		cr.apiGroup = cr.messageRE.SubexpIndex("api")
		if cr.apiGroup < 0 {
			return cr, fmt.Errorf(`api_from "message-regex": the message regex has no group named api, (?P<api>…)`)
		}
		cr.api = apiMessageRegex
	default:
		return cr, fmt.Errorf(`api_from %q is not "logger-suffix:PREFIX", "message-after:TEXT" or "message-regex"`, r.APIFrom)
	}
	return cr, nil
}

// Classify sets r's Category, Status, Code and API from the first rule
// that matches it, and clears them when none does.
func (c *Classifier) Classify(r *apilens.LogRecord) {
	r.Category, r.Status, r.Code, r.API = "", "", "", ""
	for i := range c.rules {
		cr := &c.rules[i]
		if cr.match(r) {
			cr.apply(r)
			return
		}
	}
}

// match tests the cheap conditions first: most records are decided by
// their level or a substring before any regexp runs.
func (cr *compiledRule) match(r *apilens.LogRecord) bool {
	if cr.level != "" && !strings.EqualFold(r.Level, cr.level) {
		return false
	}
	if cr.logger != "" {
		if cr.loggerRE != nil {
			if !cr.loggerRE.MatchString(r.Logger) {
				return false
			}
		} else if !strings.Contains(r.Logger, cr.logger) {
			return false
		}
	}
	if cr.message != "" {
		if cr.messageRE != nil {
			// The api group is read in apply: here matching is enough,
			// and MatchString is the cheaper call.
			return cr.messageRE.MatchString(r.Message)
		}
		return strings.Contains(r.Message, cr.message)
	}
	return true
}

func (cr *compiledRule) apply(r *apilens.LogRecord) {
	r.Category, r.Code = cr.category, cr.code
	r.Status = cr.statusBefore
	if cr.statusClass {
		class := r.Logger[strings.LastIndexByte(r.Logger, '.')+1:]
		if cr.statusBefore == "" && cr.statusAfter == "" {
			r.Status = class
		} else {
			r.Status = cr.statusBefore + class + cr.statusAfter
		}
	}
	switch cr.api {
	case apiLoggerSuffix:
		if _, after, ok := strings.Cut(r.Logger, cr.apiArg); ok {
			r.API = after
		}
	case apiMessageAfter:
		if _, after, ok := strings.Cut(r.Message, cr.apiArg); ok {
			after = strings.TrimLeft(after, " ")
			if end := strings.IndexAny(after, " \t"); end >= 0 {
				after = after[:end]
			}
			r.API = after
		}
	case apiMessageRegex:
		if m := cr.messageRE.FindStringSubmatchIndex(r.Message); m != nil && m[2*cr.apiGroup] >= 0 {
			r.API = r.Message[m[2*cr.apiGroup]:m[2*cr.apiGroup+1]]
		}
	}
}
