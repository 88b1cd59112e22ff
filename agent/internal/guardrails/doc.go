// Package guardrails holds repository-wide tests that keep the tree honest:
// every Go package has a doc comment, and the module's direct dependencies
// are exactly the reviewed list, so that adding one is a visible decision.
package guardrails
