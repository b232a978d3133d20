package publisher

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apilens/apilens"
)

// AppendNDJSON appends e to dst as one 4.x analytics document and a
// newline. It writes what a gateway writes: a fault event carries
// errorType, errorCode and errorMessage but no response fields (the four
// latencies and responseCacheHit), a response event the reverse; empty
// strings are left out; requestTimestamp is RFC 3339 in UTC with
// milliseconds; an empty eventType is written as "response". Properties
// must hold a JSON object (or be empty): it is copied as it is.
// encoding/json reads the document back into an equal apilens.Event.
//
// It is written by hand because the simulator shares the machine with the
// server it loads: it must cost far less than decoding does.
func AppendNDJSON(dst []byte, e *apilens.Event) []byte {
	dst = append(dst, `{"requestTimestamp":"`...)
	dst = appendTimestamp(dst, e.RequestTimestamp)
	dst = append(dst, '"')
	dst = appendField(dst, `,"correlationId":"`, e.CorrelationID)
	dst = appendField(dst, `,"keyType":"`, e.KeyType)
	fault := e.EventType == apilens.EventFault
	if fault {
		dst = appendField(dst, `,"errorType":"`, e.ErrorType)
		dst = append(dst, `,"errorCode":`...)
		dst = strconv.AppendInt(dst, int64(e.ErrorCode), 10)
		dst = appendField(dst, `,"errorMessage":"`, e.ErrorMessage)
	}
	dst = appendField(dst, `,"apiId":"`, e.APIID)
	dst = appendField(dst, `,"apiType":"`, e.APIType)
	dst = appendField(dst, `,"apiName":"`, e.APIName)
	dst = appendField(dst, `,"apiVersion":"`, e.APIVersion)
	dst = appendField(dst, `,"apiCreator":"`, e.APICreator)
	dst = appendField(dst, `,"apiMethod":"`, e.APIMethod)
	dst = appendField(dst, `,"apiContext":"`, e.APIContext)
	dst = appendField(dst, `,"apiResourceTemplate":"`, e.APIResourceTemplate)
	dst = appendField(dst, `,"apiCreatorTenantDomain":"`, e.APICreatorTenantDomain)
	dst = appendField(dst, `,"destination":"`, e.Destination)
	dst = appendField(dst, `,"applicationId":"`, e.ApplicationID)
	dst = appendField(dst, `,"applicationName":"`, e.ApplicationName)
	dst = appendField(dst, `,"applicationOwner":"`, e.ApplicationOwner)
	dst = appendField(dst, `,"regionId":"`, e.RegionID)
	dst = appendField(dst, `,"gatewayType":"`, e.GatewayType)
	dst = appendField(dst, `,"userName":"`, e.UserName)
	dst = append(dst, `,"proxyResponseCode":`...)
	dst = strconv.AppendInt(dst, int64(e.ProxyResponseCode), 10)
	dst = append(dst, `,"targetResponseCode":`...)
	dst = strconv.AppendInt(dst, int64(e.TargetResponseCode), 10)
	if !fault {
		if e.ResponseCacheHit {
			dst = append(dst, `,"responseCacheHit":true`...)
		} else {
			dst = append(dst, `,"responseCacheHit":false`...)
		}
		dst = append(dst, `,"responseLatency":`...)
		dst = strconv.AppendInt(dst, e.ResponseLatency, 10)
		dst = append(dst, `,"backendLatency":`...)
		dst = strconv.AppendInt(dst, e.BackendLatency, 10)
		dst = append(dst, `,"requestMediationLatency":`...)
		dst = strconv.AppendInt(dst, e.RequestMediationLatency, 10)
		dst = append(dst, `,"responseMediationLatency":`...)
		dst = strconv.AppendInt(dst, e.ResponseMediationLatency, 10)
	}
	dst = appendField(dst, `,"userIp":"`, e.UserIP)
	dst = appendField(dst, `,"userAgentHeader":"`, e.UserAgentHeader)
	if len(e.Properties) > 0 {
		dst = append(dst, `,"properties":`...)
		dst = append(dst, e.Properties...)
	}
	switch {
	case fault:
		dst = append(dst, `,"eventType":"fault"}`+"\n"...)
	case e.EventType == "" || e.EventType == apilens.EventResponse:
		dst = append(dst, `,"eventType":"response"}`+"\n"...)
	default:
		dst = appendField(dst, `,"eventType":"`, e.EventType)
		dst = append(dst, "}\n"...)
	}
	return dst
}

// appendField appends key (which opens the string value) and s, closed,
// unless s is empty.
func appendField(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, key...)
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// plain marks the bytes that stand for themselves inside a JSON string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendEscaped appends s escaped for a JSON string, as encoding/json
// would read it back: invalid UTF-8 becomes U+FFFD, like encoding/json
// writes it.
func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a second look: catalog
		// strings are plain ASCII, and this is most of the encoder's time.
		for i+8 <= len(s) && !special(load64(s, i)) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript readers.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

const hexDigits = "0123456789abcdef"

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// special reports whether any byte of x is a control character, '"',
// '\\' or not ASCII (the bit tricks of "Bit Twiddling Hacks": a byte
// below n, a zero byte).
func special(x uint64) bool {
	quote, backslash := x^('"'*ones), x^('\\'*ones)
	return (x|(x-0x20*ones)|(quote-ones)&^quote|(backslash-ones)&^backslash)&highs != 0
}

// appendTimestamp appends t as 2006-01-02T15:04:05.000Z.
func appendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	}
	hour, min, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}
