//go:build !unix

package main

// lockDir does nothing where flock is not available.
func lockDir(string) (func() error, error) { return func() error { return nil }, nil }
