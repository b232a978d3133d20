// Package publisher sends gateway analytics events to apilens (or to a
// WSO2 analytics worker) the way a WSO2 API Manager gateway's data agent
// does: receiver URLs in groups (REFERENCE §11), a bounded queue per
// group, batches, load-balancing or fail-over between the endpoints of a
// group, reconnection with back-off, and counted drops when no receiver
// takes the events. It speaks the data-bridge binary and Thrift
// transports (3.x stream events) and apilens's HTTP API (4.x JSON).
//
// It is the client half of package databridge, used by `apilens
// simulate`, and importable by Go gateways.
package publisher
