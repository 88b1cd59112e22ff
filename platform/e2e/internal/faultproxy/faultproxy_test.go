package faultproxy

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// echo serves one echo listener on loopback.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(t *testing.T, addr string, msg []byte) ([]byte, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	c.(*net.TCPConn).CloseWrite()
	return io.ReadAll(c)
}

func TestCleanProxyForwards(t *testing.T) {
	p, err := New(1, echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	msg := bytes.Repeat([]byte("hello "), 5000)
	got, err := roundTrip(t, p.Addr(), msg)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("clean proxy: %d bytes back, %v", len(got), err)
	}
}

func TestEachFault(t *testing.T) {
	msg := bytes.Repeat([]byte("POST /x HTTP/1.1\r\n"), 400)
	for _, tc := range []struct {
		name  string
		f     Faults
		check func(Counts, []byte, error) bool
	}{
		{"cut", Faults{Cut: 1}, func(c Counts, b []byte, err error) bool { return c.Cut == 1 && len(b) < len(msg) }},
		{"reset", Faults{Reset: 1}, func(c Counts, b []byte, err error) bool { return c.Reset == 1 && len(b) < len(msg) }},
		{"garble", Faults{Garble: 1, GarbleRequests: true}, func(c Counts, b []byte, err error) bool {
			return c.Garbled >= 1 && len(b) == len(msg) && !bytes.Equal(b[:4], msg[:4]) && bytes.Equal(b[4:], msg[4:])
		}},
		{"delay", Faults{Delay: 1, MaxDelay: 5 * time.Millisecond}, func(c Counts, b []byte, err error) bool { return c.Delayed >= 1 && bytes.Equal(b, msg) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(7, echo(t))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			p.SetFaults(tc.f)
			got, err := roundTrip(t, p.Addr(), msg)
			if c := p.Counts(); !tc.check(c, got, err) {
				t.Fatalf("%s: %s; %d of %d bytes back, %v", tc.name, c, len(got), len(msg), err)
			}
		})
	}
}

func TestHoldAndFailover(t *testing.T) {
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	p, err := New(3, deadAddr, echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Hold(true)
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() { b, err := roundTrip(t, p.Addr(), []byte("ping")); ch <- res{b, err} }()
	select {
	case r := <-ch:
		t.Fatalf("answer came back while held: %q %v", r.b, r.err)
	case <-time.After(200 * time.Millisecond):
	}
	p.Hold(false)
	r := <-ch
	if string(r.b) != "ping" || p.Counts().Held == 0 || p.Counts().DialFailed != 1 {
		t.Fatalf("after hold: %q %v %s", r.b, r.err, p.Counts())
	}
}
