// Package client is a deterministic client of the etcd-like member (node/kvserver): the
// core that finds the leader, follows redirects and retries what is safe to retry, and
// the recipes of etcd's concurrency package on top of it (Session, Mutex, Election).
//
// It follows the component contract (node/component) without being a component itself:
// a host component owns a Client, passes it every input first, makes calls, and returns
// Flush's effects. Results arrive as callbacks run inside Handle, so the host stays a
// plain state machine with no goroutines and no clock of its own.
//
// # Retries
//
// Writes (commands: put, delete, txn, grant, revoke) go one at a time, in call order.
// Each gets a fresh (client, seq) when it is first sent and keeps it across every retry,
// so the members' session table applies it at most once; a write is never re-sent under a
// new identity, and one still unanswered when the next is sent can no longer be applied.
// Reads (range, keep-alive) are retried until answered or forgotten. An attempt that
// gets no answer within Config.Timeout goes to the next server; a redirect goes to the
// leader it names.
//
// # Recipes
//
// A Session is a lease kept alive every TTL/3. A Mutex queues under prefix/<lease-hex>
// with a transaction that creates the key only if absent, and holds the lock once no key
// under the prefix has a lower create revision, watching the deletion of the key just
// before its own (and re-reading every 250ms, since pushes may be lost). Its key's create
// revision is the fencing token: Mutex.Fenced guards a transaction with it, so a holder
// whose lease expired cannot write after its successor took over. An Election is the
// same queue with the candidate's value in the key.
//
//	cl := client.New(client.Config{ID: id, Servers: servers})
//	client.NewSession(cl, 2, func(s *client.Session, err error) {
//		m := client.NewMutex(s, "lock/")
//		m.Lock(func(token int64, err error) {
//			put := kv.RequestOp{Put: &kv.PutRequest{Key: []byte("resource"), Value: []byte("x")}}
//			m.Fenced([]kv.RequestOp{put}, func(*kv.TxnResponse, error) { m.Unlock(func(error) {}) })
//		})
//	})
//	return cl.Flush() // from the host's Handle, after cl.Handle(now, in)
package client
