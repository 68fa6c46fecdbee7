// Package e2e holds the end-to-end tests that run against the real local lab
// (internal/lab). They are behind the build tag e2e and need root:
//
//	go test -tags e2e ./e2e/ -v -count=1 -timeout 20m
//
// TestMain brings the lab up once per run and always takes it down again;
// set E2E_KEEP_LAB=1 to leave it running for a look around afterwards.
package e2e
