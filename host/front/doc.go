// Package front calls the front of an rsm server (node/rsm's Call, Answer, Pushed and
// Abandon) from goroutines on the host the server runs on: a gRPC request becomes a call
// of the server that host/driver runs, and the answer, or a stream's pushes, come back to
// the goroutine waiting for them. Any component with an rsm front can be called so.
//
// A Caller draws each call's ID on the driver's loop goroutine, so the server sees its calls
// numbered in order (it takes a call numbered below an earlier one for a copy). A call
// whose context ends is abandoned: the server's answer then says whether it never left
// (ErrNoLeader, definite) or its outcome is unknown (the context's error). A stream whose
// reader does not keep up loses it, as etcd cancels slow watchers; Relay decodes a
// stream's pushes onto a typed channel.
package front
