// Package bench is a load generator for etcd v3 API servers (Orrery or etcd itself), built on
// the stock go.etcd.io/etcd/client/v3 library so that both systems see the same client.
//
// Run drives one workload (put, get, sget, txn, watch, lease or fill) from a number of
// clients spread over a number of gRPC connections and returns its throughput and latency
// percentiles. `orrery bench` is the command-line front end and scripts/bench.sh (make
// bench) runs it against Orrery and etcd side by side.
//
//	res, err := bench.Run(ctx, bench.Config{Workload: "put", Endpoints: eps, Conns: 8, Clients: 64, Total: 10000})
//	fmt.Println(res)
package bench
