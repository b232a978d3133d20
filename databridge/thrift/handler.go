package thrift

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/databridge/thrift/wire"
)

// handler implements both services on a databridge.Core: the secure one is
// a superset of the plain one, with the same signatures.
//
// An error it returns that is one of the call's declared exceptions reaches
// the agent as that exception; any other error reaches it as a
// TApplicationException (INTERNAL_ERROR), on which the agent deactivates the
// endpoint and re-routes the batch, which is right only for the server's
// own faults.
type handler struct {
	core *databridge.Core
	log  *slog.Logger
	// builtin holds the ids of the built-in streams, which clients may
	// neither redefine differently nor delete: the gateways rely on them.
	builtin map[string]bool

	// logged holds the undefined streams already logged, so each is logged
	// once (up to maxLogged, so that a client inventing stream ids cannot
	// grow it without bound).
	mu     sync.Mutex
	logged map[string]bool
}

const maxLogged = 1000

// once reports whether the undefined stream id is new, remembering it.
func (h *handler) once(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.logged[id] || len(h.logged) >= maxLogged {
		return false
	}
	h.logged[id] = true
	return true
}

var (
	_ wire.ThriftSecureEventTransmissionService = (*handler)(nil)
	_ wire.ThriftEventTransmissionService       = (*handler)(nil)
)

// Connect logs a publisher in; the agent calls it on the TLS auth port.
func (h *handler) Connect(ctx context.Context, user, password string) (string, error) {
	sid, err := h.core.Login(ctx, user, password)
	if errors.Is(err, databridge.ErrAuthentication) {
		// The Core has logged it.
		return "", &wire.ThriftAuthenticationException{Message: err.Error()}
	}
	return sid, err
}

// Disconnect ends a session; an unknown one is not an error.
func (h *handler) Disconnect(_ context.Context, sessionID string) error {
	h.core.Logout(sessionID)
	return nil
}

// Publish decodes a bundle with the Core's stream definitions and publishes
// its events, returning once they are durable.
func (h *handler) Publish(ctx context.Context, b *wire.ThriftEventBundle) error {
	if b == nil {
		b = &wire.ThriftEventBundle{}
	}
	sid := b.GetSessionId()
	if _, err := h.core.Session(sid); err != nil {
		return sessionExpired(err)
	}
	events, err := DecodeBundle(b, h.core.Registry())
	var undef *UndefinedStreamError
	switch {
	case errors.As(err, &undef):
		if h.once(undef.StreamID) {
			h.log.Warn("events of an undefined stream: their batches are refused", "stream", undef.StreamID, "remote", remoteAddr(ctx))
		}
		return &wire.ThriftUndefinedEventTypeException{Message: err.Error()}
	case err != nil:
		// The lists do not match the definitions, so the sender encodes
		// with other ones and would get the same answer from any receiver.
		// The undefined-event-type exception makes the agent drop the batch
		// and keep the endpoint; any other would make it re-route the batch
		// to the next receiver and take this one out of service.
		h.log.Warn("malformed event bundle: batch refused", "remote", remoteAddr(ctx), "events", b.GetEventNum(), "err", err)
		return &wire.ThriftUndefinedEventTypeException{Message: err.Error()}
	}
	return h.publishError(ctx, h.core.Publish(ctx, sid, events))
}

// publishError maps an error of Core.Publish to the exception of publish.
func (h *handler) publishError(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, databridge.ErrSessionExpired):
		return sessionExpired(err)
	case errors.Is(err, databridge.ErrUndefinedStream):
		return &wire.ThriftUndefinedEventTypeException{Message: err.Error()}
	}
	h.log.Error("publish failed: batch not kept", "remote", remoteAddr(ctx), "err", err)
	return err
}

// DefineStream adds a client's stream definition and returns its id. A
// definition equal to the one already known (a built-in one, say) is
// accepted as is; a different one under the same id of a built-in stream is
// refused, as the WSO2 receiver refuses to redefine any stream.
func (h *handler) DefineStream(_ context.Context, sessionID, definition string) (string, error) {
	if _, err := h.core.Session(sessionID); err != nil {
		return "", sessionExpired(err)
	}
	def, err := databridge.ParseStreamDefinition([]byte(definition))
	if err != nil {
		return "", &wire.ThriftMalformedStreamDefinitionException{Message: err.Error()}
	}
	id := def.ID()
	reg := h.core.Registry()
	if old := reg.Lookup(id); old != nil {
		if sameAttrs(old, def) {
			return id, nil
		}
		if h.builtin[id] {
			return "", &wire.ThriftDifferentStreamDefinitionAlreadyDefinedException{
				Message: fmt.Sprintf("stream %s is built in and defined differently", id),
			}
		}
	}
	if err := reg.Define(def); err != nil {
		return "", &wire.ThriftStreamDefinitionException{Message: err.Error()}
	}
	h.log.Info("stream defined", "stream", id)
	return id, nil
}

// FindStreamId returns the id of a defined stream; an empty version means
// the default one, as in a definition.
func (h *handler) FindStreamId(_ context.Context, sessionID, name, version string) (string, error) {
	if _, err := h.core.Session(sessionID); err != nil {
		return "", sessionExpired(err)
	}
	if version == "" {
		version = databridge.DefaultVersion
	}
	id := name + ":" + version
	if h.core.Registry().Lookup(id) == nil {
		return "", &wire.ThriftNoStreamDefinitionExistException{Message: fmt.Sprintf("no definition of stream %s", id)}
	}
	return id, nil
}

// DeleteStreamById removes a client's definition; it reports whether there
// was one. Built-in streams are never removed.
func (h *handler) DeleteStreamById(_ context.Context, sessionID, streamID string) (bool, error) {
	if _, err := h.core.Session(sessionID); err != nil {
		return false, sessionExpired(err)
	}
	if h.builtin[streamID] {
		h.log.Warn("refused to delete a built-in stream", "stream", streamID)
		return false, nil
	}
	ok := h.core.Registry().Delete(streamID)
	if ok {
		h.log.Info("stream deleted", "stream", streamID)
	}
	return ok, nil
}

// DeleteStreamByNameVersion is DeleteStreamById with the id in two parts.
func (h *handler) DeleteStreamByNameVersion(ctx context.Context, sessionID, name, version string) (bool, error) {
	return h.DeleteStreamById(ctx, sessionID, name+":"+version)
}

func sessionExpired(err error) error {
	return &wire.ThriftSessionExpiredException{Message: err.Error()}
}

// sameAttrs reports whether two definitions give events the same values.
func sameAttrs(a, b *databridge.StreamDef) bool {
	return slices.Equal(a.Meta, b.Meta) && slices.Equal(a.Correlation, b.Correlation) && slices.Equal(a.Payload, b.Payload)
}
