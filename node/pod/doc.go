// Package pod is the runtime-agnostic, deterministic half of Orrery's rkt: the appc image
// and pod manifests with their validation, image IDs, resource quantities, the pod lifecycle
// and a Manager component that drives pods through it.
//
// # Images
//
// An image is an appc ACI: a tar holding a JSON "manifest" and a "rootfs/" directory. Its ID
// is "sha512-" followed by the hex SHA-512 of the uncompressed tar, so the ID both names and
// verifies the content. ParseImageManifest decodes and validates a manifest and reports the
// first bad field by its JSON path ("app.exec: required").
//
// # Lifecycle
//
// A pod moves embryo -> preparing -> prepared -> running -> exited -> garbage, with aborted
// for a failed preparation. Next is the transition function; every driver (the Manager in
// the simulator, the CLI's on-disk pod store on a real host) applies transitions through it,
// so an illegal move is refused in one place.
//
// # Manager
//
// Manager is a component.Component: clients ask it to run, stop, inspect and collect pods;
// it persists every transition (Append then Sync before it answers) and asks its driver to
// act through component.External effects (KindPrepare, KindStart, KindStop, KindProbe,
// KindCleanup); results come back as component.ExternalResult inputs. After a restart it
// rebuilds its pods from disk and probes every pod it believed running, so it converges on
// the pods' true state even when an exit was reported to a process that has since died.
//
// The simulator runs the Manager against a fake runtime (package sim/podsim); on a real host
// the runtime is host/podrt.
package pod
