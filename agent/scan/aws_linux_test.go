//go:build linux

package scan

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestGetAWSIDOffAWSSendsNothing runs the GetAWSID collector on recorded
// DMI trees of machines that are not EC2 instances, with an HTTP client
// whose transport fails the test on any request and an endpoint that is
// the real metadata address: nothing may be sent, and no AWS part reported.
func TestGetAWSIDOffAWSSendsNothing(t *testing.T) {
	for _, tree := range []string{"gcp", "azure", "vmware", "baremetal", "xen-other"} {
		t.Run(tree, func(t *testing.T) {
			env := &Env{
				FS:          os.DirFS(filepath.Join("internal", "awsmeta", "testdata", "dmi", tree)),
				HTTP:        &http.Client{Transport: noRequests{t}},
				AWSEndpoint: "http://169.254.169.254",
			}
			if on, why := platform.OnAWS(t.Context(), env); on {
				t.Fatalf("OnAWS = true (%s)", why)
			}
			part, err := getAWSID(t.Context(), env)
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := part.(AWSPart); !ok || p.AWS != nil {
				t.Errorf("part = %#v, want an empty AWSPart", part)
			}
		})
	}
	// The same client on an AWS tree does try (and the transport refuses),
	// so the test above is not vacuous.
	env := &Env{
		FS:          os.DirFS(filepath.Join("internal", "awsmeta", "testdata", "dmi", "aws-nitro")),
		HTTP:        &http.Client{Transport: refuseAll{}},
		AWSEndpoint: "http://169.254.169.254",
	}
	if _, err := getAWSID(t.Context(), env); err == nil {
		t.Error("on an AWS DMI tree GetAWSID did not try the metadata service")
	}
}

type refuseAll struct{}

func (refuseAll) RoundTrip(*http.Request) (*http.Response, error) { return nil, http.ErrHandlerTimeout }
