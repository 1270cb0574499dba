// Package podrt is the Linux pod runtime: it prepares pods from the image store, runs them
// in their own mount, pid, uts, ipc (and net) namespaces over an overlayfs root, confines
// them in a cgroup, networks them, records how they end, and collects them.
//
// # Processes
//
// The caller of Run is stage0 and stays in the host's namespaces as the pod's supervisor:
// it holds the pod's lock (so every other process can tell a live pod from a dead one),
// creates the cgroup and the network, and waits. It starts stage1 by re-executing its own
// binary (Config.Stage1) with the environment variable ORRERY_POD_STAGE1 naming the pod's
// stage1 file, in fresh namespaces. Stage1 (Stage1Main) waits until the supervisor has
// placed it in the cgroup and the network, mounts the root, pivots into it and execs the
// app, which so becomes PID 1 of the pod. When the app ends, the pid namespace and every
// mount in it end with it; the supervisor records the exit status (and whether the OOM
// killer fired), removes the cgroup and releases the lock.
//
// # Pod directories
//
// Each pod lives in DATA/pods/NAME: pod.json (its record: state, image, limits, network,
// exit status), lock, log (the app's output), upper/ and work/ (the overlay's writable
// layer: the app's writes land here, never in the shared tree store) and rootfs/ (the
// mount point). States follow pod.Next; a record that says running while nobody holds the
// lock belongs to a supervisor that died, and reads as exited.
package podrt
