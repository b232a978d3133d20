package simulate

import (
	"github.com/apilens/apilens"
	"github.com/apilens/apilens/publisher"
)

// AppendNDJSON appends e to dst as one 4.x analytics document and a
// newline (publisher.AppendNDJSON: the simulator and the publisher's HTTP
// transport write the same documents).
func AppendNDJSON(dst []byte, e *apilens.Event) []byte { return publisher.AppendNDJSON(dst, e) }
