package main

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/databridge/thrift"
	"github.com/apilens/apilens/ingest"
	"github.com/apilens/apilens/web"
)

// The pipeline is what the data-bridge Core submits events to.
var _ databridge.EventSink = (*ingest.Pipeline)(nil)

// openDatabridge starts the WSO2 data-bridge receivers of [databridge]:
// one Core (sessions, stream definitions) shared by every listener, so a
// gateway may log in on a TLS port and publish on a plain one.
func (m *Main) openDatabridge(logs *ingest.LogIngester) error {
	cfg := m.Config
	dc := cfg.Databridge
	auth := web.NewAuthenticator(m.Store)
	m.DatabridgeCore = databridge.NewCore(databridge.CoreOptions{
		Auth:   auth.Password,
		Events: m.Pipeline,
		Logs: func(ctx context.Context, recs []apilens.LogRecord) error {
			_, err := logs.Records(ctx, "", recs)
			return err
		},
		Logger: m.Logger,
	})
	var tlsConfig *tls.Config
	if dc.BinaryTLSAddr != "" || dc.ThriftTLSAddr != "" {
		var err error
		if tlsConfig, err = m.databridgeTLS(); err != nil {
			return err
		}
	}
	if dc.BinaryAddr != "" || dc.BinaryTLSAddr != "" {
		m.Binary = databridge.NewBinaryServer(m.DatabridgeCore, databridge.BinaryOptions{
			Addr:      dc.BinaryAddr,
			TLSAddr:   dc.BinaryTLSAddr,
			TLSConfig: tlsConfig,
			Limits:    databridge.Limits{MaxFrameBytes: int(cfg.Ingest.MaxBodyBytes)},
		})
		if err := m.Binary.Open(); err != nil {
			return err
		}
	}
	if dc.ThriftAddr == "" && dc.ThriftTLSAddr == "" {
		return nil
	}
	// Thrift, as the real receiver: the secure service (connect) on the TLS
	// port, the event service (publish) on the plain one.
	m.Thrift = thrift.NewServer(thrift.Options{Core: m.DatabridgeCore, Logger: m.Logger, TLSConfig: tlsConfig,
		MaxMessageSize: int32(min(int64(cfg.Ingest.MaxBodyBytes), 1<<30))})
	if dc.ThriftAddr != "" {
		if err := m.Thrift.Listen(dc.ThriftAddr, false); err != nil {
			return fmt.Errorf("data-bridge Thrift listener: %w", err)
		}
	}
	if dc.ThriftTLSAddr != "" {
		if err := m.Thrift.Listen(dc.ThriftTLSAddr, true); err != nil {
			return fmt.Errorf("data-bridge Thrift TLS listener: %w", err)
		}
	}
	return nil
}

// databridgeTLS returns the TLS configuration of the data-bridge's TLS
// listeners: [tls] cert_file/key_file, or else the self-signed certificate
// of the data directory, generated on first use, whose fingerprint is
// logged so a gateway's trust store can be checked against it.
func (m *Main) databridgeTLS() (*tls.Config, error) {
	cfg := m.Config
	if m.databridgeTLSConfig != nil {
		return m.databridgeTLSConfig, nil
	}
	var cert tls.Certificate
	var err error
	if cfg.TLS.Enabled() {
		if cert, err = tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile); err != nil {
			return nil, fmt.Errorf("load TLS certificate for the data-bridge: %w", err)
		}
	} else {
		var fp string
		if cert, fp, err = databridge.SelfSignedCertificate(cfg.Server.DataDir); err != nil {
			return nil, err
		}
		m.Logger.Info("data-bridge TLS uses the self-signed certificate of the data directory",
			"component", "databridge", "file", databridge.CertFile, "sha256_fingerprint", fp)
	}
	m.databridgeTLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return m.databridgeTLSConfig, nil
}
