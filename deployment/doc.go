// Package deployment holds no code: its tests check the deployment files beside
// it — the Kubernetes manifests (strictly decoded into the API types), the
// compose stack, the systemd units, the Dockerfiles, and every configuration
// file that tabularium or tabwitness reads (against the commands' own
// configuration structs and, by running the real binaries, their validation).
// See README.md for what each check covers and what it does not.
package deployment
