package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/amagent/amagent/platform/internal/console"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/server"
	"github.com/amagent/amagent/platform/internal/store"
)

func (a *app) serve(ctx context.Context, args []string) error {
	fs := a.flags("serve")
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	certFile := fs.String("tls-cert", "", "TLS certificate (PEM)")
	keyFile := fs.String("tls-key", "", "TLS private key (PEM)")
	accessKey := fs.String("access-key", "", "enrollment access key (default: the stored one, or a new one)")
	accessKeyFile := fs.String("access-key-file", "", "read the access key from this file")
	interval := fs.Duration("checkin-interval", server.DefaultCheckinInterval, "check-in interval handed to agents")
	timeout := fs.Duration("command-timeout", server.DefaultCommandTimeout, "re-offer a command when its result has not come back after this")
	flush := fs.Duration("flush-interval", server.DefaultFlushInterval, "how often check-in state (last seen, uptime, version, tz) is written, in one batch")
	maxScan := fs.Int64("max-scan-size", server.DefaultMaxScanBytes, "largest scan upload accepted, in bytes (larger is 413)")
	maxScans := fs.Int("max-scans", server.DefaultMaxScans, "scan uploads received at once, from all devices (one per device); more are 429 with Retry-After")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	tokenFile := fs.Bool("admin-token-file", true, "keep a new admin token in DIR/admin.token too; false prints it once only (the packaged unit: to the journal)")
	consoleAddr := fs.String("console", "", "serve the fleet console on this address, e.g. 127.0.0.1:8443 (TLS with --tls-cert; plain HTTP only on loopback)")
	consoleTTL := fs.Duration("console-session", console.DefaultSessionTTL, "how long a console sign-in lasts")
	history := fs.Duration("history", store.DefaultHistoryRetention, "how long scans are kept in history")
	historyScans := fs.Int("history-scans", store.DefaultHistoryPerDevice, "scans kept in history per device, at most")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	a.noTokenFile = !*tokenFile
	if err := wantArgs(pos, 0, "serve [flags]"); err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return errors.New("give both --tls-cert and --tls-key, or neither")
	}
	useTLS := *certFile != ""
	if !useTLS && !isLoopback(*listen) {
		return fmt.Errorf("refusing plain HTTP on %s: it is not a loopback address; give --tls-cert and --tls-key", *listen)
	}
	if *consoleAddr != "" && !useTLS && !isLoopback(*consoleAddr) {
		return fmt.Errorf("refusing a plain HTTP console on %s: it is not a loopback address; give --tls-cert and --tls-key", *consoleAddr)
	}
	if *history < time.Hour || *historyScans < 1 || *consoleTTL < time.Minute {
		return errors.New("--history must be at least 1h, --history-scans at least 1 and --console-session at least 1m")
	}
	if *maxScan < 1<<10 || *maxScans < 1 {
		return errors.New("--max-scan-size must be at least 1024 bytes and --max-scans at least 1")
	}
	if *interval < time.Second {
		return fmt.Errorf("--checkin-interval %v: want at least 1s", *interval)
	}
	if *accessKeyFile != "" {
		b, err := os.ReadFile(*accessKeyFile)
		if err != nil {
			return fmt.Errorf("access key file: %w", err)
		}
		*accessKey = strings.TrimSpace(string(b))
		if *accessKey == "" {
			return fmt.Errorf("access key file %s is empty", *accessKeyFile)
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level})).With("process", "amplatform")

	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := a.bootstrap(ctx, st, *accessKey); err != nil {
		return err
	}
	if err := st.SetSetting(ctx, fleet.SettingCheckinInterval, strconv.Itoa(int(*interval/time.Second))); err != nil {
		return err
	}
	var signing ed25519.PrivateKey
	if a.keyFile != "" || a.data != "" {
		if signing, err = a.signingKey(); err != nil {
			return err
		}
	}
	srv, err := server.New(ctx, server.Config{Store: st, Logger: log, CheckinInterval: *interval, CommandTimeout: *timeout, FlushInterval: *flush, SigningKey: signing,
		MaxScanBytes: *maxScan, MaxScans: *maxScans})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	backend := "sqlite " + filepath.Join(a.data, store.SQLiteFile)
	if a.database != "" {
		backend = "postgres"
	}
	log.Info("listening", "url", scheme+"://"+ln.Addr().String(), "database", backend, "checkin_interval", interval.String())
	fmt.Fprintf(a.stdout, "amplatform listening on %s://%s\n", scheme, ln.Addr())

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	flushed := make(chan error, 1)
	go func() { flushed <- srv.Run(runCtx) }()
	pruned := make(chan error, 1)
	go func() {
		pruned <- store.HistoryPruner{Store: st, Retention: *history, PerDevice: *historyScans, Report: func(p store.HistoryPruned, err error) {
			if err != nil {
				log.Error("pruning history failed", "err", err)
			} else if p.Scans+p.SoftwareSets+p.Sessions > 0 {
				log.Info("history pruned", "scans", p.Scans, "package_lists", p.SoftwareSets, "sessions", p.Sessions)
			}
		}}.Run(runCtx)
	}()
	var consoleSrv *http.Server
	if *consoleAddr != "" {
		if consoleSrv, err = a.startConsole(st, log, *consoleAddr, *consoleTTL, *interval, signing, useTLS, *certFile, *keyFile); err != nil {
			cancel()
			<-flushed
			<-pruned
			return err
		}
	}
	served := make(chan error, 1)
	go func() {
		if useTLS {
			served <- hs.ServeTLS(ln, *certFile, *keyFile)
		} else {
			served <- hs.Serve(ln)
		}
	}()
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = hs.Shutdown(sctx)
		if consoleSrv != nil {
			err = errors.Join(err, consoleSrv.Shutdown(sctx))
		}
		scancel()
	}
	cancel()
	if consoleSrv != nil {
		consoleSrv.Close()
	}
	if ferr := <-flushed; ferr != nil {
		err = errors.Join(err, ferr)
	}
	<-pruned
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// startConsole serves the fleet console on its own listener (TLS when the
// platform has a certificate).
func (a *app) startConsole(st store.Store, log *slog.Logger, addr string, ttl, interval time.Duration, signing ed25519.PrivateKey,
	useTLS bool, certFile, keyFile string) (*http.Server, error) {
	con, err := console.New(console.Config{Store: st, Logger: log.With("process", "console"), CheckinInterval: interval,
		SigningKey: signing, Secure: useTLS, SessionTTL: ttl})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	hs := &http.Server{
		Handler:           con.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	where := "the admin token"
	if a.data != "" && !a.noTokenFile {
		where = "the admin token in " + filepath.Join(a.data, fleet.AdminTokenFile)
	}
	con.Warm(context.Background())
	log.Info("console listening", "url", scheme+"://"+ln.Addr().String())
	fmt.Fprintf(a.stdout, "console on %s://%s (sign in with %s)\n", scheme, ln.Addr(), where)
	go func() {
		var err error
		if useTLS {
			err = hs.ServeTLS(ln, certFile, keyFile)
		} else {
			err = hs.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("console stopped", "err", err)
		}
	}()
	return hs, nil
}

// isLoopback reports whether a listen address binds only loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bootstrap makes sure the access key and admin token exist. A new secret
// is printed once and, with --data, kept in a 0600 file there; only its hash
// is stored in the database.
func (a *app) bootstrap(ctx context.Context, st store.Store, accessKey string) error {
	if accessKey != "" {
		if len(accessKey) < 16 {
			return errors.New("--access-key must be at least 16 characters")
		}
		if err := st.SetSetting(ctx, fleet.SettingAccessKeyHash, fleet.HashToken(accessKey)); err != nil {
			return err
		}
	} else if err := a.initSecret(ctx, st, fleet.SettingAccessKeyHash, fleet.AccessKeyFile, "access key (agents enroll with it)"); err != nil {
		return err
	}
	return a.initSecret(ctx, st, fleet.SettingAdminTokenHash, fleet.AdminTokenFile, "admin token (Authorization: Bearer for /api/)")
}

func (a *app) initSecret(ctx context.Context, st store.Store, setting, file, what string) error {
	if _, ok, err := st.Setting(ctx, setting); err != nil || ok {
		return err
	}
	tok := fleet.NewToken()
	created, err := st.InitSetting(ctx, setting, fleet.HashToken(tok))
	if err != nil || !created {
		return err // another replica made it first
	}
	where := "not stored anywhere else: keep it now"
	if a.data != "" && !(a.noTokenFile && file == fleet.AdminTokenFile) {
		p := filepath.Join(a.data, file)
		if err := fleet.WriteSecret(p, tok+"\n"); err != nil {
			return err
		}
		where = "stored in " + p
	}
	fmt.Fprintf(a.stdout, "new %s: %s (%s)\n", what, tok, where)
	return nil
}
