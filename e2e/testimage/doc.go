// Package testimage builds small OCI images for imgp2p's tests, byte for byte
// the same on every run: same inputs and Go toolchain give the same layout
// files, so tests can compare CIDs and blob bytes against fixed expectations.
package testimage
