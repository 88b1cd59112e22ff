package scan

import (
	"context"
	"io/fs"

	"github.com/amagent/amagent/agent/scan/internal/awsmeta"
	"github.com/amagent/amagent/agent/scandoc"
)

// awsFromDMI decides from the DMI files under sys/class/dmi/id and
// sys/hypervisor of fsys (a file system rooted at "/") whether this is an
// EC2 instance, and says why. It reads files only; see awsmeta.Decide for
// the rules.
func awsFromDMI(fsys fs.FS) (bool, string) {
	return awsmeta.Decide(awsmeta.ReadDMI(fsys))
}

// fetchAWS reads the instance identity from the metadata service at
// env.AWSEndpoint (default http://169.254.169.254) with IMDSv2: a token
// PUT, then one GET each for instance id, type, availability zone, region
// and AMI id, each bounded by one second. env.HTTP, when set, is the
// client (tests give a loopback one); otherwise a client that bypasses
// proxies is used. Callers ask only after OnAWS said yes.
func fetchAWS(ctx context.Context, env *Env) (*scandoc.AWS, error) {
	return awsmeta.Client{Endpoint: env.AWSEndpoint, HTTP: env.HTTP}.Fetch(ctx)
}
