package scan

import (
	"context"
	"io/fs"

	"github.com/amagent/amagent/agent/scandoc"
)

// awsFromDMI decides from local DMI evidence whether this is an EC2 instance.
func awsFromDMI(fsys fs.FS) (bool, string) {
	return false, "not implemented yet"
}

// fetchAWS asks the instance metadata service (IMDSv2).
func fetchAWS(ctx context.Context, env *Env) (*scandoc.AWS, error) {
	return nil, errAWSNotImplemented
}

var errAWSNotImplemented = fsErr("fetchAWS not implemented yet")

type fsErr string

func (e fsErr) Error() string { return string(e) }
