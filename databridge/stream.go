// Package databridge receives events from WSO2 API Manager 3.x gateways over
// the WSO2 data-bridge protocol (REFERENCE §1): the stream definitions the
// gateways publish, their conversion into apilens's native Event (or a log
// record for the loganalyzer stream), the sessions and publishing shared by
// every transport (Core), and the binary transport (BinaryServer). The
// Thrift transport lives in databridge/thrift and uses the same Core.
package databridge

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// AttrType is the type of a stream attribute.
type AttrType uint8

// The attribute types of the data-bridge.
const (
	INT AttrType = iota + 1
	LONG
	FLOAT
	DOUBLE
	BOOL
	STRING
)

var typeNames = [...]string{INT: "INT", LONG: "LONG", FLOAT: "FLOAT", DOUBLE: "DOUBLE", BOOL: "BOOL", STRING: "STRING"}

// String returns the type's name as stream definitions spell it.
func (t AttrType) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("AttrType(%d)", uint8(t))
}

// ParseAttrType reads a type name, case-insensitively.
func ParseAttrType(s string) (AttrType, error) {
	for t, n := range typeNames {
		if n != "" && strings.EqualFold(n, s) {
			return AttrType(t), nil
		}
	}
	return 0, fmt.Errorf("unknown attribute type %q (want INT, LONG, FLOAT, DOUBLE, BOOL or STRING)", s)
}

// MarshalText writes the type's name.
func (t AttrType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads a type name, case-insensitively.
func (t *AttrType) UnmarshalText(b []byte) error {
	v, err := ParseAttrType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Attribute is one named, typed value of a stream's events.
type Attribute struct {
	Name string   `json:"name"`
	Type AttrType `json:"type"`
}

// StreamDef is a stream definition: the attributes of its events, in the
// order they travel (meta, then correlation, then payload).
type StreamDef struct {
	Name        string      `json:"name"`
	Version     string      `json:"version"`
	NickName    string      `json:"nickName,omitempty"`
	Description string      `json:"description,omitempty"`
	Meta        []Attribute `json:"metaData,omitempty"`
	Correlation []Attribute `json:"correlationData,omitempty"`
	Payload     []Attribute `json:"payloadData,omitempty"`

	// plan is how the events of the stream become apilens events; set
	// once, by the Registry, before the definition is shared.
	plan    *plan
	builtin bool
}

// ID returns the stream id, name:version.
func (d *StreamDef) ID() string { return d.Name + ":" + d.Version }

// NumAttrs returns the number of values an event of the stream carries.
func (d *StreamDef) NumAttrs() int { return len(d.Meta) + len(d.Correlation) + len(d.Payload) }

// Attr returns the i-th attribute in wire order: meta, correlation, payload.
func (d *StreamDef) Attr(i int) Attribute {
	if i < len(d.Meta) {
		return d.Meta[i]
	}
	i -= len(d.Meta)
	if i < len(d.Correlation) {
		return d.Correlation[i]
	}
	return d.Payload[i-len(d.Correlation)]
}

// wire returns the attributes in wire order, as one slice: the compiled
// plan's, or a new one.
func (d *StreamDef) wire() []Attribute {
	if d.plan != nil {
		return d.plan.attrs
	}
	return slices.Concat(d.Meta, d.Correlation, d.Payload)
}

// DefaultVersion is the version of a definition that gives none.
const DefaultVersion = "1.0.0"

// ParseStreamDefinition reads a stream definition in the data-bridge's JSON
// form (REFERENCE §1). Types are case-insensitive and the version defaults
// to 1.0.0; a missing name, an attribute without a name or with an unknown
// type, and a name used twice in one section are errors.
func ParseStreamDefinition(data []byte) (*StreamDef, error) {
	var raw struct {
		Name            string `json:"name"`
		Version         string `json:"version"`
		NickName        string `json:"nickName"`
		Description     string `json:"description"`
		MetaData        []struct{ Name, Type string }
		CorrelationData []struct{ Name, Type string }
		PayloadData     []struct{ Name, Type string }
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("stream definition: %w", err)
	}
	if strings.TrimSpace(raw.Name) == "" {
		return nil, fmt.Errorf("stream definition: no name")
	}
	d := &StreamDef{Name: raw.Name, Version: raw.Version, NickName: raw.NickName, Description: raw.Description}
	if d.Version == "" {
		d.Version = DefaultVersion
	}
	for _, sec := range []struct {
		name string
		in   []struct{ Name, Type string }
		out  *[]Attribute
	}{{"metaData", raw.MetaData, &d.Meta}, {"correlationData", raw.CorrelationData, &d.Correlation}, {"payloadData", raw.PayloadData, &d.Payload}} {
		seen := make(map[string]bool, len(sec.in))
		for i, a := range sec.in {
			if a.Name == "" {
				return nil, fmt.Errorf("stream definition %s: %s[%d]: no name", d.ID(), sec.name, i)
			}
			if seen[a.Name] {
				return nil, fmt.Errorf("stream definition %s: %s: attribute %q defined twice", d.ID(), sec.name, a.Name)
			}
			seen[a.Name] = true
			t, err := ParseAttrType(a.Type)
			if err != nil {
				return nil, fmt.Errorf("stream definition %s: %s attribute %q: %w", d.ID(), sec.name, a.Name, err)
			}
			*sec.out = append(*sec.out, Attribute{Name: a.Name, Type: t})
		}
	}
	return d, nil
}

// Registry holds the stream definitions a receiver knows: the built-in ones
// of API-M 3.x gateways and those clients define. It is safe for
// concurrent use.
type Registry struct {
	mu   sync.RWMutex
	defs map[string]*StreamDef
}

// NewRegistry returns a Registry with the built-in definitions (Builtin).
func NewRegistry() *Registry {
	r := &Registry{defs: make(map[string]*StreamDef)}
	for _, d := range Builtin() {
		d.plan, d.builtin = compile(d), true
		r.defs[d.ID()] = d
	}
	return r
}

// Lookup returns the definition of a stream id (name:version), or nil.
// The definition returned must not be modified.
func (r *Registry) Lookup(id string) *StreamDef {
	r.mu.RLock()
	d := r.defs[id]
	r.mu.RUnlock()
	return d
}

// Define adds a client's definition, or replaces the one with the same id.
// The registry keeps a copy; the definitions it returns never change, so a
// publish in progress keeps decoding with the definition it looked up.
func (r *Registry) Define(def *StreamDef) error {
	if def == nil || def.Name == "" {
		return fmt.Errorf("define stream: no name")
	}
	d := *def
	if d.Version == "" {
		d.Version = DefaultVersion
	}
	d.Meta, d.Correlation, d.Payload = clone(d.Meta), clone(d.Correlation), clone(d.Payload)
	for i := 0; i < d.NumAttrs(); i++ {
		if a := d.Attr(i); a.Type < INT || a.Type > STRING {
			return fmt.Errorf("define stream %s: attribute %q has no valid type", d.ID(), a.Name)
		}
	}
	d.plan, d.builtin = compile(&d), false
	r.mu.Lock()
	r.defs[d.ID()] = &d
	r.mu.Unlock()
	return nil
}

// Delete removes a client's definition; it reports whether there was one.
// Built-in definitions stay: every gateway relies on them, so one client
// must not be able to take them away from the others.
func (r *Registry) Delete(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.defs[id]
	if !ok || d.builtin {
		return false
	}
	delete(r.defs, id)
	return true
}

func clone(a []Attribute) []Attribute {
	if len(a) == 0 {
		return nil
	}
	return append([]Attribute(nil), a...)
}
