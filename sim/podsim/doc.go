// Package podsim simulates a pod runtime for the simulator: a deterministic fake that
// executes the pod Manager's actions with seeded delays and failures, keeps the ground
// truth of every pod, and reports the runtime-level violations a Manager could cause (a pod
// started twice, a running pod cleaned up). Other components that schedule pods (fleet)
// can run against it too.
package podsim
