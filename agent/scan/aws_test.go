package scan

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// TestFetchAWSLoopback runs fetchAWS against a loopback server that plays
// IMDSv2 (a token is required; without it, 401).
func TestFetchAWSLoopback(t *testing.T) {
	var sawToken bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/latest/api/token" && r.Method == http.MethodPut && r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") != "" {
			sawToken = true
			w.Write([]byte("tok"))
			return
		}
		if r.Header.Get("X-aws-ec2-metadata-token") != "tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		v := map[string]string{
			"/latest/meta-data/instance-id":                 "i-0123456789abcdef0",
			"/latest/meta-data/instance-type":               "t3.micro",
			"/latest/meta-data/placement/region":            "us-east-2",
			"/latest/meta-data/placement/availability-zone": "us-east-2a",
			"/latest/meta-data/ami-id":                      "ami-0fedcba9876543210",
		}[r.URL.Path]
		if v == "" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(v))
	}))
	defer srv.Close()
	a, err := fetchAWS(t.Context(), &Env{AWSEndpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if !sawToken || a.InstanceID != "i-0123456789abcdef0" || a.InstanceType != "t3.micro" || a.Region != "us-east-2" || a.AvailabilityZone != "us-east-2a" || a.AMIID != "ami-0fedcba9876543210" {
		t.Errorf("got %+v (token asked: %v)", a, sawToken)
	}
	if _, err := fetchAWS(t.Context(), &Env{AWSEndpoint: "http://192.0.2.1"}); err == nil || !strings.Contains(err.Error(), "only to 169.254.169.254") {
		t.Errorf("non-metadata endpoint: %v", err)
	}
}

// noRequests is a transport that fails the test on any request.
type noRequests struct{ t *testing.T }

func (n noRequests) RoundTrip(r *http.Request) (*http.Response, error) {
	n.t.Errorf("request sent to %s although the machine is not on AWS", r.URL)
	return nil, http.ErrHandlerTimeout
}

func TestAWSFromDMI(t *testing.T) {
	dmi := func(kv ...string) fstest.MapFS {
		m := fstest.MapFS{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1] + "\n")}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		want bool
	}{
		{"nitro", dmi("sys/class/dmi/id/sys_vendor", "Amazon EC2"), true},
		{"xen", dmi("sys/class/dmi/id/sys_vendor", "Xen", "sys/class/dmi/id/bios_version", "4.11.amazon"), true},
		{"xen uuid", dmi("sys/hypervisor/type", "xen", "sys/hypervisor/uuid", "ec2f0000-1111-2222-3333-444455556666"), true},
		{"gcp", dmi("sys/class/dmi/id/sys_vendor", "Google", "sys/class/dmi/id/product_name", "Google Compute Engine"), false},
		{"nothing", fstest.MapFS{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := awsFromDMI(tc.fsys); got != tc.want || why == "" {
				t.Errorf("awsFromDMI = %v, %q; want %v with a reason", got, why, tc.want)
			}
		})
	}
}
