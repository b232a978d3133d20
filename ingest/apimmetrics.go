package ingest

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/valyala/fastjson"
)

// APIMMetricsLine is what a line of a 4.x gateway's apim_metrics.log is,
// as APIMMetricsParser.Parse sees it (REFERENCE §3).
type APIMMetricsLine int

const (
	// APIMOther is a line that is no apimMetrics line: the file holds the
	// gateway's other log lines too, which are no concern of analytics.
	APIMOther APIMMetricsLine = iota
	// APIMEvent is an apim:response or apim:faulty line whose event
	// document was appended.
	APIMEvent
	// APIMSkipped is a well-formed apimMetrics line of another kind than
	// response and faulty: nothing apilens summarizes.
	APIMSkipped
)

// APIMMetricsParser reads the apimMetrics lines of a 4.x gateway's metrics
// log:
//
//	HH:mm:ss,SSS [ip-host] [thread]  INFO ELKCounterMetric apimMetrics: apim:response, properties :{json}
//
// (apim:faulty for faults; the Go gateway writes "properties: {json}").
// Its zero value is ready; it is not safe for concurrent use.
type APIMMetricsParser struct {
	p fastjson.Parser
}

var (
	apimMarker = []byte("apimMetrics:")
	apimKind   = []byte("apim:")
	apimProps  = []byte("properties")
)

// Parse classifies line (without its newline) and, for an apim:response
// or apim:faulty line, appends its event as one line of NDJSON (no
// newline) to dst: the properties object as written, with eventType
// "response" or "fault" added when the gateway left it out, since the
// server takes an event without one for a response. An apimMetrics line
// that cannot be read (no kind, no properties, broken JSON) is an error;
// dst is then returned as it was.
func (ps *APIMMetricsParser) Parse(dst, line []byte) ([]byte, APIMMetricsLine, error) {
	i := bytes.Index(line, apimMarker)
	if i < 0 {
		return dst, APIMOther, nil
	}
	rest := bytes.TrimLeft(line[i+len(apimMarker):], " \t")
	if !bytes.HasPrefix(rest, apimKind) {
		return dst, APIMOther, errors.New(`no "apim:<kind>" after "apimMetrics:"`)
	}
	rest = rest[len(apimKind):]
	n := bytes.IndexAny(rest, ", \t")
	if n < 0 {
		n = len(rest)
	}
	kind := rest[:n]
	var eventType string
	switch string(kind) {
	case "response":
		eventType = "response"
	case "faulty":
		eventType = "fault"
	case "":
		return dst, APIMOther, errors.New(`no kind after "apim:"`)
	default:
		return dst, APIMSkipped, nil
	}
	rest = rest[n:]
	p := bytes.Index(rest, apimProps)
	if p < 0 {
		return dst, APIMOther, fmt.Errorf("apim:%s line without properties", kind)
	}
	doc := bytes.TrimLeft(rest[p+len(apimProps):], " \t")
	if len(doc) == 0 || doc[0] != ':' {
		return dst, APIMOther, fmt.Errorf(`apim:%s line without ":" after properties`, kind)
	}
	doc = bytes.Trim(doc[1:], " \t\r")
	if len(doc) == 0 || doc[0] != '{' {
		return dst, APIMOther, fmt.Errorf("apim:%s properties are not a JSON object", kind)
	}
	v, err := ps.p.ParseBytes(doc)
	if err != nil {
		return dst, APIMOther, fmt.Errorf("apim:%s properties: invalid JSON: %v", kind, err)
	}
	if et := v.Get("eventType"); et != nil && et.Type() != fastjson.TypeNull {
		return append(dst, doc...), APIMEvent, nil
	}
	// Put eventType first, so the rest of the document goes as written;
	// a null eventType that follows is ignored by the server.
	dst = append(dst, `{"eventType":"`...)
	dst = append(dst, eventType...)
	dst = append(dst, '"')
	if o, _ := v.Object(); o.Len() == 0 {
		return append(dst, '}'), APIMEvent, nil
	}
	dst = append(dst, ',')
	return append(dst, doc[1:]...), APIMEvent, nil
}
