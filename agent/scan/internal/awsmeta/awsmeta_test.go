package awsmeta

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/amagent/amagent/agent/scandoc"
)

func TestDecideOnRecordedDMI(t *testing.T) {
	for _, tc := range []struct {
		tree   string
		aws    bool
		reason string
	}{
		{"aws-nitro", true, `sys_vendor is "Amazon EC2"`},
		{"aws-xen", true, `bios_version "4.11.amazon"`},
		{"aws-xen-uuid-only", true, "/sys/hypervisor/uuid starts with ec2"},
		{"gcp", false, `sys_vendor "Google"`},
		{"azure", false, `sys_vendor "Microsoft Corporation"`},
		{"vmware", false, `sys_vendor "VMware, Inc."`}, // product_uuid starts with ec2, by design of the test
		{"baremetal", false, `sys_vendor "Dell Inc."`},
		{"xen-other", false, `sys_vendor "Xen"`},
		{"does-not-exist", false, "no DMI data"},
	} {
		t.Run(tc.tree, func(t *testing.T) {
			d := ReadDMI(os.DirFS(filepath.Join("testdata", "dmi", tc.tree)))
			aws, why := Decide(d)
			if aws != tc.aws || !strings.Contains(why, tc.reason) {
				t.Errorf("Decide = %v, %q; want %v and a reason with %q", aws, why, tc.aws, tc.reason)
			}
		})
	}
}

func TestDecideRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    DMI
		want bool
	}{
		{"bios vendor only", DMI{BIOSVendor: "Amazon EC2"}, true},
		{"asset tag 17", DMI{BoardAssetTag: "i-0123456789abcdef0"}, true},
		{"asset tag 8", DMI{BoardAssetTag: "i-0123abcd"}, true},
		{"asset tag other", DMI{BoardAssetTag: "i-xyz"}, false},
		{"product uuid on xen", DMI{SysVendor: "Xen", ProductUUID: "EC2A1B2C-0000-0000-0000-000000000000"}, true},
		{"product uuid not xen", DMI{SysVendor: "QEMU", ProductUUID: "ec2a1b2c-0000-0000-0000-000000000000"}, false},
		{"hypervisor uuid not xen", DMI{HypervisorUUID: "ec2a1b2c-0000"}, false},
		{"lowercase vendor", DMI{SysVendor: "amazon ec2 "}, true},
		{"empty", DMI{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := Decide(tc.d); got != tc.want {
				t.Errorf("Decide(%+v) = %v (%s), want %v", tc.d, got, why, tc.want)
			}
		})
	}
	// A file system with DMI files but garbage in them decides "no".
	fsys := fstest.MapFS{"sys/class/dmi/id/sys_vendor": {Data: []byte("\x00\xff garbage")}}
	if aws, _ := Decide(ReadDMI(fsys)); aws {
		t.Error("garbage DMI taken for AWS")
	}
}

// imds plays the metadata service with IMDSv2 rules: a PUT with a TTL
// header gets a token; every GET must carry it or gets 401.
type imds struct {
	mu       sync.Mutex
	values   map[string]string // path under /latest/meta-data/ -> value
	status   map[string]int    // forced status per request path
	requests []string
	noToken  int    // GETs that came without a valid token
	location string // Location header sent with a forced 3xx status
}

const testToken = "AQAEAKtestTOKENvalue=="

func (s *imds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	st := s.status[r.URL.Path]
	s.mu.Unlock()
	if st == -1 { // hang until the client gives up
		<-r.Context().Done()
		return
	}
	if st != 0 {
		if s.location != "" {
			w.Header().Set("Location", s.location)
		}
		w.WriteHeader(st)
		return
	}
	switch {
	case r.URL.Path == "/latest/api/token":
		if r.Method != http.MethodPut {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Write([]byte(testToken))
	case strings.HasPrefix(r.URL.Path, "/latest/meta-data/"):
		if r.Header.Get("X-aws-ec2-metadata-token") != testToken {
			s.mu.Lock()
			s.noToken++
			s.mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		v, ok := s.values[strings.TrimPrefix(r.URL.Path, "/latest/meta-data/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(v))
	default:
		http.NotFound(w, r)
	}
}

func newIMDS(t *testing.T) (*imds, *httptest.Server) {
	s := &imds{status: map[string]int{}, values: map[string]string{
		"instance-id":                 "i-0abcd1234ef567890",
		"instance-type":               "m5.large",
		"placement/region":            "eu-west-1",
		"placement/availability-zone": "eu-west-1b",
		"ami-id":                      "ami-0123456789abcdef0",
	}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func TestFetch(t *testing.T) {
	s, srv := newIMDS(t)
	a, err := Client{Endpoint: srv.URL}.Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := scandoc.AWS{InstanceID: "i-0abcd1234ef567890", InstanceType: "m5.large", Region: "eu-west-1", AvailabilityZone: "eu-west-1b", AMIID: "ami-0123456789abcdef0"}
	if *a != want {
		t.Errorf("got %+v, want %+v", *a, want)
	}
	if s.noToken != 0 {
		t.Errorf("%d requests without the token (IMDSv1)", s.noToken)
	}
	if len(s.requests) != 6 || s.requests[0] != "PUT /latest/api/token" {
		t.Errorf("requests = %q", s.requests)
	}

	// The server really refuses tokenless requests (so the check above
	// means something).
	resp, err := http.Get(srv.URL + "/latest/meta-data/instance-id")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("tokenless GET: HTTP %d", resp.StatusCode)
	}
}

func TestFetchFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(s *imds)
		partial bool
		want    string
		check   func(t *testing.T, a *scandoc.AWS)
	}{
		{name: "token refused", setup: func(s *imds) { s.status["/latest/api/token"] = http.StatusForbidden }, want: "IMDSv2 token: PUT /latest/api/token: HTTP 403"},
		{name: "token hangs", setup: func(s *imds) { s.status["/latest/api/token"] = -1 }, want: "deadline exceeded"},
		{name: "no instance id", setup: func(s *imds) { delete(s.values, "instance-id") }, want: "instance-id: GET /latest/meta-data/instance-id: HTTP 404"},
		{name: "garbage instance id", setup: func(s *imds) { s.values["instance-id"] = "<html>oops</html>" }, want: "not an EC2 instance id"},
		{name: "multi-word answer", setup: func(s *imds) { s.values["instance-id"] = "i-0abcd123 extra" }, want: "not a single printable word"},
		{name: "empty answer", setup: func(s *imds) { s.values["instance-id"] = "" }, want: "empty answer"},
		{name: "huge answer", setup: func(s *imds) { s.values["instance-id"] = strings.Repeat("i", 10000) }, want: "longer than"},
		{name: "redirect not followed", setup: func(s *imds) {
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("redirect followed to %s", r.URL)
			}))
			t.Cleanup(other.Close)
			s.status["/latest/meta-data/instance-id"] = http.StatusFound
			s.location = other.URL + "/elsewhere"
		}, want: "HTTP 302"},
		{name: "ami fails", setup: func(s *imds) { s.status["/latest/meta-data/ami-id"] = http.StatusInternalServerError }, partial: true, want: "ami-id: GET /latest/meta-data/ami-id: HTTP 500",
			check: func(t *testing.T, a *scandoc.AWS) {
				if a.InstanceType != "m5.large" || a.AMIID != "" {
					t.Errorf("partial = %+v", a)
				}
			}},
		{name: "region from zone", setup: func(s *imds) { delete(s.values, "placement/region") }, partial: true,
			check: func(t *testing.T, a *scandoc.AWS) {
				if a.Region != "eu-west-1" {
					t.Errorf("region = %q", a.Region)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := newIMDS(t)
			tc.setup(s)
			a, err := Client{Endpoint: srv.URL, Timeout: 100 * time.Millisecond}.Fetch(t.Context())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.partial != (a != nil) {
				t.Fatalf("doc = %+v, partial = %v", a, tc.partial)
			}
			if tc.check != nil {
				tc.check(t, a)
			}
		})
	}
}

// failTransport fails the test on any request: nothing may be sent.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
	return nil, context.Canceled
}

func TestCheckEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"":                        DefaultEndpoint,
		"http://169.254.169.254/": "http://169.254.169.254",
		"http://[fd00:ec2::254]":  "http://[fd00:ec2::254]",
		"http://127.0.0.1:8080":   "http://127.0.0.1:8080",
		"http://localhost:1234/":  "http://localhost:1234",
	} {
		if got, err := CheckEndpoint(in); err != nil || got != want {
			t.Errorf("CheckEndpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"http://example.com", "https://169.254.169.254", "ftp://127.0.0.1", "http://user@127.0.0.1", "http://10.0.0.1", "::", "http://127.0.0.1/?x=1"} {
		if _, err := CheckEndpoint(bad); err == nil {
			t.Errorf("CheckEndpoint(%q): accepted", bad)
		}
		// and no request is even attempted
		if _, err := (Client{Endpoint: bad, HTTP: &http.Client{Transport: failTransport{t}}}).Fetch(t.Context()); err == nil {
			t.Errorf("Fetch with endpoint %q: no error", bad)
		}
	}
}

func TestRegionFromAZ(t *testing.T) {
	for az, want := range map[string]string{"us-east-1a": "us-east-1", "ap-southeast-2c": "ap-southeast-2", "us-west-2-lax-1a": "", "": "", "x": "", "us-east-1": ""} {
		if got := RegionFromAZ(az); got != want {
			t.Errorf("RegionFromAZ(%q) = %q, want %q", az, got, want)
		}
	}
}
